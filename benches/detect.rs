//! Detector throughput on realistic control-plane request bodies, per wire protocol.
//!
//! Why: the performance target is "detectors scan ≥ 200 MB/s per core on realistic request
//! bodies", and a typical tagged call comes in JSON, query, XML or CBOR. This bench measures it.
//!
//! `cargo bench --bench detect` (release build; criterion prints time and MB/s per benchmark,
//! a filter such as `cargo bench --bench detect -- scan/` selects some). Under
//! `cargo test --all-targets` criterion runs every benchmark once, as a smoke test.
//!
//! Benchmarks, each with the request's wire body length as its throughput (decimal MB/s):
//! - `scan/<case>`: [`Scanner::scan`] over the fields [`extract`] decoded from the request (done
//!   once at setup), with the default rules: the detector cost alone.
//! - `decode+scan/<case>`: [`extract`] then [`Scanner::scan`]: the whole inspection of one body.
//!
//! Cases (bodies built here, deterministically, shaped as the AWS SDKs send them):
//! - `json`: KMS `CreateKey` (JSON 1.1): `Description`, a key policy and 50 `TagKey`/`TagValue` tags;
//! - `query`: IAM `CreateRole` (form-encoded): trust policy, `Description`, `Tags.member.N.Key/Value`;
//! - `rest-xml`: S3 `PutBucketTagging`: 50 tags in a `<Tagging>` document;
//! - `rpcv2-cbor`: CloudWatch `PutMetricAlarm` (Smithy RPC v2 CBOR), same tags and description;
//! - `free-text`: Glue `CreateJob` (JSON 1.1) whose `Description` is ~25 KB of runbook prose — the
//!   worst case for the content detectors, which run on the whole of a free-text field.
//!
//! Content is mostly benign, like real CLI traffic: the tag sets carry one email address, one
//! access key id and one URL with a password among 50 tags; the prose carries one email address
//! and one phone number. Setup checks that exactly those are found, so the bench keeps measuring
//! what it says it does (and pays one-off costs, such as loading the phone-number metadata, before
//! timing starts). Requests go through [`identify`] at setup, as in the proxy, so the decoder sees
//! the protocol and member hints the service model gives.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use std::hint::black_box;
use std::time::Duration;

use awsguard::aws::identify::{identify, member_hints, RequestHead};
use awsguard::aws::{MemberHints, Protocol};
use awsguard::inspect::decode::{extract, DecodeInput, DecodeLimits};
use awsguard::inspect::{Field, RulesConfig, ScanContext, Scanner};

/// AWS's maximum tags per resource, which tag-heavy infrastructure code tends to reach.
const TAG_COUNT: usize = 50;
/// Size of the free-text case's `Description`.
const PROSE_BYTES: usize = 25_000;

/// The three findings every tag set carries.
const TAG_HITS: &[&str] = &["email-address", "aws-access-key-id", "url-credentials"];

/// Tags as real accounts carry them (cost allocation, ownership, automation), three of them
/// holding something a detector must report.
const BASE_TAGS: &[(&str, &str)] = &[
    ("Environment", "production"),
    ("Application", "checkout-api"),
    ("Team", "payments-platform"),
    ("Owner", "jane.doe@example.com"),
    ("CostCenter", "CC-4471"),
    ("BusinessUnit", "retail"),
    ("DataClassification", "confidential"),
    ("Compliance", "pci-dss"),
    ("BackupPolicy", "daily-35d"),
    ("ManagedBy", "terraform"),
    ("TerraformWorkspace", "checkout-prod-eu-west-1"),
    ("GitRepo", "github.com/example-corp/checkout-infra"),
    ("GitCommit", "9f2c1e7b4a3d5f60718293a4b5c6d7e8f9012345"),
    ("CreatedAt", "2024-03-18T09:41:27Z"),
    ("Version", "3.14.2"),
    ("Schedule", "mon-fri 07:00-19:00 Europe/Berlin"),
    ("LegacyDeployKeyId", "AKIA2OGYBAH6QXZ4M3TR"),
    ("Tier", "gold"),
    ("SupportChannel", "#payments-oncall"),
    ("PagerDutyService", "P7X2K9Q"),
    ("kubernetes.io/cluster/prod-eu-1", "owned"),
    ("map-migrated", "mig42817"),
    (
        "ConfigRepo",
        "https://ci-bot:gh5Rk29xPq7w@git.example.com/payments/checkout-config.git",
    ),
    (
        "Dashboard",
        "https://grafana.example.com/d/checkout?orgId=1",
    ),
    ("DependsOn", "orders-queue,inventory-api,fraud-scoring"),
];

