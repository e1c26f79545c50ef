//! End-to-end tests of [`super::extract`] on requests serialized by botocore (bodies in
//! `tests/testdata/decode/`), limits, and no-panic properties for every decoder.

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::*;
use crate::inspect::FieldKind;

const SQS_FORM: &[u8] = include_bytes!("../../../tests/testdata/decode/sqs-create-queue.form");
const SQS_JSON: &[u8] = include_bytes!("../../../tests/testdata/decode/sqs-create-queue.json");
const EC2_RUN: &[u8] = include_bytes!("../../../tests/testdata/decode/ec2-run-instances.form");
const S3_TAGGING: &[u8] =
    include_bytes!("../../../tests/testdata/decode/s3-put-bucket-tagging.xml");
const LAMBDA: &[u8] = include_bytes!("../../../tests/testdata/decode/lambda-create-function.json");
const ECS_TAG: &[u8] = include_bytes!("../../../tests/testdata/decode/ecs-tag-resource.json");
const DDB_TAG: &[u8] = include_bytes!("../../../tests/testdata/decode/dynamodb-tag-resource.json");
const CW_PUT: &[u8] =
    include_bytes!("../../../tests/testdata/decode/cloudwatch-put-metric-data.form");

/// A request to decode; headers are given as pairs.
struct Req {
    protocol: Protocol,
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

impl Req {
    fn post(protocol: Protocol, content_type: &'static str, body: &[u8]) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(content_type));
        headers.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Signature=00"),
        );
        headers.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
        Req {
            protocol,
            method: "POST",
            path: "/",
            query: None,
            headers,
            body: Some(body.to_vec()),
        }
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.append(name, HeaderValue::from_static(value));
        self
    }

    fn run_with(
        &self,
        hints: &MemberHints,
        limits: &DecodeLimits,
    ) -> Result<Vec<Field>, DecodeError> {
        let input = DecodeInput {
            protocol: self.protocol,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: self.body.as_deref(),
            hints,
        };
        extract(&input, limits)
    }

    fn run(&self) -> Result<Vec<Field>, DecodeError> {
        self.run_with(&MemberHints::default(), &DecodeLimits::default())
    }
}

fn f(location: &str, kind: FieldKind, value: &str) -> Field {
    Field::new(location, kind, value)
}

