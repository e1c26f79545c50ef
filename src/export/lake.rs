//! `--parquet DIR`: OCSF records as Parquet files in Amazon Security Lake's custom-source layout,
//! `DIR/ext/<source>/region=<region>/accountId=<account>/eventDay=<yyyymmdd>/<file>.parquet`.
//!
//! Security Lake wants one OCSF class per custom source, so API Activity and Detection Finding
//! records go to two sources ([`source_name`]), each file sorted by time. The Parquet schema is
//! inferred from the records of each file (objects become groups, arrays three-level LISTs,
//! integers INT64, other numbers DOUBLE, a field seen with two incompatible types JSON text) and
//! written with the `parquet` crate's column writers, shredding the JSON values into definition
//! and repetition levels here: the Arrow layer would have tripled the build time of the feature.
//! Files are written to a temporary name and renamed, so a crawler never reads half a file.
//!
//! Called by `awsguard export --parquet`, `exec --parquet` ([`write`]) and `run --parquet`
//! ([`LakeSink`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};
use serde_json::Value;

use super::{API_ACTIVITY, DETECTION_FINDING};
use crate::events::{Event, Observer};

/// Records `run` holds before writing them out (Parquet files cannot be appended to): about
/// 20 MB of JSON values.
pub const MAX_PENDING: usize = 10_000;

/// Why Parquet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// A directory or file could not be created.
    #[error("cannot write {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet encoder refused the data.
    #[error("cannot encode Parquet for {path}: {message}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What the encoder said.
        message: String,
    },
    /// The account is not usable as a partition value.
    #[error(
        "--parquet-account {0:?}: expected an AWS account id or a Security Lake external id \
         (letters, digits, '-' and '_', at most 64)"
    )]
    Account(String),
}

/// Where the Parquet files go and the `accountId` partition they are filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeLayout {
    /// The directory that stands for the Security Lake bucket (`ext/` is created in it).
    pub dir: PathBuf,
    /// The account id (or external id) the custom source was registered with.
    pub account: String,
}

impl LakeLayout {
    /// A layout, refusing accounts that would not make a single safe path component.
    pub fn new(dir: PathBuf, account: &str) -> Result<Self, LakeError> {
        if !is_partition_value(account) {
            return Err(LakeError::Account(account.to_owned()));
        }
        Ok(LakeLayout {
            dir,
            account: account.to_owned(),
        })
    }
}