/// Words for the generated tags that fill the set up to [`TAG_COUNT`].
const WORDS: &[&str] = &[
    "ingest",
    "billing",
    "search",
    "catalog",
    "fulfilment",
    "ledger",
    "audit",
    "reports",
];

/// The tag set every tag-carrying case sends.
fn tags() -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = BASE_TAGS
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    let mut i = 0;
    while tags.len() < TAG_COUNT {
        let word = WORDS[i % WORDS.len()];
        tags.push(match i % 3 {
            0 => (
                format!("cost:allocation:{word}"),
                format!("{}", 1000 + i * 37),
            ),
            1 => (format!("feature:{word}-v{}", i / 3), "enabled".to_string()),
            _ => (format!("component:{word}"), format!("checkout-{word}-svc")),
        });
        i += 1;
    }
    tags
}

/// A resource description of ordinary length, with a benign URL.
const DESCRIPTION: &str = "Checkout API order processing for the payments platform (eu-west-1). \
     Receives order events from the storefront and fans out to fulfilment; see \
     https://wiki.example.com/payments/checkout/runbook for the on-call runbook. Managed by \
     Terraform, workspace checkout-prod-eu-west-1, module v3.14.2.";

/// Runbook prose of about `len` bytes: numbers, versions, URLs and ids, as operators write it,
/// with one email address and one phone number in the middle.
fn prose(len: usize) -> String {
    let mut out = String::with_capacity(len + 256);
    let mut n = 0usize;
    while out.len() < len {
        let sentence = match n % 7 {
            0 => format!(
                "Step {n}: drain target group tg-{:04x}0a1b2c from the blue fleet and wait 300 \
                 seconds for in-flight requests to finish. ",
                n * 97 % 65536
            ),
            1 => format!(
                "Check the p99 latency panel at https://grafana.example.com/d/checkout-{n}?orgId=1\
                 &from=now-1h; it should stay under 250 ms. "
            ),
            2 => format!(
                "If the error rate exceeds 0.5% for 5 minutes, roll back to release 3.14.{n} with \
                 the deploy pipeline and page the payments on-call. "
            ),
            3 => format!(
                "Snapshot rds-checkout-prod before schema migration {n:03} (ticket PAY-{}); a \
                 restore takes about 40 minutes for 180 GiB. ",
                4000 + n
            ),
            4 => "Telemetry: the collector exports traces to the regional endpoint; sampling is \
                  5% in production and 100% in staging.\n"
                .to_string(),
            5 => "Do not paste customer data or credentials into this document; the vault path \
                  kv/checkout/prod holds what the service needs. "
                .to_string(),
            _ => format!(
                "Capacity on 2024-03-{:02}: {} tasks of 1024 CPU units and 2048 MiB, autoscaling \
                 between 6 and 48.\n",
                n % 28 + 1,
                12 + n % 9
            ),
        };
        out.push_str(&sentence);
        if n == 90 {
            out.push_str(
                "Escalation outside business hours: jane.doe@example.com or +44 20 7946 0958. ",
            );
        }
        n += 1;
    }
    out
}

/// One request as the proxy would see it, with what the scanner must find in it.
struct Case {
    name: &'static str,
    host: &'static str,
    method: &'static str,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The protocol `identify` must recognise (so the intended decoder runs).
    protocol: Protocol,
    /// Rule ids of the expected findings, in field order.
    expected: Vec<&'static str>,
}

/// Headers botocore sends, SigV4-signed for `service` (only the scope matters here).
fn sdk_headers(service: &str, region: &str, extra: &[(&str, &str)]) -> HeaderMap {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240318/{region}/{service}/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, \
         Signature=15fd9d526eb5415b9c93b3c05aac4ecfb74015e1646d9b9856e2276afb8246f4"
    );
    let mut headers = HeaderMap::new();
    let common = [
        ("authorization", auth.as_str()),
        ("x-amz-date", "20240318T094127Z"),
        (
            "user-agent",
            "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 \
             lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard",
        ),
        (
            "amz-sdk-invocation-id",
            "038cd400-c41f-454f-894a-8d8de81c6160",
        ),
        ("amz-sdk-request", "attempt=1; max=3"),
    ];
    for (name, value) in common.iter().chain(extra) {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

/// KMS `CreateKey`, JSON 1.1.
fn json_case() -> Case {
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EnableRootAccess",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*"
        }, {
            "Sid": "AllowCheckoutService",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/checkout-api-task-role"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*"
        }]
    });
    let tags: Vec<_> = tags()
        .into_iter()
        .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
        .collect();
    let body = json!({
        "Description": DESCRIPTION,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Policy": policy.to_string(),
        "Tags": tags,
    });
    Case {
        name: "json",
        host: "kms.eu-west-1.amazonaws.com",
        method: "POST",
        path: "/".to_string(),
        query: None,
        headers: sdk_headers(
            "kms",
            "eu-west-1",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "TrentService.CreateKey"),
            ],
        ),
        body: serde_json::to_vec(&body).unwrap(),
        protocol: Protocol::Json,
        expected: TAG_HITS.to_vec(),
    }
}