fn tv(location: &str, key: &str, value: &str) -> Field {
    let mut field = Field::new(location, FieldKind::TagValue, value);
    field.tag_key = Some(key.to_owned());
    field
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// SQS CreateQueue fields after `prefix`: the name, then the attribute, then the two tags at
/// the locations given.
fn sqs_fields(prefix: Vec<Field>, attribute: Vec<Field>, tags: [&str; 4]) -> Vec<Field> {
    let mut fields = prefix;
    fields.push(f("body:QueueName", FieldKind::Name, "orders-alice"));
    fields.extend(attribute);
    fields.extend([
        f(tags[0], FieldKind::TagKey, "owner"),
        tv(tags[1], "owner", "alice@example.com"),
        f(tags[2], FieldKind::TagKey, "team"),
        tv(tags[3], "team", "payments"),
    ]);
    fields
}

#[test]
fn sqs_create_queue_query() {
    let req = Req::post(
        Protocol::Query,
        "application/x-www-form-urlencoded; charset=utf-8",
        SQS_FORM,
    );
    let attribute = vec![
        f("body:Attributes.1.key", FieldKind::Other, "DelaySeconds"),
        f("body:Attributes.1.value", FieldKind::Other, "5"),
    ];
    let tags = [
        "body:tags.1.key",
        "body:tags.1.value",
        "body:tags.2.key",
        "body:tags.2.value",
    ];
    assert_eq!(req.run().unwrap(), sqs_fields(vec![], attribute, tags));
}

#[test]
fn sqs_create_queue_json() {
    let req = Req::post(Protocol::Json, "application/x-amz-json-1.0", SQS_JSON)
        .header("x-amz-target", "AmazonSQS.CreateQueue")
        .header("x-amzn-query-mode", "true");
    let header = vec![f("header:x-amzn-query-mode", FieldKind::Header, "true")];
    let attribute = vec![f("body:Attributes.DelaySeconds", FieldKind::Other, "5")];
    let tags = [
        "body:tags.owner",
        "body:tags.owner",
        "body:tags.team",
        "body:tags.team",
    ];
    assert_eq!(req.run().unwrap(), sqs_fields(header, attribute, tags));
}

#[test]
fn sqs_create_queue_cbor() {
    use ciborium::value::Value;
    let text = |s: &str| Value::Text(s.to_owned());
    let value = Value::Map(vec![
        (text("QueueName"), text("orders-alice")),
        (
            text("Attributes"),
            Value::Map(vec![(text("DelaySeconds"), text("5"))]),
        ),
        (
            text("tags"),
            Value::Map(vec![
                (text("owner"), text("alice@example.com")),
                (text("team"), text("payments")),
            ]),
        ),
    ]);
    let mut body = Vec::new();
    ciborium::ser::into_writer(&value, &mut body).unwrap();
    let mut req = Req::post(Protocol::RpcV2Cbor, "application/cbor", &body)
        .header("smithy-protocol", "rpc-v2-cbor");
    req.path = "/service/AmazonSQS/operation/CreateQueue";
    let path = vec![f(
        "path:",
        FieldKind::Path,
        "/service/AmazonSQS/operation/CreateQueue",
    )];
    let attribute = vec![f("body:Attributes.DelaySeconds", FieldKind::Other, "5")];
    let tags = [
        "body:tags.owner",
        "body:tags.owner",
        "body:tags.team",
        "body:tags.team",
    ];
    assert_eq!(req.run().unwrap(), sqs_fields(path, attribute, tags));
}

#[test]
fn ec2_run_instances_tag_specifications() {
    let req = Req::post(
        Protocol::Ec2,
        "application/x-www-form-urlencoded; charset=utf-8",
        EC2_RUN,
    );
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("body:ImageId", FieldKind::Other, "ami-0abc"),
            f("body:MinCount", FieldKind::Other, "1"),
            f("body:MaxCount", FieldKind::Other, "1"),
            f(
                "body:TagSpecification.1.ResourceType",
                FieldKind::Other,
                "instance"
            ),
            f(
                "body:TagSpecification.1.Tag.1.Key",
                FieldKind::TagKey,
                "Name"
            ),
            tv("body:TagSpecification.1.Tag.1.Value", "Name", "web-1"),
            f(
                "body:TagSpecification.1.Tag.2.Key",
                FieldKind::TagKey,
                "contact"
            ),
            tv(
                "body:TagSpecification.1.Tag.2.Value",
                "contact",
                "+1 555 010 9999"
            ),
        ]
    );
}

#[test]
fn s3_put_bucket_tagging_xml_without_content_type() {
    let mut req = Req::post(Protocol::RestXml, "x", S3_TAGGING);
    req.headers.remove("content-type");
    req.method = "PUT";
    req.path = "/my-bucket";
    req.query = Some("tagging");
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("path:", FieldKind::Path, "/my-bucket"),
            f("body:Tagging.TagSet.Tag[0].Key", FieldKind::TagKey, "owner"),
            tv(
                "body:Tagging.TagSet.Tag[0].Value",
                "owner",
                "bob@example.com"
            ),
            f(
                "body:Tagging.TagSet.Tag[1].Key",
                FieldKind::TagKey,
                "cost-center"
            ),
            tv("body:Tagging.TagSet.Tag[1].Value", "cost-center", "42"),
        ]
    );
}

#[test]
fn s3_put_object_tagging_header_and_unparsed_body() {
    let mut req = Req::post(
        Protocol::RestXml,
        "application/octet-stream",
        b"<not>parsed</not>",
    )
    .header("x-amz-tagging", "owner=frank%40example.com&project=blue")
    .header("x-amz-meta-note", "hello")
    .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    .header("x-amz-checksum-crc32", "AAAAAA==");
    req.method = "PUT";
    req.path = "/bucket/reports/q1%202026.pdf";
    req.query = Some("x-id=PutObject&X-Amz-Signature=abc&X-Amz-Credential=AKIA");
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("header:x-amz-tagging[owner]", FieldKind::TagKey, "owner"),
            tv("header:x-amz-tagging[owner]", "owner", "frank@example.com"),
            f(
                "header:x-amz-tagging[project]",
                FieldKind::TagKey,
                "project"
            ),
            tv("header:x-amz-tagging[project]", "project", "blue"),
            f("header:x-amz-meta-note", FieldKind::Header, "hello"),
            f("path:", FieldKind::Path, "/bucket/reports/q1 2026.pdf"),
            f("query:x-id", FieldKind::Query, "PutObject"),
        ]
    );
}

