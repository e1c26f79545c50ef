//! The embedded AWS service models: per service its protocols, signing name, endpoint prefix and
//! JSON target prefix; per operation its HTTP route, whether its input streams, and member hints.
//!
//! The data is `data/models.bin`, derived from botocore's service models (Apache-2.0) by
//! `tools/gen_models.py` (format: `data/models.md`). On first use ([`models`]) only the small
//! service header is inflated; a service's operations are inflated and parsed the first time
//! that service is looked at. Everything is then shared read-only. Called by
//! [`crate::aws::identify`].

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use super::routes::{Rank, RouteRequest, RouteSpec, RouteTable};
use super::{MemberHints, Protocol};

/// The generated table (about 230 KB; 1.3 MB of text once inflated).
static MODELS_BIN: &[u8] = include_bytes!("../../data/models.bin");

/// First bytes of the table, with the format version.
const MAGIC: &[u8; 16] = b"AWSGUARD-MODELS\x02";

/// Upper bound on any inflated part, so a corrupt blob cannot exhaust memory.
const MAX_TEXT: u64 = 4 * 1024 * 1024;

/// Why the embedded table could not be loaded (only possible after a bad regeneration).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not a models table of this format version.
    #[error("models table: {0}")]
    Format(&'static str),
    /// A deflate stream is corrupt.
    #[error("models table does not inflate")]
    Inflate(#[source] std::io::Error),
    /// A line does not have the expected shape.
    #[error("models table line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

/// One operation of a service model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Operation name as in the model and in CloudTrail (`CreateQueue`).
    pub name: String,
    /// HTTP method of the REST route (`POST` for RPC protocols).
    pub method: String,
    /// Request URI template (`/{Bucket}/{Key+}?x-id=GetObject`).
    pub request_uri: String,
    /// Query parameters the input requires (REST): part of the route.
    pub required_query: Vec<String>,
    /// Headers the input requires (REST, lowercase): part of the route.
    pub required_headers: Vec<String>,
    /// The input has a streaming payload (object data, event stream): do not buffer the body.
    pub streaming: bool,
    /// Deprecated in favour of another operation on the same route (S3 `GetBucketLifecycle`).
    pub deprecated: bool,
    /// Members of the input by purpose: tags, names, free text, secrets, URLs, contacts, payloads.
    pub hints: MemberHints,
}

/// One AWS service as described by its latest botocore model.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    /// botocore's model name (`sqs`, `s3control`, `cloudwatch`).
    pub name: String,
    /// Wire protocols the service accepts, preferred first.
    pub protocols: Vec<Protocol>,
    /// SigV4 signing name: the `<name>.amazonaws.com` event source.
    pub signing_name: String,
    /// First label(s) of the regional hostname (`monitoring`, `api.ecr`).
    pub endpoint_prefix: String,
    /// `X-Amz-Target` prefix for json, and the Smithy service name in rpcv2-cbor paths.
    pub target_prefix: Option<String>,
    /// The model's `serviceId` (`CloudWatch`, `S3 Control`).
    pub service_id: String,
    /// The service's deflated `O` lines, inflated and parsed on first use.
    compressed: Vec<u8>,
    parsed: OnceLock<Operations>,
}

/// A service's operations, sorted by name, and their REST routes.
#[derive(Debug, Clone, Default)]
struct Operations {
    list: Vec<Operation>,
    routes: RouteTable,
}

impl ServiceModel {
    /// Operations, sorted by name.
    pub fn operations(&self) -> &[Operation] {
        &self.parsed().list
    }

