//! The embedded AWS service models: per service its protocols, signing name, endpoint prefix and
//! JSON target prefix; per operation its HTTP route, whether its input streams, and member hints.
//!
//! The data is `data/models.txt.gz`, derived from botocore's service models (Apache-2.0) by
//! `tools/gen_models.py`. It is decompressed and parsed once, on first use ([`models`]), and
//! then shared read-only. Called by [`crate::aws::identify`] and [`crate::aws::routes`].

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use super::routes::{Rank, RouteRequest, RouteSpec, RouteTable};
use super::{MemberHints, Protocol};

/// The generated table, gzip-compressed (about 180 KB; 1.2 MB of text).
static MODELS_GZ: &[u8] = include_bytes!("../../data/models.txt.gz");

/// Upper bound on the decompressed table, so a corrupt blob cannot exhaust memory.
const MAX_TEXT: u64 = 16 * 1024 * 1024;

/// Why the embedded table could not be loaded (only possible after a bad regeneration).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The gzip stream is corrupt.
    #[error("models table is not valid gzip")]
    Gzip(#[source] std::io::Error),
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
    /// Members of the input that hold tags, names and free text.
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
    /// Operations, sorted by name.
    pub operations: Vec<Operation>,
    /// REST routes of the operations (indexes into `operations`).
    routes: RouteTable,
}

impl ServiceModel {
    /// The operation with this exact name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations
            .binary_search_by(|op| op.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.operations.get(i))
    }

    /// The REST operation a method + raw path + raw query is (rest-json / rest-xml services).
    pub fn route(&self, request: &RouteRequest<'_>) -> Option<(&Operation, Rank)> {
        let (i, rank) = self.routes.route_ranked(request)?;
        self.operations.get(i).map(|op| (op, rank))
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
    MODELS.get_or_init(|| Models::from_gzip(MODELS_GZ).unwrap_or_default())
}

impl Models {
    /// Decompress and parse a gzip-compressed table.
    pub fn from_gzip(gz: &[u8]) -> Result<Models, ModelError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz)
            .take(MAX_TEXT)
            .read_to_string(&mut text)
            .map_err(ModelError::Gzip)?;
        Models::parse(&text)
    }

    /// Parse the text table written by `tools/gen_models.py`.
    pub fn parse(text: &str) -> Result<Models, ModelError> {
        let mut services: Vec<ServiceModel> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let err = |reason| ModelError::Line {
                line: index + 1,
                reason,
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["S", rest @ ..] => {
                    services.push(parse_service(rest).ok_or_else(|| err("bad S line"))?)
                }
                ["O", rest @ ..] => {
                    let op = parse_operation(rest).ok_or_else(|| err("bad O line"))?;
                    let service = services
                        .last_mut()
                        .ok_or_else(|| err("O line before S line"))?;
                    service.operations.push(op);
                }
                _ => return Err(err("unknown line kind")),
            }
        }
        for service in &mut services {
            service.operations.sort_by(|a, b| a.name.cmp(&b.name));
            if service.speaks(Protocol::RestJson) || service.speaks(Protocol::RestXml) {
                service.routes = RouteTable::new(service.operations.iter().map(|op| RouteSpec {
                    method: &op.method,
                    template: &op.request_uri,
                    required_query: &op.required_query,
                    required_headers: &op.required_headers,
                    deprecated: op.deprecated,
                }));
            }
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
        operations: Vec::new(),
        routes: RouteTable::default(),
    })
}

fn parse_operation(cols: &[&str]) -> Option<Operation> {
    let [name, method, uri, flags, tags, names, free, query, headers] = cols else {
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
        },
    })
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
        let models = Models::from_gzip(MODELS_GZ).unwrap();
        assert_eq!(models.services().len(), 424);
        let ops: usize = models.services().iter().map(|s| s.operations.len()).sum();
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

    #[test]
    fn bad_lines_are_errors_not_panics() {
        assert!(matches!(
            Models::parse("O\tX\tGET\t/\t-\t-\t-\t-\t-\t-"),
            Err(ModelError::Line { line: 1, .. })
        ));
        assert!(matches!(
            Models::parse("S\tx\tbogus\tx\tx\t-\tX"),
            Err(ModelError::Line { .. })
        ));
        assert!(matches!(
            Models::from_gzip(b"not gzip"),
            Err(ModelError::Gzip(_))
        ));
    }

    #[test]
    #[ignore = "timing: cargo test --release --lib parse_time -- --ignored --nocapture"]
    fn parse_time_is_a_few_milliseconds() {
        let start = std::time::Instant::now();
        let models = Models::from_gzip(MODELS_GZ).unwrap();
        let elapsed = start.elapsed();
        eprintln!(
            "models parse: {elapsed:?} for {} services",
            models.services().len()
        );
        assert!(elapsed < std::time::Duration::from_millis(50));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let _ = Models::parse(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Models::from_gzip(&bytes);
        }
    }
}