#[test]
fn lambda_create_function_rest_json() {
    let mut req = Req::post(Protocol::RestJson, "application/json", LAMBDA);
    req.path = "/2015-03-31/functions";
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("path:", FieldKind::Path, "/2015-03-31/functions"),
            f("body:FunctionName", FieldKind::Name, "resize"),
            f(
                "body:Role",
                FieldKind::Other,
                "arn:aws:iam::123456789012:role/r"
            ),
            f("body:Code.S3Bucket", FieldKind::Other, "code"),
            f("body:Code.S3Key", FieldKind::Other, "fn.zip"),
            f(
                "body:Description",
                FieldKind::FreeText,
                "Resizes images for carol@example.com"
            ),
            f("body:Tags.owner", FieldKind::TagKey, "owner"),
            tv("body:Tags.owner", "owner", "carol"),
            f(
                "body:Environment.Variables.HOOK",
                FieldKind::Other,
                "https://u:p@hooks.example.com/x"
            ),
        ]
    );
}

#[test]
fn rest_json_payloads_that_are_not_json_are_not_parsed() {
    let req = Req::post(
        Protocol::RestJson,
        "application/octet-stream",
        b"\x00\x01binary",
    );
    assert_eq!(req.run().unwrap(), vec![]);
    let mut untyped = Req::post(Protocol::RestJson, "x", b"{\"Name\":\"n\"}");
    untyped.headers.remove("content-type");
    assert_eq!(
        untyped.run().unwrap(),
        vec![f("body:Name", FieldKind::Name, "n")]
    );
}

#[test]
fn ecs_tags_with_lower_case_key_value() {
    let req = Req::post(Protocol::Json, "application/x-amz-json-1.1", ECS_TAG);
    assert_eq!(
        req.run().unwrap(),
        vec![
            f(
                "body:resourceArn",
                FieldKind::Other,
                "arn:aws:ecs:us-east-1:123456789012:cluster/c"
            ),
            f("body:tags[0].key", FieldKind::TagKey, "owner"),
            tv("body:tags[0].value", "owner", "dave@example.com"),
        ]
    );
}

#[test]
fn dynamodb_tag_resource() {
    let req = Req::post(Protocol::Json, "application/x-amz-json-1.0", DDB_TAG);
    assert_eq!(
        req.run().unwrap(),
        vec![
            f(
                "body:ResourceArn",
                FieldKind::Other,
                "arn:aws:dynamodb:us-east-1:123456789012:table/t"
            ),
            f("body:Tags[0].Key", FieldKind::TagKey, "owner"),
            tv("body:Tags[0].Value", "owner", "erin"),
        ]
    );
}

#[test]
fn cloudwatch_gzip_body() {
    let req = Req::post(
        Protocol::Query,
        "application/x-www-form-urlencoded",
        &gzip(CW_PUT),
    )
    .header("content-encoding", "gzip");
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("body:Namespace", FieldKind::Other, "App"),
            f(
                "body:MetricData.member.1.MetricName",
                FieldKind::Name,
                "Latency"
            ),
            f(
                "body:MetricData.member.1.Dimensions.member.1.Name",
                FieldKind::Name,
                "Host"
            ),
            f(
                "body:MetricData.member.1.Dimensions.member.1.Value",
                FieldKind::Other,
                "h1"
            ),
            f("body:MetricData.member.1.Value", FieldKind::Other, "1.5"),
        ]
    );
}

#[test]
fn query_protocol_get_reads_the_query_string() {
    let mut req = Req::post(Protocol::Query, "x", b"");
    req.method = "GET";
    req.query = Some(
        "Action=Subscribe&TopicArn=arn&Endpoint=https%3A%2F%2Fh%2F%3Ftoken%3Ds&X-Amz-Signature=1",
    );
    assert_eq!(
        req.run().unwrap(),
        vec![
            f("query:TopicArn", FieldKind::Other, "arn"),
            f("query:Endpoint", FieldKind::Other, "https://h/?token=s"),
        ]
    );
}