    /// The operation with this exact name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        let list = self.operations();
        list.binary_search_by(|op| op.name.as_str().cmp(name))
            .ok()
            .and_then(|i| list.get(i))
    }

    /// The REST operation a method + raw path + raw query is (rest-json / rest-xml services).
    pub fn route(&self, request: &RouteRequest<'_>) -> Option<(&Operation, Rank)> {
        let parsed = self.parsed();
        let (i, rank) = parsed.routes.route_ranked(request)?;
        parsed.list.get(i).map(|op| (op, rank))
    }

    /// Parse the operations now, reporting the first bad line (tests and regeneration checks;
    /// lookups parse lazily and treat a bad table as having no operations).
    pub fn check(&self) -> Result<usize, ModelError> {
        self.parse_operations().map(|ops| ops.list.len())
    }

    fn parsed(&self) -> &Operations {
        self.parsed
            .get_or_init(|| self.parse_operations().unwrap_or_default())
    }

    fn parse_operations(&self) -> Result<Operations, ModelError> {
        let text = inflate(&self.compressed)?;
        let mut list = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let err = ModelError::Line {
                line: index + 1,
                reason: "bad O line",
            };
            let cols: Vec<&str> = line.strip_prefix("O\t").ok_or(err)?.split('\t').collect();
            list.push(parse_operation(&cols).ok_or(ModelError::Line {
                line: index + 1,
                reason: "bad O line",
            })?);
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let routes = if self.speaks(Protocol::RestJson) || self.speaks(Protocol::RestXml) {
            RouteTable::new(list.iter().map(|op| RouteSpec {
                method: &op.method,
                template: &op.request_uri,
                required_query: &op.required_query,
                required_headers: &op.required_headers,
                deprecated: op.deprecated,
            }))
        } else {
            RouteTable::default()
        };
        Ok(Operations { list, routes })
    }

    /// Whether the service speaks this protocol.
    pub fn speaks(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }
}

/// All service models, with lookup indexes.
#[derive(Debug, Default)]
pub struct Models {
    services: Vec<ServiceModel>,
    by_name: HashMap<String, usize>,
    by_signing_name: HashMap<String, Vec<usize>>,
    by_endpoint_prefix: HashMap<String, Vec<usize>>,
    by_target_prefix: HashMap<String, Vec<usize>>,
}

/// The embedded models, parsed on first call. A corrupt table (a build problem, caught by the
/// tests) yields an empty set rather than a panic: identification then falls back to headers.
pub fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| Models::from_bytes(MODELS_BIN).unwrap_or_default())
}

impl Models {
    /// Read a table in the `data/models.bin` format: magic, header length (u32 LE), deflated
    /// header of `S` lines, then the services' deflated operation chunks.
    pub fn from_bytes(blob: &[u8]) -> Result<Models, ModelError> {
        let rest = blob
            .strip_prefix(MAGIC.as_slice())
            .ok_or(ModelError::Format("bad magic"))?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(ModelError::Format("truncated"))?;
        let len = usize::try_from(u32::from_le_bytes(*len))
            .map_err(|_| ModelError::Format("header too long"))?;
        let header = rest
            .get(..len)
            .ok_or(ModelError::Format("truncated header"))?;
        let chunks = rest.get(len..).unwrap_or_default();
        Models::parse_header(&inflate(header)?, chunks)
    }

    /// Parse the header text; each `S` line names its chunk by offset and length in `chunks`.
    fn parse_header(text: &str, chunks: &[u8]) -> Result<Models, ModelError> {
        let mut services: Vec<ServiceModel> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let err = |reason| ModelError::Line {
                line: index + 1,
                reason,
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line
                .strip_prefix("S\t")
                .ok_or_else(|| err("not an S line"))?
                .split('\t')
                .collect();
            let [meta @ .., offset, len] = cols.as_slice() else {
                return Err(err("bad S line"));
            };
            let mut service = parse_service(meta).ok_or_else(|| err("bad S line"))?;
            let start: usize = offset.parse().map_err(|_| err("bad chunk offset"))?;
            let len: usize = len.parse().map_err(|_| err("bad chunk length"))?;
            service.compressed = start
                .checked_add(len)
                .and_then(|end| chunks.get(start..end))
                .ok_or_else(|| err("chunk out of range"))?
                .to_vec();
            services.push(service);
        }
        Ok(Models::index(services))
    }

