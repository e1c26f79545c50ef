//! The AWS-shaped error bodies awsguard answers with, one per wire protocol, so AWS CLIs and
//! SDKs print `An error occurred (AwsGuardPolicyViolation) when calling the X operation: ...`.
//! Pure: protocol and message in, response bytes out.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::aws::Protocol;

/// Error code of a refused call.
pub(crate) const VIOLATION_CODE: &str = "AwsGuardPolicyViolation";
/// Error code when awsguard could not reach or trust the upstream.
pub(crate) const UPSTREAM_CODE: &str = "AwsGuardUpstreamError";

/// A response awsguard itself answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Content-Type.
    pub content_type: &'static str,
    /// Extra headers (`x-amzn-ErrorType`, `smithy-protocol`).
    pub headers: Vec<(&'static str, HeaderValue)>,
    /// Body bytes.
    pub body: Bytes,
}

/// Renders an error in the wire format of `protocol`.
pub(crate) fn error_response(
    protocol: Protocol,
    status: StatusCode,
    code: &str,
    message: &str,
) -> ErrorResponse {
    let sender = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let error_type = HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("Error"));
    let (content_type, headers, body) = match protocol {
        Protocol::Query => (
            "text/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{sender}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>awsguard</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::Ec2 => (
            "text/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>awsguard</RequestID></Response>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::RestXml => (
            "application/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>awsguard</RequestId></Error>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::RpcV2Cbor => (
            "application/cbor",
            vec![("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"))],
            cbor_error(code, message),
        ),
        Protocol::Json | Protocol::RestJson | Protocol::Unknown => (
            if protocol == Protocol::Json {
                "application/x-amz-json-1.1"
            } else {
                "application/json"
            },
            vec![("x-amzn-errortype", error_type)],
            serde_json::json!({ "__type": code, "message": message })
                .to_string()
                .into_bytes(),
        ),
    };
    ErrorResponse {
        status,
        content_type,
        headers,
        body: Bytes::from(body),
    }
}

fn cbor_error(code: &str, message: &str) -> Vec<u8> {
    let value = ciborium::Value::Map(vec![
        (ciborium::Value::from("__type"), ciborium::Value::from(code)),
        (
            ciborium::Value::from("message"),
            ciborium::Value::from(message),
        ),
    ]);
    let mut out = Vec::new();
    // Writing a small map of strings into a Vec cannot fail.
    let _ = ciborium::into_writer(&value, &mut out);
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_error_is_an_error_response_document() {
        let r = error_response(
            Protocol::Query,
            StatusCode::FORBIDDEN,
            VIOLATION_CODE,
            "a < b",
        );
        assert_eq!(r.status, 403);
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>AwsGuardPolicyViolation</Code><Message>a &lt; b</Message></Error><RequestId>awsguard</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn json_error_has_type_and_header() {
        let r = error_response(Protocol::Json, StatusCode::FORBIDDEN, VIOLATION_CODE, "m");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["__type"], VIOLATION_CODE);
        assert_eq!(v["message"], "m");
        assert_eq!(r.headers[0].0, "x-amzn-errortype");
    }

    #[test]
    fn cbor_error_decodes() {
        let r = error_response(
            Protocol::RpcV2Cbor,
            StatusCode::FORBIDDEN,
            VIOLATION_CODE,
            "m",
        );
        let v: ciborium::Value = ciborium::from_reader(&r.body[..]).unwrap();
        let map = v.as_map().unwrap();
        assert_eq!(map[0].1.as_text(), Some(VIOLATION_CODE));
        assert_eq!(map[1].1.as_text(), Some("m"));
    }
}