#[test]
fn hints_classify_unusual_members() {
    let body = br#"{"Labels":{"env":"prod"},"Alias":"a","Notes":"n","Name":"x"}"#;
    let req = Req::post(Protocol::Json, "application/x-amz-json-1.1", body);
    let hints = MemberHints {
        tags: vec!["Labels".into()],
        names: vec!["Alias".into()],
        free_text: vec!["Notes".into()],
        ..MemberHints::default()
    };
    assert_eq!(
        req.run_with(&hints, &DecodeLimits::default()).unwrap(),
        vec![
            f("body:Labels.env", FieldKind::TagKey, "env"),
            tv("body:Labels.env", "env", "prod"),
            f("body:Alias", FieldKind::Name, "a"),
            f("body:Notes", FieldKind::FreeText, "n"),
            f("body:Name", FieldKind::Name, "x"),
        ]
    );
}

#[test]
fn no_body_means_no_body_fields() {
    let mut req = Req::post(Protocol::Json, "application/x-amz-json-1.0", b"");
    req.body = None;
    assert_eq!(req.run().unwrap(), vec![]);
    let blank = Req::post(Protocol::Json, "application/x-amz-json-1.0", b"  \n");
    assert_eq!(blank.run().unwrap(), vec![]);
}

#[test]
fn limits_surface_as_errors() {
    let deep_json = "[".repeat(65) + &"]".repeat(65);
    let req = Req::post(
        Protocol::Json,
        "application/x-amz-json-1.0",
        deep_json.as_bytes(),
    );
    assert_eq!(req.run(), Err(DecodeError::TooDeep));
    let deep_xml = "<a>".repeat(65) + &"</a>".repeat(65);
    let req = Req::post(Protocol::RestXml, "application/xml", deep_xml.as_bytes());
    assert_eq!(req.run(), Err(DecodeError::TooDeep));
    let many = Req::post(
        Protocol::Json,
        "application/x-amz-json-1.0",
        br#"{"a":"1","b":"2","c":"3"}"#,
    );
    let limits = DecodeLimits {
        max_fields: 2,
        ..DecodeLimits::default()
    };
    assert_eq!(
        many.run_with(&MemberHints::default(), &limits),
        Err(DecodeError::TooManyFields)
    );
}

#[test]
fn depth_limit_is_capped() {
    let limits = DecodeLimits {
        max_depth: usize::MAX,
        ..DecodeLimits::default()
    };
    let ok = "<a>".repeat(256) + &"</a>".repeat(256);
    let req = Req::post(Protocol::RestXml, "application/xml", ok.as_bytes());
    assert_eq!(req.run_with(&MemberHints::default(), &limits), Ok(vec![]));
    let deep = "<a>".repeat(257) + &"</a>".repeat(257);
    let req = Req::post(Protocol::RestXml, "application/xml", deep.as_bytes());
    assert_eq!(
        req.run_with(&MemberHints::default(), &limits),
        Err(DecodeError::TooDeep)
    );
}

#[test]
fn gzip_bomb_is_refused() {
    let bomb = gzip(&vec![b'a'; 64 << 20]);
    let req = Req::post(Protocol::Query, "application/x-www-form-urlencoded", &bomb)
        .header("content-encoding", "gzip");
    assert_eq!(req.run(), Err(DecodeError::DecompressedTooLarge));
}

#[test]
fn invalid_bodies_are_typed_errors_without_content() {
    let cbor = Req::post(Protocol::RpcV2Cbor, "application/cbor", b"\xbf\x61");
    let err = cbor.run().unwrap_err();
    assert_eq!(err, DecodeError::InvalidCbor { offset: 2 });
    let json = Req::post(
        Protocol::Json,
        "application/x-amz-json-1.0",
        b"{\"password\": hunter2}",
    );
    let err = json.run().unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let bad_gzip = Req::post(Protocol::Query, "x", b"Action=X").header("content-encoding", "gzip");
    assert_eq!(bad_gzip.run(), Err(DecodeError::InvalidGzip));
    let chunked =
        Req::post(Protocol::RestXml, "x", b"5\r\nhello").header("content-encoding", "aws-chunked");
    assert_eq!(chunked.run(), Err(DecodeError::UnsupportedEncoding));
}

#[test]
fn unknown_protocol_goes_by_content_type() {
    let json = Req::post(
        Protocol::Unknown,
        "application/json",
        br#"{"Description":"d"}"#,
    );
    assert_eq!(
        json.run().unwrap(),
        vec![f("body:Description", FieldKind::FreeText, "d")]
    );
    let text = Req::post(Protocol::Unknown, "text/plain", b"Description=d");
    assert_eq!(text.run().unwrap(), vec![]);
}

