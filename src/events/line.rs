//! One event as a JSON line, written directly rather than through serde_json's serializer.
//!
//! Every proxied call writes one. Through the derived `Serialize` it cost ~12k instructions, an
//! eighth of a whole keep-alive request, most of it escaping the constant member names byte by
//! byte. Here names are literals and a string value is copied as is when nothing in it needs
//! escaping. Anything else (strings that need escapes, findings, connection details) goes
//! through serde_json itself, so the bytes are exactly those `serde_json::to_writer` writes for
//! the derived `Serialize`; a test holds the two together.

use super::{Decision, Event, EventType};
use crate::inspect::Finding;

/// Appends `event` as one line of JSON (without the newline) to `out`.
pub(super) fn write(event: &Event, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"eventType\":\"");
    out.extend_from_slice(match event.event_type {
        EventType::ApiCall => b"api-call",
        EventType::Connection => b"connection",
    });
    out.extend_from_slice(b"\",\"eventTime\":");
    string(out, &event.event_time)?;
    out.extend_from_slice(b",\"eventSource\":");
    optional(out, event.event_source.as_deref())?;
    out.extend_from_slice(b",\"eventName\":");
    optional(out, event.event_name.as_deref())?;
    out.extend_from_slice(b",\"awsRegion\":");
    optional(out, event.aws_region.as_deref())?;
    out.extend_from_slice(b",\"requestHost\":");
    string(out, &event.request_host)?;
    out.extend_from_slice(b",\"protocol\":\"");
    out.extend_from_slice(event.protocol.as_str().as_bytes());
    out.extend_from_slice(b"\",\"userAgent\":");
    optional(out, event.user_agent.as_deref())?;
    out.extend_from_slice(b",\"sourceIPAddress\":");
    string(out, &event.source_ip_address)?;
    out.extend_from_slice(b",\"userIdentity\":{\"accessKeyId\":");
    optional(out, event.user_identity.access_key_id.as_deref())?;
    let tls = &event.tls_details;
    out.extend_from_slice(b"},\"tlsDetails\":{\"tlsVersion\":");
    optional(out, tls.tls_version.as_deref())?;
    out.extend_from_slice(b",\"cipherSuite\":");
    optional(out, tls.cipher_suite.as_deref())?;
    out.extend_from_slice(b",\"upstreamTlsVersion\":");
    optional(out, tls.upstream_tls_version.as_deref())?;
    out.extend_from_slice(b",\"upstreamCipherSuite\":");
    optional(out, tls.upstream_cipher_suite.as_deref())?;
    out.extend_from_slice(b"},\"fips\":{\"endpointIsFips\":");
    optional_bool(out, event.fips.endpoint_is_fips);
    out.extend_from_slice(b",\"fipsEndpoint\":");
    optional(out, event.fips.fips_endpoint.as_deref())?;
    out.extend_from_slice(b"},\"findings\":[");
    for (i, finding) in event.findings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        self::finding(out, finding)?;
    }
    out.push(b']');
    out.extend_from_slice(b",\"decision\":\"");
    out.extend_from_slice(match event.decision {
        Decision::Allowed => b"allowed",
        Decision::Blocked => b"blocked",
    });
    out.extend_from_slice(b"\",\"responseStatus\":");
    match event.response_status {
        Some(status) => out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"errorCode\":");
    optional(out, event.error_code.as_deref())?;
    out.extend_from_slice(b",\"errorMessage\":");
    optional(out, event.error_message.as_deref())?;
    out.extend_from_slice(b",\"requestMethod\":");
    optional(out, event.request_method.as_deref())?;
    out.extend_from_slice(b",\"bodyInspected\":");
    optional_bool(out, event.body_inspected);
    if let Some(error) = &event.inspection_error {
        out.extend_from_slice(b",\"inspectionError\":");
        string(out, error)?;
    }
    out.extend_from_slice(b",\"eventID\":");
    string(out, &event.event_id)?;
    out.extend_from_slice(b",\"requestID\":");
    optional(out, event.request_id.as_deref())?;
    out.extend_from_slice(b",\"readOnly\":");
    optional_bool(out, event.read_only);
    out.extend_from_slice(b",\"eventCategory\":");
    optional(out, event.event_category.as_deref())?;
    out.extend_from_slice(b",\"eventVersion\":");
    string(out, &event.event_version)?;
    if let Some(connection) = &event.connection {
        out.extend_from_slice(b",\"connection\":");
        serde_json::to_writer(&mut *out, connection)?;
    }
    if event.customer_endpoint {
        out.extend_from_slice(b",\"customerEndpoint\":true");
    }
    if let Some(id) = &event.customer_endpoint_id {
        out.extend_from_slice(b",\"customerEndpointId\":");
        string(out, id)?;
    }
    if !event.skipped_fields.is_empty() {
        out.extend_from_slice(b",\"skippedFields\":");
        serde_json::to_writer(&mut *out, &event.skipped_fields)?;
    }
    if let Some(id) = &event.exec_id {
        out.extend_from_slice(b",\"execId\":");
        string(out, id)?;
    }
    out.push(b'}');
    Ok(())
}

