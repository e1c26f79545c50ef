//! AWS request identification: which service, operation, region and wire protocol a request is.
//!
//! Called by the proxy for every intercepted request (and by `awsguard inspect`). Everything here
//! is pure: it looks only at the request head and embedded AWS metadata.

pub mod customer;
pub mod endpoints;
pub mod host;

pub use endpoints::partition_dns_suffixes;

use std::fmt;

pub mod identify;
pub mod models;
pub mod routes;
pub mod sigv4;

/// The six AWS wire protocols, named as in the Smithy/botocore service models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// `application/x-www-form-urlencoded` with `Action=` (SQS legacy, SNS, IAM, STS, …).
    Query,
    /// The EC2 dialect of the query protocol.
    Ec2,
    /// `application/x-amz-json-1.0/1.1` with `X-Amz-Target`.
    Json,
    /// REST routes with JSON bodies.
    RestJson,
    /// REST routes with XML bodies (S3, Route 53, CloudFront).
    RestXml,
    /// Smithy RPC v2 with CBOR bodies.
    #[serde(rename = "rpcv2-cbor")]
    RpcV2Cbor,
    /// Not recognised.
    Unknown,
}

impl Protocol {
    /// The name used in events and in the service models.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Query => "query",
            Protocol::Ec2 => "ec2",
            Protocol::Json => "json",
            Protocol::RestJson => "rest-json",
            Protocol::RestXml => "rest-xml",
            Protocol::RpcV2Cbor => "rpcv2-cbor",
            Protocol::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the service model says about an operation's input members, for field classification.
///
/// Member names are the model's own (`Tags`, `TagSpecifications`, `QueueName`, `Description`) and
/// match at any depth of the input. Decoders fall back to name heuristics for members not listed
/// here (and for services missing from the models).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberHints {
    /// Members holding tags: Key/Value lists in any casing, string maps, EC2 tag specifications.
    pub tags: Vec<String>,
    /// Free-form name members (`Name`, `*Name`).
    pub names: Vec<String>,
    /// Free-text members (`Description` and similar).
    pub free_text: Vec<String>,
    /// Members that hold a secret on purpose (Secrets Manager `SecretString`, passwords, SDK-made
    /// presigned URLs). A hint `Member?Sibling=Value` applies only when the sibling member holds
    /// that value (SSM `Value?Type=SecureString`).
    pub secrets: Vec<String>,
    /// Configuration URLs (webhooks, endpoints, connection strings).
    pub urls: Vec<String>,
    /// Members that must hold an email address or phone number (SES destinations, SNS
    /// subscription endpoints), or containers of them (Cognito `UserAttributes`).
    pub contacts: Vec<String>,
    /// Members whose value is application data (message bodies, DynamoDB items, blobs), or
    /// containers of it.
    pub payloads: Vec<String>,
}
