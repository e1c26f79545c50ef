//! What each fuzz target does with its input, shared by the cargo-fuzz targets (nightly, in
//! `fuzz_targets/`) and by `tests/fuzz_corpora.rs`, which replays every saved corpus input on
//! stable. Each function must never panic, whatever the bytes; the decoders must also stay within
//! their limits.

use std::sync::OnceLock;

use awsguard::aws::{MemberHints, Protocol};
use awsguard::inspect::decode::{extract, DecodeInput, DecodeLimits, Skimmer, PLACEHOLDER};
use awsguard::inspect::{Field, FieldKind, ScanContext, Scanner};

/// What a target runs on one input.
pub type Target = fn(&[u8]);

/// Every target: its name (the corpus directory) and what it runs.
pub const TARGETS: &[(&str, Target)] = &[
    ("client_hello", client_hello),
    ("decode_query", decode_query),
    ("decode_json", decode_json),
    ("skim_json", skim_json),
    ("decode_xml", decode_xml),
    ("decode_cbor", decode_cbor),
    ("decode_s3_headers", decode_s3_headers),
    ("decode_gzip", decode_gzip),
    ("sigv4", sigv4),
    ("detectors", detectors),
];

/// The ClientHello reader, on the first bytes of a tunnel.
pub fn client_hello(data: &[u8]) {
    let _ = awsguard::tls::parse_client_hello(data);
}

/// A body decoded as `protocol`, with small limits so depth and field caps are exercised.
fn decode(protocol: Protocol, data: &[u8], headers: &http::HeaderMap) {
    let hints = MemberHints::default();
    let limits = DecodeLimits {
        max_depth: 16,
        max_fields: 256,
        max_decompressed: 1 << 20,
    };
    let input = DecodeInput {
        protocol,
        method: "POST",
        path: "/",
        query: None,
        headers,
        body: Some(data),
        hints: &hints,
    };
    if let Ok(fields) = extract(&input, &limits) {
        assert!(fields.len() <= limits.max_fields, "field cap passed");
    }
}

/// Form bodies (query and EC2 protocols) and the same bytes as a query string.
pub fn decode_query(data: &[u8]) {
    let headers = http::HeaderMap::new();
    decode(Protocol::Query, data, &headers);
    if let Ok(query) = std::str::from_utf8(data) {
        let hints = MemberHints::default();
        let input = DecodeInput {
            protocol: Protocol::Ec2,
            method: "GET",
            path: "/",
            query: Some(query),
            headers: &headers,
            body: None,
            hints: &hints,
        };
        let _ = extract(&input, &DecodeLimits::default());
    }
}

/// JSON bodies (json and rest-json protocols).
pub fn decode_json(data: &[u8]) {
    let headers = http::HeaderMap::new();
    decode(Protocol::Json, data, &headers);
    decode(Protocol::RestJson, data, &headers);
}

/// XML bodies (rest-xml).
pub fn decode_xml(data: &[u8]) {
    decode(Protocol::RestXml, data, &http::HeaderMap::new());
}

/// CBOR bodies (rpcv2-cbor).
pub fn decode_cbor(data: &[u8]) {
    decode(Protocol::RpcV2Cbor, data, &http::HeaderMap::new());
}

/// S3-style headers: `x-amz-tagging`, `x-amz-meta-*`, made of the input's lines.
pub fn decode_s3_headers(data: &[u8]) {
    let mut headers = http::HeaderMap::new();
    for line in data.split(|&b| b == b'\n').take(32) {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => (&b"x-amz-tagging"[..], line),
        };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    let hints = MemberHints::default();
    let input = DecodeInput {
        protocol: Protocol::RestXml,
        method: "PUT",
        path: "/bucket/key",
        query: None,
        headers: &headers,
        body: None,
        hints: &hints,
    };
    let _ = extract(&input, &DecodeLimits::default());
}

/// A `Content-Encoding: gzip` JSON body: the inflate bound must hold.
pub fn decode_gzip(data: &[u8]) {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_ENCODING,
        http::HeaderValue::from_static("gzip"),
    );
    decode(Protocol::Json, data, &headers);
}

/// SigV4: the Authorization header and presigned query strings.
pub fn sigv4(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = awsguard::aws::sigv4::parse_authorization(text, None);
    let _ = awsguard::aws::sigv4::parse_presigned(text);
}

/// Every detector (and its prefilter) over one free-text field.
pub fn detectors(data: &[u8]) {
    static SCANNER: OnceLock<Option<Scanner>> = OnceLock::new();
    let Some(scanner) = SCANNER.get_or_init(|| Scanner::new(&Default::default()).ok()) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let ctx = ScanContext {
        service: Some("sqs"),
        operation: Some("TagQueue"),
    };
    let field = Field::new("body:Tags[0].Value", FieldKind::FreeText, text.as_ref());
    let mut findings = Vec::new();
    scanner.scan_field(&ctx, field.view(), &mut findings);
}

/// A JSON body skimmed in two pieces (cut where the first byte says) against the same body
/// decoded whole: when the whole body decodes, the skimmed one must decode to the same fields
/// with payload values replaced; payload members must never hide any other field.
pub fn skim_json(data: &[u8]) {
    static HINTS: OnceLock<MemberHints> = OnceLock::new();
    let hints = HINTS.get_or_init(|| MemberHints {
        tags: vec!["Tags".into()],
        payloads: vec!["ZipFile".into(), "Item".into()],
        ..MemberHints::default()
    });
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(body.len());
    let mut skimmer = Skimmer::new(hints, 1 << 20);
    skimmer.feed(&body[..cut]);
    skimmer.feed(&body[cut..]);
    let skimmed = skimmer.finish();
    let headers = http::HeaderMap::new();
    let fields = |body: &[u8]| {
        let input = DecodeInput {
            protocol: Protocol::Json,
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: Some(body),
            hints,
        };
        extract(&input, &DecodeLimits::default())
    };
    let whole = fields(body);
    // What the skimmer refuses (a bad string in a payload member, nesting past the cap) the
    // decoder refuses too: no legitimate call is lost to skimming.
    assert!(
        skimmed.is_ok() || whole.is_err(),
        "skimming refused a valid body"
    );
    let (Ok(skimmed), Ok(whole)) = (skimmed, whole) else {
        return;
    };
    let judged: Vec<Field> = whole
        .into_iter()
        .map(|mut f| {
            if f.kind == FieldKind::Payload {
                f.value = PLACEHOLDER.to_owned();
            }
            f
        })
        .collect();
    assert_eq!(fields(&skimmed).ok(), Some(judged), "skimmed fields differ");
}