    fn index(services: Vec<ServiceModel>) -> Models {
        let mut models = Models::default();
        for (i, s) in services.iter().enumerate() {
            models.by_name.insert(s.name.clone(), i);
            push(&mut models.by_signing_name, &s.signing_name, i);
            push(&mut models.by_endpoint_prefix, &s.endpoint_prefix, i);
            if let Some(target) = &s.target_prefix {
                push(&mut models.by_target_prefix, target, i);
            }
        }
        models.services = services;
        models
    }

    /// Every service, in model-name order.
    pub fn services(&self) -> &[ServiceModel] {
        &self.services
    }

    /// The service with this botocore model name (`s3control`).
    pub fn service(&self, name: &str) -> Option<&ServiceModel> {
        self.by_name.get(name).and_then(|&i| self.services.get(i))
    }

    /// Services signed with this SigV4 service name (`ses` → ses, sesv2, pinpoint-email, …).
    pub fn by_signing_name(&self, signing_name: &str) -> Vec<&ServiceModel> {
        self.lookup(&self.by_signing_name, signing_name)
    }

    /// Services whose regional hostname starts with this endpoint prefix.
    pub fn by_endpoint_prefix(&self, prefix: &str) -> Vec<&ServiceModel> {
        self.lookup(&self.by_endpoint_prefix, prefix)
    }

    /// Services whose `X-Amz-Target` prefix (or Smithy service name) is this.
    pub fn by_target_prefix(&self, target: &str) -> Vec<&ServiceModel> {
        self.lookup(&self.by_target_prefix, target)
    }

    fn lookup(&self, index: &HashMap<String, Vec<usize>>, key: &str) -> Vec<&ServiceModel> {
        index
            .get(key)
            .map(|ids| ids.iter().filter_map(|&i| self.services.get(i)).collect())
            .unwrap_or_default()
    }
}

fn push(index: &mut HashMap<String, Vec<usize>>, key: &str, i: usize) {
    index.entry(key.to_owned()).or_default().push(i);
}

fn parse_service(cols: &[&str]) -> Option<ServiceModel> {
    let [name, protocols, signing, prefix, target, service_id] = cols else {
        return None;
    };
    let protocols = protocols
        .split(',')
        .map(protocol_from_model)
        .collect::<Option<Vec<_>>>()?;
    Some(ServiceModel {
        name: (*name).to_owned(),
        protocols,
        signing_name: (*signing).to_owned(),
        endpoint_prefix: (*prefix).to_owned(),
        target_prefix: optional(target).map(str::to_owned),
        service_id: (*service_id).to_owned(),
        compressed: Vec::new(),
        parsed: OnceLock::new(),
    })
}

fn parse_operation(cols: &[&str]) -> Option<Operation> {
    let [name, method, uri, flags, tags, names, free, query, headers, secrets, urls, contacts, payloads] =
        cols
    else {
        return None;
    };
    Some(Operation {
        name: (*name).to_owned(),
        method: (*method).to_owned(),
        request_uri: (*uri).to_owned(),
        required_query: list(query),
        required_headers: list(headers),
        streaming: flags.contains('s'),
        deprecated: flags.contains('d'),
        hints: MemberHints {
            tags: list(tags),
            names: list(names),
            free_text: list(free),
            secrets: list(secrets),
            urls: list(urls),
            contacts: list(contacts),
            payloads: list(payloads),
        },
    })
}

fn inflate(deflated: &[u8]) -> Result<String, ModelError> {
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(MAX_TEXT)
        .read_to_string(&mut text)
        .map_err(ModelError::Inflate)?;
    Ok(text)
}