/// One finding, members in declaration order (most calls have one: the FIPS verdict).
fn finding(out: &mut Vec<u8>, finding: &Finding) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"rule\":");
    string(out, &finding.rule)?;
    out.extend_from_slice(b",\"category\":\"");
    out.extend_from_slice(finding.category.as_str().as_bytes());
    out.extend_from_slice(b"\",\"severity\":\"");
    out.extend_from_slice(finding.severity.as_str().as_bytes());
    out.extend_from_slice(b"\",\"field\":");
    string(out, &finding.field)?;
    out.extend_from_slice(b",\"location\":");
    string(out, &finding.location)?;
    out.extend_from_slice(b",\"excerpt\":");
    string(out, &finding.excerpt)?;
    out.push(b'}');
    Ok(())
}

/// `true`, `false` or `null`.
fn optional_bool(out: &mut Vec<u8>, value: Option<bool>) {
    out.extend_from_slice(match value {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
}

/// A JSON string, or `null`.
fn optional(out: &mut Vec<u8>, value: Option<&str>) -> serde_json::Result<()> {
    match value {
        Some(value) => string(out, value),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// A JSON string: copied between quotes when no byte needs escaping (no control character,
/// quote or backslash; serde_json escapes nothing else), else escaped by serde_json.
fn string(out: &mut Vec<u8>, value: &str) -> serde_json::Result<()> {
    if !needs_escape(value.as_bytes()) {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, value)
    }
}

/// Whether any byte is a control character, a quote or a backslash. Eight bytes at a time, with
/// the classic SWAR tests (a byte below a bound; a byte equal to one): a borrow can only mark a
/// byte above a real match, so "any" is exact.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let equal = |v: u64, b: u8| below(v ^ (ONES * u64::from(b)), 1);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut v = [0; 8];
        v.copy_from_slice(word);
        let v = u64::from_ne_bytes(v);
        if below(v, 0x20) | equal(v, b'"') | equal(v, b'\\') != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::OffsetDateTime;

    use super::*;
    use crate::aws::Protocol;
    use crate::events::{ConnectionDetails, FipsDetails, TlsDetails, UserIdentity};
    use crate::inspect::{Category, Finding, Severity};

    fn line(event: &Event) -> String {
        let mut out = Vec::new();
        write(event, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn serde(event: &Event) -> String {
        serde_json::to_string(event).unwrap()
    }

    /// Every member set, with `text` in every string.
    fn full(text: &str) -> Event {
        let mut event = Event::new(
            EventType::ApiCall,
            text,
            "127.0.0.1",
            OffsetDateTime::UNIX_EPOCH,
        );
        event.event_source = Some(format!("{text}.amazonaws.com"));
        event.event_name = Some(text.to_owned());
        event.aws_region = Some(text.to_owned());
        event.protocol = Protocol::RpcV2Cbor;
        event.user_agent = Some(text.to_owned());
        event.user_identity = UserIdentity {
            access_key_id: Some(text.to_owned()),
        };
        event.tls_details = TlsDetails {
            tls_version: Some(text.to_owned()),
            cipher_suite: Some(text.to_owned()),
            upstream_tls_version: Some(text.to_owned()),
            upstream_cipher_suite: Some(text.to_owned()),
        };
        event.fips = FipsDetails {
            endpoint_is_fips: Some(false),
            fips_endpoint: Some(text.to_owned()),
        };
        let categories = [
            Category::Pii,
            Category::Financial,
            Category::Credential,
            Category::Transport,
            Category::Endpoint,
            Category::Inspection,
        ];
        let severities = [Severity::Low, Severity::Medium, Severity::High];
        event.findings = categories
            .into_iter()
            .zip(severities.into_iter().cycle())
            .map(|(category, severity)| Finding {
                rule: text.to_owned(),
                category,
                severity,
                field: text.to_owned(),
                location: text.to_owned(),
                excerpt: text.to_owned(),
            })
            .collect();
        event.decision = Decision::Blocked;
        event.response_status = Some(403);
        event.request_method = Some("POST".into());
        event.body_inspected = Some(true);
        event.inspection_error = Some(text.to_owned());
        event.customer_endpoint = true;
        event.customer_endpoint_id = Some(text.to_owned());
        event.exec_id = Some(text.to_owned());
        event.skipped_fields = vec![crate::events::SkippedField {
            location: text.to_owned(),
            purpose: text.to_owned(),
        }];
        event.error_code = Some(text.to_owned());
        event.error_message = Some(text.to_owned());
        event.event_id = text.to_owned();
        event.request_id = Some(text.to_owned());
        event.read_only = Some(true);
        event.event_category = Some(text.to_owned());
        event.event_version = text.to_owned();
        event.connection = Some(ConnectionDetails {
            outcome: "upstream-failed".into(),
            server_name: Some(text.to_owned()),
            offered_tls_versions: vec!["TLSv1.3".into()],
            message: Some(text.to_owned()),
            reason: Some(text.to_owned()),
            relay: Some(crate::events::RelayStats {
                bytes_from_client: 1,
                bytes_from_upstream: 2,
                duration_ms: 3,
                close_reason: text.to_owned(),
            }),
        });
        event
    }

    #[test]
    fn every_member_is_written_as_serde_json_writes_it() {
        let long = "a long value that spans more than one sixteen-byte block";
        let late = format!("{long}\u{1f}");
        for text in [
            "plain",
            "",
            "quote \" back \\ slash",
            "tab\tnl\n\u{1}\u{7f}",
            "é→🦀",
            long,
            &late,
        ] {
            let event = full(text);
            assert_eq!(line(&event), serde(&event), "{text:?}");
        }
    }

    #[test]
    fn empty_members_are_written_as_serde_json_writes_them() {
        let mut event = Event::new(
            EventType::Connection,
            "example.com",
            "::1",
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(line(&event), serde(&event));
        event.fips.endpoint_is_fips = Some(true);
        event.body_inspected = Some(false);
        assert_eq!(line(&event), serde(&event));
    }

    #[test]
    fn needs_escape_finds_every_escaped_byte_at_every_offset() {
        // Neighbours include bytes next to the bounds and high bytes: none may pass for a match.
        for fill in [b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff] {
            for len in 1..=24 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut bytes = vec![fill; len];
                        bytes[at] = byte;
                        let want = byte < 0x20 || byte == b'"' || byte == b'\\';
                        assert_eq!(needs_escape(&bytes), want, "{byte:#x} at {at} in {fill:#x}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(text in any::<String>()) {
            let event = full(&text);
            prop_assert_eq!(line(&event), serde(&event));
        }
    }
}