#[test]
fn every_prefix_of_captured_bodies_decodes_or_errors() {
    let cases: [(Protocol, &str, &[u8]); 5] = [
        (
            Protocol::Query,
            "application/x-www-form-urlencoded",
            SQS_FORM,
        ),
        (Protocol::Ec2, "application/x-www-form-urlencoded", EC2_RUN),
        (Protocol::Json, "application/x-amz-json-1.0", SQS_JSON),
        (Protocol::RestJson, "application/json", LAMBDA),
        (Protocol::RestXml, "application/xml", S3_TAGGING),
    ];
    for (protocol, content_type, body) in cases {
        for end in 0..body.len() {
            let mut req = Req::post(protocol, "x", &body[..end]);
            req.headers
                .insert("content-type", HeaderValue::from_static(content_type));
            match req.run() {
                Ok(fields) => assert!(fields.len() <= 8, "{protocol} {end}"),
                Err(e) => assert!(
                    matches!(
                        e,
                        DecodeError::InvalidJson { .. } | DecodeError::InvalidXml { .. }
                    ),
                    "{protocol} {end} {e}"
                ),
            }
        }
    }
}

#[test]
fn debug_output_hides_request_data() {
    let req = Req::post(
        Protocol::Json,
        "application/x-amz-json-1.0",
        b"{\"Name\":\"hunter2\"}",
    )
    .header("x-amz-security-token", "sessiontoken");
    let hints = MemberHints::default();
    let input = DecodeInput {
        protocol: req.protocol,
        method: req.method,
        path: "/secret-path",
        query: Some("X-Amz-Signature=sig"),
        headers: &req.headers,
        body: req.body.as_deref(),
        hints: &hints,
    };
    let shown = format!("{input:?}");
    for secret in [
        "hunter2",
        "sessiontoken",
        "secret-path",
        "sig",
        "Signature=00",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("x-amz-security-token"), "{shown}");
    let tree = json::parse(b"{\"Name\":\"hunter2\"}", &mut Budget::new(4, 4)).unwrap();
    assert_eq!(format!("{tree:?}"), "[(4, Str(<7 bytes>))]");
}

/// Throughput of `extract` on ~1 MiB bodies of each format (run with `--ignored --nocapture`).
#[test]
#[ignore = "measurement, not a check"]
fn measure_throughput() {
    let tags: Vec<serde_json::Value> = (0..12_000)
        .map(|i| serde_json::json!({"Key": format!("key-{i}"), "Value": format!("value {i} for someone@example.com")}))
        .collect();
    let json =
        serde_json::to_vec(&serde_json::json!({"ResourceArn": "arn", "Tags": tags})).unwrap();
    let mut cbor = Vec::new();
    ciborium::ser::into_writer(
        &serde_json::json!({"ResourceArn": "arn", "Tags": tags}),
        &mut cbor,
    )
    .unwrap();
    let xml: String = std::iter::once("<Tagging><TagSet>".to_owned())
        .chain((0..9_000).map(|i| {
            format!("<Tag><Key>key-{i}</Key><Value>value {i} for someone@example.com</Value></Tag>")
        }))
        .chain(std::iter::once("</TagSet></Tagging>".to_owned()))
        .collect();
    let form: String = (1..=9_000)
        .map(|i| format!("Tags.member.{i}.Key=key-{i}&Tags.member.{i}.Value=value+{i}+for+someone%40example.com&"))
        .collect();
    let cases: [(Protocol, &str, &[u8]); 4] = [
        (Protocol::Json, "application/x-amz-json-1.0", &json),
        (Protocol::RpcV2Cbor, "application/cbor", &cbor),
        (Protocol::RestXml, "application/xml", xml.as_bytes()),
        (
            Protocol::Query,
            "application/x-www-form-urlencoded",
            form.as_bytes(),
        ),
    ];
    let limits = DecodeLimits {
        max_fields: 100_000,
        ..DecodeLimits::default()
    };
    for (protocol, content_type, body) in cases {
        let req = Req::post(protocol, content_type, body);
        let started = std::time::Instant::now();
        let rounds = 5;
        let mut count = 0;
        for _ in 0..rounds {
            count = req
                .run_with(&MemberHints::default(), &limits)
                .unwrap()
                .len();
        }
        let secs = started.elapsed().as_secs_f64() / f64::from(rounds);
        let mib = body.len() as f64 / f64::from(1 << 20);
        println!(
            "{protocol}: {mib:.2} MiB, {count} fields, {:.1} ms, {:.1} MiB/s",
            secs * 1e3,
            mib / secs
        );
    }
    let small: [(Protocol, &str, &[u8]); 3] = [
        (
            Protocol::Query,
            "application/x-www-form-urlencoded",
            SQS_FORM,
        ),
        (Protocol::RestJson, "application/json", LAMBDA),
        (Protocol::RestXml, "application/xml", S3_TAGGING),
    ];
    for (protocol, content_type, body) in small {
        let req = Req::post(protocol, content_type, body);
        let rounds = 10_000u32;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(req.run().unwrap());
        }
        let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
        println!("{protocol} ({} bytes): {micros:.1} us per call", body.len());
    }
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let req = Req::post(Protocol::Query, "application/x-www-form-urlencoded", &bomb)
        .header("content-encoding", "gzip");
    let started = std::time::Instant::now();
    assert_eq!(req.run(), Err(DecodeError::DecompressedTooLarge));
    println!(
        "gzip bomb ({} bytes, 64 MiB inflated): refused in {:.1} ms",
        bomb.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
}