/// A protocol named as in the table (`rpcv2-cbor`, `rest-json`, …).
pub fn protocol_from_model(name: &str) -> Option<Protocol> {
    Some(match name {
        "query" => Protocol::Query,
        "ec2" => Protocol::Ec2,
        "json" => Protocol::Json,
        "rest-json" => Protocol::RestJson,
        "rest-xml" => Protocol::RestXml,
        "rpcv2-cbor" | "smithy-rpc-v2-cbor" => Protocol::RpcV2Cbor,
        _ => return None,
    })
}

fn optional(col: &str) -> Option<&str> {
    (col != "-").then_some(col)
}

fn list(col: &str) -> Vec<String> {
    optional(col)
        .map(|c| c.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_with_every_service() {
        let models = Models::from_bytes(MODELS_BIN).unwrap();
        assert_eq!(models.services().len(), 424);
        let ops: usize = models.services().iter().map(|s| s.check().unwrap()).sum();
        assert_eq!(ops, 18378);
    }

    #[test]
    fn sqs_speaks_json_and_query() {
        let sqs = models().service("sqs").unwrap();
        assert_eq!(sqs.protocols, vec![Protocol::Json, Protocol::Query]);
        assert_eq!(sqs.target_prefix.as_deref(), Some("AmazonSQS"));
        assert_eq!(
            sqs.operation("CreateQueue").unwrap().hints.tags,
            vec!["tags"]
        );
        assert_eq!(
            sqs.operation("CreateQueue").unwrap().hints.names,
            vec!["QueueName"]
        );
    }

    #[test]
    fn cloudwatch_speaks_cbor_json_and_query() {
        let cw = models().service("cloudwatch").unwrap();
        assert_eq!(
            cw.protocols,
            vec![Protocol::RpcV2Cbor, Protocol::Json, Protocol::Query]
        );
        assert_eq!(cw.endpoint_prefix, "monitoring");
        assert_eq!(
            cw.target_prefix.as_deref(),
            Some("GraniteServiceVersion20100801")
        );
    }

    #[test]
    fn s3_put_object_streams_and_has_tagging_header() {
        let put = models()
            .service("s3")
            .unwrap()
            .operation("PutObject")
            .unwrap();
        assert!(put.streaming);
        assert_eq!(put.request_uri, "/{Bucket}/{Key+}");
        assert_eq!(put.hints.tags, vec!["Tagging", "x-amz-tagging"]);
        assert!(
            !models()
                .service("s3")
                .unwrap()
                .operation("PutBucketTagging")
                .unwrap()
                .streaming
        );
    }

    #[test]
    fn ec2_run_instances_lists_tag_specifications() {
        let run = models()
            .service("ec2")
            .unwrap()
            .operation("RunInstances")
            .unwrap();
        assert!(run.hints.tags.contains(&"TagSpecifications".to_owned()));
        assert!(run.hints.free_text.contains(&"Description".to_owned()));
    }

    #[test]
    fn tag_pairs_in_any_casing_and_lowercase_names() {
        let kms = models()
            .service("kms")
            .unwrap()
            .operation("CreateKey")
            .unwrap();
        assert_eq!(kms.hints.tags, vec!["Tags"]); // [{TagKey, TagValue}]
        let ecs = models().service("ecs").unwrap();
        let register = ecs.operation("RegisterTaskDefinition").unwrap();
        assert_eq!(register.hints.tags, vec!["tags"]); // [{key, value}]
        assert!(register.hints.names.contains(&"name".to_owned()));
        let lambda = models()
            .service("lambda")
            .unwrap()
            .operation("CreateFunction")
            .unwrap();
        assert_eq!(lambda.hints.tags, vec!["Tags"]); // map<string, string>
        assert_eq!(lambda.hints.free_text, vec!["Description"]);
    }

    #[test]
    fn shared_signing_names_list_every_service() {
        let names: Vec<&str> = models()
            .by_signing_name("s3")
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, vec!["s3", "s3control"]);
        let names: Vec<&str> = models()
            .by_endpoint_prefix("monitoring")
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, vec!["cloudwatch"]);
    }

    fn deflate(text: &str) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    /// A table in the `models.bin` format from header lines (without chunk columns) and the
    /// operation lines of each service.
    fn table(services: &[(&str, &str)]) -> Vec<u8> {
        let (mut header, mut chunks) = (String::from("# test\n"), Vec::new());
        for (line, ops) in services {
            let chunk = deflate(ops);
            header.push_str(&format!("{line}\t{}\t{}\n", chunks.len(), chunk.len()));
            chunks.extend(chunk);
        }
        let head = deflate(&header);
        let mut blob = MAGIC.to_vec();
        blob.extend(u32::try_from(head.len()).unwrap().to_le_bytes());
        blob.extend(head);
        blob.extend(chunks);
        blob
    }

    #[test]
    fn bad_tables_are_errors_not_panics() {
        assert!(matches!(
            Models::from_bytes(b"not a table"),
            Err(ModelError::Format("bad magic"))
        ));
        assert!(matches!(
            Models::from_bytes(MAGIC),
            Err(ModelError::Format("truncated"))
        ));
        let bad_protocol = table(&[("S\tx\tbogus\tx\tx\t-\tX", "")]);
        assert!(matches!(
            Models::from_bytes(&bad_protocol),
            Err(ModelError::Line { line: 2, .. })
        ));
        let mut out_of_range = table(&[("S\tx\tjson\tx\tx\t-\tX", "O\tA")]);
        out_of_range.pop();
        assert!(matches!(
            Models::from_bytes(&out_of_range),
            Err(ModelError::Line {
                reason: "chunk out of range",
                ..
            })
        ));
    }

    #[test]
    fn bad_operation_lines_are_reported_by_check_and_skipped_by_lookups() {
        let ok = "O\tA\tPOST\t/\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n";
        let blob = table(&[
            ("S\tx\tjson\tx\tx\t-\tX", &format!("{ok}O\tbad\n")),
            ("S\ty\tjson\ty\ty\tY\tY", ok),
        ]);
        let models = Models::from_bytes(&blob).unwrap();
        let x = models.service("x").unwrap();
        assert!(matches!(x.check(), Err(ModelError::Line { line: 2, .. })));
        assert!(x.operations().is_empty());
        assert_eq!(models.service("y").unwrap().check().unwrap(), 1);
        assert_eq!(
            models.by_target_prefix("Y")[0]
                .operation("A")
                .unwrap()
                .method,
            "POST"
        );
    }

    #[test]
    #[ignore = "timing: cargo test --lib parse_time -- --ignored --nocapture (optimised build)"]
    fn parse_time_is_a_few_milliseconds() {
        let start = std::time::Instant::now();
        let models = Models::from_bytes(MODELS_BIN).unwrap();
        let header = start.elapsed();
        let sqs = std::time::Instant::now();
        let ops = models.service("sqs").unwrap().operations().len();
        let sqs = sqs.elapsed();
        let all = std::time::Instant::now();
        let total: usize = models.services().iter().map(|s| s.check().unwrap()).sum();
        let all = all.elapsed();
        eprintln!("models start-up: {header:?} ({} services); first sqs lookup: {sqs:?} ({ops} ops); every service: {all:?} ({total} ops)", models.services().len());
        assert!(header < std::time::Duration::from_millis(20));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_header_text_never_panics(text in ".{0,400}", chunks in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let _ = Models::parse_header(&text, &chunks);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Models::from_bytes(&bytes);
            let mut blob = MAGIC.to_vec();
            blob.extend(&bytes);
            let _ = Models::from_bytes(&blob);
        }

        #[test]
        fn arbitrary_operation_chunks_never_panic(ops in ".{0,400}") {
            let blob = table(&[("S\tx\trest-json\tx\tx\t-\tX", &ops)]);
            if let Ok(models) = Models::from_bytes(&blob) {
                let _ = models.service("x").map(|s| s.operations().len());
            }
        }
    }
}