fn is_partition_value(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The custom source an OCSF class is written under.
pub fn source_name(class_uid: u64) -> String {
    match u32::try_from(class_uid) {
        Ok(API_ACTIVITY) => "awsguard-api-activity".to_owned(),
        Ok(DETECTION_FINDING) => "awsguard-detection-finding".to_owned(),
        _ => format!("awsguard-class-{class_uid}"),
    }
}

/// The partition directory of a record, relative to the layout's directory. The region comes
/// from the request, so anything but a plain region name is filed as `unknown`.
pub fn partition(record: &Value, account: &str) -> PathBuf {
    let class = record["class_uid"].as_u64().unwrap_or(0);
    let region = record["cloud"]["region"]
        .as_str()
        .filter(|r| {
            r.len() <= 32
                && !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .unwrap_or("unknown");
    let day = record["time"]
        .as_i64()
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok())
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    PathBuf::from("ext")
        .join(source_name(class))
        .join(format!("region={region}"))
        .join(format!("accountId={account}"))
        .join(format!(
            "eventDay={:04}{:02}{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        ))
}

/// Writes `records` as Parquet under `layout`, one file per partition, each sorted by time;
/// returns the files written.
pub fn write(layout: &LakeLayout, records: &[Value]) -> Result<Vec<PathBuf>, LakeError> {
    let mut groups: BTreeMap<PathBuf, Vec<&Value>> = BTreeMap::new();
    for record in records {
        groups
            .entry(partition(record, &layout.account))
            .or_default()
            .push(record);
    }
    let mut written = Vec::with_capacity(groups.len());
    for (dir, mut group) in groups {
        group.sort_by_key(|r| r["time"].as_i64().unwrap_or(0));
        let dir = layout.dir.join(dir);
        std::fs::create_dir_all(&dir).map_err(|source| LakeError::Io {
            path: dir.clone(),
            source,
        })?;
        written.push(write_file(&dir, &group)?);
    }
    Ok(written)
}

/// One file in `dir`, named after the first record's time plus a random suffix so that two
/// writers (two `exec`s, one `run` flushing twice) never collide.
fn write_file(dir: &Path, records: &[&Value]) -> Result<PathBuf, LakeError> {
    let first = records
        .first()
        .and_then(|r| r["time"].as_i64())
        .unwrap_or(0);
    let mut suffix = [0u8; 6];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("awsguard-{first}-{suffix}.parquet"));
    let io = |source| LakeError::Io {
        path: path.clone(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".awsguard-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    encode(records, tmp.as_file_mut()).map_err(|e| LakeError::Encode {
        path: path.clone(),
        message: e.to_string(),
    })?;
    tmp.persist(&path).map_err(|e| io(e.error))?;
    Ok(path)
}

/// A node of the schema inferred from the records.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(Kind),
    Struct(Vec<(String, Node)>),
    List(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Double,
    Text,
    /// Seen with incompatible types: written as JSON text.
    Json,
}

/// The schema of one value; `None` for null, empty objects and empty arrays (no column).
fn infer(value: &Value) -> Option<Node> {
    match value {
        Value::Null => None,
        Value::Bool(_) => Some(Node::Leaf(Kind::Bool)),
        Value::Number(n) if n.is_i64() => Some(Node::Leaf(Kind::Int)),
        Value::Number(_) => Some(Node::Leaf(Kind::Double)),
        Value::String(_) => Some(Node::Leaf(Kind::Text)),
        Value::Array(items) => items
            .iter()
            .filter_map(infer)
            .reduce(merge)
            .map(|e| Node::List(Box::new(e))),
        Value::Object(map) => {
            let children: Vec<_> = map
                .iter()
                .filter_map(|(k, v)| infer(v).map(|n| (k.clone(), n)))
                .collect();
            (!children.is_empty()).then_some(Node::Struct(children))
        }
    }
}

fn merge(a: Node, b: Node) -> Node {
    match (a, b) {
        (Node::Leaf(x), Node::Leaf(y)) if x == y => Node::Leaf(x),
        (Node::Leaf(Kind::Int | Kind::Double), Node::Leaf(Kind::Int | Kind::Double)) => {
            Node::Leaf(Kind::Double)
        }
        (Node::Struct(mut xs), Node::Struct(ys)) => {
            for (name, y) in ys {
                match xs.iter().position(|(n, _)| *n == name) {
                    Some(i) => {
                        let x = std::mem::replace(&mut xs[i].1, Node::Leaf(Kind::Json));
                        xs[i].1 = merge(x, y);
                    }
                    None => xs.push((name, y)),
                }
            }
            Node::Struct(xs)
        }
        (Node::List(x), Node::List(y)) => Node::List(Box::new(merge(*x, *y))),
        _ => Node::Leaf(Kind::Json),
    }
}

/// Leaf columns under a node.
fn width(node: &Node) -> usize {
    match node {
        Node::Leaf(_) => 1,
        Node::Struct(children) => children.iter().map(|(_, c)| width(c)).sum(),
        Node::List(element) => width(element),
    }
}

fn parquet_type(name: &str, node: &Node) -> Result<TypePtr, ParquetError> {
    Ok(Arc::new(match node {
        Node::Leaf(kind) => {
            let (physical, logical) = match kind {
                Kind::Bool => (Physical::BOOLEAN, None),
                Kind::Int => (Physical::INT64, None),
                Kind::Double => (Physical::DOUBLE, None),
                Kind::Text | Kind::Json => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            };
            Type::primitive_type_builder(name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()?
        }
        Node::Struct(children) => Type::group_type_builder(name)
            .with_repetition(Repetition::OPTIONAL)
            .with_fields(
                children
                    .iter()
                    .map(|(n, c)| parquet_type(n, c))
                    .collect::<Result<_, _>>()?,
            )
            .build()?,
        Node::List(element) => {
            let list = Type::group_type_builder("list")
                .with_repetition(Repetition::REPEATED)
                .with_fields(vec![parquet_type("element", element)?])
                .build()?;
            Type::group_type_builder(name)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(Some(LogicalType::List))
                .with_fields(vec![Arc::new(list)])
                .build()?
        }
    }))
}

/// One leaf column's values and levels, as the column writer takes them.
#[derive(Debug)]
struct Column {
    kind: Kind,
    bools: Vec<bool>,
    ints: Vec<i64>,
    doubles: Vec<f64>,
    bytes: Vec<ByteArray>,
    defs: Vec<i16>,
    reps: Vec<i16>,
}

impl Column {
    fn new(kind: Kind) -> Self {
        Column {
            kind,
            bools: Vec::new(),
            ints: Vec::new(),
            doubles: Vec::new(),
            bytes: Vec::new(),
            defs: Vec::new(),
            reps: Vec::new(),
        }
    }

    fn null(&mut self, def: i16, rep: i16) {
        self.defs.push(def);
        self.reps.push(rep);
    }

    /// A value at `def`; a value the inferred kind cannot hold (impossible after inference) is
    /// written as absent.
    fn value(&mut self, value: &Value, def: i16, rep: i16) {
        let stored = match (self.kind, value) {
            (Kind::Bool, Value::Bool(b)) => {
                self.bools.push(*b);
                true
            }
            (Kind::Int, Value::Number(n)) => n.as_i64().map(|i| self.ints.push(i)).is_some(),
            (Kind::Double, Value::Number(n)) => n.as_f64().map(|f| self.doubles.push(f)).is_some(),
            (Kind::Text, Value::String(s)) => {
                self.bytes.push(ByteArray::from(s.as_bytes().to_vec()));
                true
            }
            (Kind::Json, v) => {
                self.bytes.push(ByteArray::from(v.to_string().into_bytes()));
                true
            }
            _ => false,
        };
        self.defs.push(if stored { def } else { def - 1 });
        self.reps.push(rep);
    }
}

fn leaf_columns(node: &Node, out: &mut Vec<Column>) {
    match node {
        Node::Leaf(kind) => out.push(Column::new(*kind)),
        Node::Struct(children) => children.iter().for_each(|(_, c)| leaf_columns(c, out)),
        Node::List(element) => leaf_columns(element, out),
    }
}

/// Record shredding (Dremel): `def` is the definition level of the parent, `rep` the repetition
/// level of the first value written, `depth` the number of repeated ancestors. Every field is
/// optional; a list adds its optional group and its repeated `list` group.
fn shred(node: &Node, value: Option<&Value>, def: i16, rep: i16, depth: i16, cols: &mut [Column]) {
    let value = value.filter(|v| !v.is_null());
    match (node, value) {
        (Node::Leaf(_), Some(v)) => {
            if let Some(col) = cols.first_mut() {
                col.value(v, def + 1, rep);
            }
        }
        (Node::Struct(children), Some(Value::Object(map))) => {
            let mut at = 0;
            for (name, child) in children {
                let w = width(child);
                if let Some(slice) = cols.get_mut(at..at + w) {
                    shred(child, map.get(name), def + 1, rep, depth, slice);
                }
                at += w;
            }
        }
        (Node::List(element), Some(Value::Array(items))) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let r = if i == 0 { rep } else { depth + 1 };
                shred(element, Some(item), def + 2, r, depth + 1, cols);
            }
        }
        (Node::List(_), Some(Value::Array(_))) => {
            cols.iter_mut().for_each(|c| c.null(def + 1, rep))
        }
        _ => cols.iter_mut().for_each(|c| c.null(def, rep)),
    }
}

/// Encodes `records` (one row each) as a Parquet file with one row group, Snappy-compressed.
fn encode(records: &[&Value], out: &mut std::fs::File) -> Result<(), ParquetError> {
    let schema = records
        .iter()
        .filter_map(|r| infer(r))
        .reduce(merge)
        .unwrap_or(Node::Struct(Vec::new()));
    let Node::Struct(fields) = &schema else {
        return Err(ParquetError::General("records are not JSON objects".into()));
    };
    let root = Type::group_type_builder("schema")
        .with_fields(
            fields
                .iter()
                .map(|(n, c)| parquet_type(n, c))
                .collect::<Result<_, _>>()?,
        )
        .build()?;
    let mut cols = Vec::new();
    leaf_columns(&schema, &mut cols);
    for record in records {
        // The root is required: its children start at definition level 0.
        let mut at = 0;
        for (name, child) in fields {
            let w = width(child);
            if let Some(slice) = cols.get_mut(at..at + w) {
                shred(child, record.get(name), 0, 0, 0, slice);
            }
            at += w;
        }
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("awsguard {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = SerializedFileWriter::new(out, Arc::new(root), Arc::new(props))?;
    let mut group = writer.next_row_group()?;
    let mut cols = cols.into_iter();
    while let Some(mut column) = group.next_column()? {
        let col = cols
            .next()
            .ok_or_else(|| ParquetError::General("schema and columns disagree".into()))?;
        let (defs, reps) = (Some(col.defs.as_slice()), Some(col.reps.as_slice()));
        match col.kind {
            Kind::Bool => column
                .typed::<BoolType>()
                .write_batch(&col.bools, defs, reps)?,
            Kind::Int => column
                .typed::<Int64Type>()
                .write_batch(&col.ints, defs, reps)?,
            Kind::Double => column
                .typed::<DoubleType>()
                .write_batch(&col.doubles, defs, reps)?,
            Kind::Text | Kind::Json => column
                .typed::<ByteArrayType>()
                .write_batch(&col.bytes, defs, reps)?,
        };
        column.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}

/// `run --parquet`: collects the OCSF records of live events and writes them out every
/// [`MAX_PENDING`] records (on a thread of its own, since the observer must not block) and at
/// [`LakeSink::finish`].
#[derive(Debug)]
pub struct LakeSink {
    layout: LakeLayout,
    pending: Mutex<Vec<Value>>,
    writers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl LakeSink {
    /// A sink writing under `layout`.
    pub fn new(layout: LakeLayout) -> Arc<Self> {
        Arc::new(LakeSink {
            layout,
            pending: Mutex::new(Vec::new()),
            writers: Mutex::new(Vec::new()),
        })
    }

    /// Where the files go.
    pub fn layout(&self) -> &LakeLayout {
        &self.layout
    }

    /// The recorder observer that feeds this sink.
    pub fn observer(self: &Arc<Self>) -> Observer {
        let sink = Arc::clone(self);
        Arc::new(move |event: &Event| sink.add(super::from_event(event)))
    }

    fn add(&self, records: Vec<Value>) {
        let full = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.extend(records);
            (pending.len() >= MAX_PENDING).then(|| std::mem::take(&mut *pending))
        };
        if let Some(batch) = full {
            let layout = self.layout.clone();
            let handle = std::thread::spawn(move || {
                if let Err(error) = write(&layout, &batch) {
                    tracing::error!(error = %error, "cannot write Parquet");
                }
            });
            if let Ok(mut writers) = self.writers.lock() {
                writers.push(handle);
            }
        }
    }

    /// Writes what is pending and waits for earlier writes; returns the files of this last write.
    pub fn finish(&self) -> Result<Vec<PathBuf>, LakeError> {
        let writers = self
            .writers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for handle in writers {
            let _ = handle.join();
        }
        let batch = self
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        write(&self.layout, &batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partitions_follow_the_security_lake_layout_and_refuse_unsafe_values() {
        let record = json!({"class_uid": 6003, "time": 1_764_579_600_000_i64,
                            "cloud": {"region": "eu-west-1"}});
        assert_eq!(
            partition(&record, "123456789012"),
            Path::new(
                "ext/awsguard-api-activity/region=eu-west-1/accountId=123456789012/eventDay=20251201"
            )
        );
        let odd = json!({"class_uid": 2004, "time": 0, "cloud": {"region": "../../etc"}});
        assert_eq!(
            partition(&odd, "a"),
            Path::new(
                "ext/awsguard-detection-finding/region=unknown/accountId=a/eventDay=19700101"
            )
        );
        assert!(LakeLayout::new("d".into(), "../x").is_err());
        assert!(LakeLayout::new("d".into(), "").is_err());
        assert!(LakeLayout::new("d".into(), "123456789012").is_ok());
    }

    #[test]
    fn schemas_merge_numbers_and_fall_back_to_json_text() {
        let a = infer(&json!({"n": 1, "x": "s", "l": [1], "e": {}, "z": null})).unwrap();
        let b = infer(&json!({"n": 1.5, "x": {"k": 1}, "l": [2.5]})).unwrap();
        assert_eq!(
            merge(a, b),
            Node::Struct(vec![
                ("l".into(), Node::List(Box::new(Node::Leaf(Kind::Double)))),
                ("n".into(), Node::Leaf(Kind::Double)),
                ("x".into(), Node::Leaf(Kind::Json)),
            ])
        );
    }

    #[test]
    fn lists_of_structs_shred_into_levels() {
        // evidences: optional group (LIST) { repeated group list { optional group element {
        //   optional binary a; } } }: max definition level 4, repetition level 1.
        let node = infer(&json!([{"a": "x"}])).unwrap();
        let mut cols = Vec::new();
        leaf_columns(&node, &mut cols);
        for v in [
            json!([{"a": "x"}, {"a": "y"}, {}]),
            json!([]),
            Value::Null,
            json!([null]),
        ] {
            shred(&node, Some(&v), 0, 0, 0, &mut cols);
        }
        assert_eq!(cols[0].defs, [4, 4, 3, 1, 0, 2]);
        assert_eq!(cols[0].reps, [0, 1, 1, 0, 0, 0]);
        assert_eq!(cols[0].bytes.len(), 2);
    }
}