const PROTOCOLS: [Protocol; 7] = [
    Protocol::Query,
    Protocol::Ec2,
    Protocol::Json,
    Protocol::RestJson,
    Protocol::RestXml,
    Protocol::RpcV2Cbor,
    Protocol::Unknown,
];

proptest! {
    #[test]
    fn every_decoder_survives_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let budget = || Budget::new(64, 1000);
        let _ = json::parse(&body, &mut budget());
        let _ = xml::parse(&body, &mut budget());
        let _ = cbor::parse(&body, &mut budget());
        let _ = gzip::gunzip(&body, 4096);
        let hints = MemberHints::default();
        let limits = form::FormLimits { max_depth: 64, max_pairs: 1000 };
        let _ = sink::collect(&hints, 1000, |sink| form::extract(&body, "body:", limits, sink));
    }

    #[test]
    fn extract_survives_arbitrary_requests(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        protocol in 0..PROTOCOLS.len(),
        path in ".{0,40}",
        query in ".{0,40}",
        tagging in ".{0,40}",
        content_type in prop_oneof![Just("application/json"), Just("application/xml"), Just("application/cbor"), Just("application/x-www-form-urlencoded")],
        gzipped in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(content_type));
        if let Ok(value) = HeaderValue::from_str(&tagging) {
            headers.insert("x-amz-tagging", value);
        }
        let body = if gzipped {
            headers.insert("content-encoding", HeaderValue::from_static("gzip"));
            gzip(&body)
        } else {
            body
        };
        let hints = MemberHints::default();
        let input = DecodeInput {
            protocol: PROTOCOLS[protocol],
            method: "POST",
            path: &path,
            query: Some(&query),
            headers: &headers,
            body: Some(&body),
            hints: &hints,
        };
        let limits = DecodeLimits { max_fields: 100, ..DecodeLimits::default() };
        let extracted = extract(&input, &limits);
        if let Ok(fields) = &extracted {
            prop_assert!(fields.len() <= 100);
            prop_assert!(fields.iter().all(|field| !field.value.is_empty()));
        }
        // The streaming path the engine takes sees the same fields, and the scanner finds the
        // same things in them one at a time as in the whole list.
        let scanner = crate::inspect::Scanner::new(&crate::inspect::RulesConfig::default()).unwrap();
        let ctx = crate::inspect::ScanContext::default();
        let mut streamed = Vec::new();
        let mut findings = Vec::new();
        let visited = visit(&input, &limits, &mut |field| {
            scanner.scan_field(&ctx, field, &mut findings);
            streamed.push(field.to_field());
        });
        match (extracted, visited) {
            (Ok(fields), Ok(())) => {
                prop_assert_eq!(&scanner.scan(&ctx, &fields), &findings);
                prop_assert_eq!(fields, streamed);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "extract {:?} but visit {:?}", a.map(|f| f.len()), b),
        }
    }

    #[test]
    fn cbor_of_any_json_shape_decodes(value in json_value()) {
        let mut body = Vec::new();
        ciborium::ser::into_writer(&value, &mut body).unwrap();
        let from_cbor = cbor::parse(&body, &mut Budget::new(64, 100_000));
        let text = value.to_string();
        let from_json = json::parse(text.as_bytes(), &mut Budget::new(64, 100_000));
        prop_assert_eq!(from_cbor, from_json);
    }
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::vec(("[a-z]{1,4}", inner), 0..8)
                .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
        ]
    })
}