/// IAM `CreateRole`, form-encoded query protocol.
fn query_case() -> Case {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}"#;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", "CreateRole")
        .append_pair("Version", "2010-05-08")
        .append_pair("RoleName", "checkout-api-task-role")
        .append_pair("Path", "/service-role/")
        .append_pair("AssumeRolePolicyDocument", trust)
        .append_pair("Description", DESCRIPTION)
        .append_pair("MaxSessionDuration", "3600");
    for (i, (k, v)) in tags().iter().enumerate() {
        form.append_pair(&format!("Tags.member.{}.Key", i + 1), k)
            .append_pair(&format!("Tags.member.{}.Value", i + 1), v);
    }
    Case {
        name: "query",
        host: "iam.amazonaws.com",
        method: "POST",
        path: "/".to_string(),
        query: None,
        headers: sdk_headers(
            "iam",
            "us-east-1",
            &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        ),
        body: form.finish().into_bytes(),
        protocol: Protocol::Query,
        expected: TAG_HITS.to_vec(),
    }
}

/// Escapes text for an XML element.
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// S3 `PutBucketTagging`, REST-XML.
fn rest_xml_case() -> Case {
    let mut body =
        String::from(r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>"#);
    for (k, v) in tags() {
        body.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            xml_text(&k),
            xml_text(&v)
        ));
    }
    body.push_str("</TagSet></Tagging>");
    Case {
        name: "rest-xml",
        host: "checkout-artifacts-prod.s3.eu-west-1.amazonaws.com",
        method: "PUT",
        path: "/".to_string(),
        query: Some("tagging".to_string()),
        headers: sdk_headers(
            "s3",
            "eu-west-1",
            &[
                ("content-type", "application/xml"),
                ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
                (
                    "x-amz-content-sha256",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
            ],
        ),
        body: body.into_bytes(),
        protocol: Protocol::RestXml,
        expected: TAG_HITS.to_vec(),
    }
}

/// CloudWatch `PutMetricAlarm`, Smithy RPC v2 CBOR.
fn cbor_case() -> Case {
    use ciborium::value::Value;
    let text = |s: &str| Value::Text(s.to_string());
    let member = |k: &str, v: Value| (text(k), v);
    let tags = tags()
        .iter()
        .map(|(k, v)| Value::Map(vec![member("Key", text(k)), member("Value", text(v))]))
        .collect();
    let dimension = |name: &str, value: &str| {
        Value::Map(vec![
            member("Name", text(name)),
            member("Value", text(value)),
        ])
    };
    let value = Value::Map(vec![
        member("AlarmName", text("checkout-api-p99-latency-high")),
        member("AlarmDescription", text(DESCRIPTION)),
        member("ActionsEnabled", Value::Bool(true)),
        member(
            "AlarmActions",
            Value::Array(vec![text(
                "arn:aws:sns:eu-west-1:123456789012:payments-oncall-pager",
            )]),
        ),
        member("MetricName", text("TargetResponseTime")),
        member("Namespace", text("AWS/ApplicationELB")),
        member("ExtendedStatistic", text("p99")),
        member(
            "Dimensions",
            Value::Array(vec![
                dimension("LoadBalancer", "app/checkout-api-prod/50dc6c495c0c9188"),
                dimension("TargetGroup", "targetgroup/checkout-api/73e2d6bc24d8a067"),
            ]),
        ),
        member("Period", Value::Integer(60.into())),
        member("EvaluationPeriods", Value::Integer(5.into())),
        member("Threshold", Value::Float(0.25)),
        member("ComparisonOperator", text("GreaterThanThreshold")),
        member("TreatMissingData", text("notBreaching")),
        member("Tags", Value::Array(tags)),
    ]);
    let mut body = Vec::new();
    ciborium::ser::into_writer(&value, &mut body).unwrap();
    Case {
        name: "rpcv2-cbor",
        host: "monitoring.eu-west-1.amazonaws.com",
        method: "POST",
        path: "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm".to_string(),
        query: None,
        headers: sdk_headers(
            "monitoring",
            "eu-west-1",
            &[
                ("content-type", "application/cbor"),
                ("accept", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
        ),
        body,
        protocol: Protocol::RpcV2Cbor,
        expected: TAG_HITS.to_vec(),
    }
}

/// Glue `CreateJob` (JSON 1.1) with a long free-text `Description`.
fn free_text_case() -> Case {
    let body = json!({
        "Name": "checkout-orders-nightly-export",
        "Description": prose(PROSE_BYTES),
        "Role": "arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-checkout",
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": "s3://checkout-glue-scripts-prod/jobs/orders_export.py",
            "PythonVersion": "3"
        },
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "Tags": {"Environment": "production", "Team": "payments-platform", "CostCenter": "CC-4471"}
    });
    Case {
        name: "free-text",
        host: "glue.eu-west-1.amazonaws.com",
        method: "POST",
        path: "/".to_string(),
        query: None,
        headers: sdk_headers(
            "glue",
            "eu-west-1",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "AWSGlue.CreateJob"),
            ],
        ),
        body: serde_json::to_vec(&body).unwrap(),
        protocol: Protocol::Json,
        expected: vec!["email-address", "phone-number"],
    }
}

/// A case ready to run: identified as the proxy would, fields decoded once.
struct Prepared {
    case: Case,
    hints: &'static MemberHints,
    service: Option<String>,
    operation: Option<String>,
    fields: Vec<Field>,
}

impl Prepared {
    fn new(case: Case, scanner: &Scanner) -> Prepared {
        let head = RequestHead {
            method: case.method,
            host: case.host,
            path: &case.path,
            query: case.query.as_deref(),
            headers: &case.headers,
        };
        let identity = identify(&head, Some(&case.body));
        assert_eq!(identity.protocol, case.protocol, "{}", case.name);
        assert!(identity.operation.is_some(), "{}: no operation", case.name);
        let mut prepared = Prepared {
            hints: member_hints(&identity),
            service: identity.service,
            operation: identity.operation,
            fields: Vec::new(),
            case,
        };
        prepared.fields = extract(&prepared.input(), &DecodeLimits::default()).unwrap();
        let found: Vec<String> = scanner
            .scan(&prepared.ctx(), &prepared.fields)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(found, prepared.case.expected, "{}", prepared.case.name);
        prepared
    }

    fn input(&self) -> DecodeInput<'_> {
        DecodeInput {
            protocol: self.case.protocol,
            method: self.case.method,
            path: &self.case.path,
            query: self.case.query.as_deref(),
            headers: &self.case.headers,
            body: Some(&self.case.body),
            hints: self.hints,
        }
    }

    fn ctx(&self) -> ScanContext<'_> {
        ScanContext {
            service: self.service.as_deref(),
            operation: self.operation.as_deref(),
        }
    }

    fn throughput(&self) -> Throughput {
        Throughput::BytesDecimal(self.case.body.len() as u64)
    }
}

fn cases(scanner: &Scanner) -> Vec<Prepared> {
    [
        json_case(),
        query_case(),
        rest_xml_case(),
        cbor_case(),
        free_text_case(),
    ]
    .into_iter()
    .map(|case| Prepared::new(case, scanner))
    .collect()
}

fn detect(c: &mut Criterion) {
    let scanner = Scanner::new(&RulesConfig::default()).unwrap();
    let cases = cases(&scanner);
    let limits = DecodeLimits::default();

    let mut scan = c.benchmark_group("scan");
    for p in &cases {
        scan.throughput(p.throughput());
        scan.bench_function(BenchmarkId::from_parameter(p.case.name), |b| {
            b.iter(|| scanner.scan(&p.ctx(), black_box(&p.fields)));
        });
    }
    scan.finish();

    let mut full = c.benchmark_group("decode+scan");
    for p in &cases {
        full.throughput(p.throughput());
        full.bench_function(BenchmarkId::from_parameter(p.case.name), |b| {
            b.iter(|| {
                let fields = extract(black_box(&p.input()), &limits).unwrap();
                scanner.scan(&p.ctx(), &fields)
            });
        });
    }
    full.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = detect
}
criterion_main!(benches);
