//! Request headers → fields: S3 `x-amz-tagging` as tags, every other header value as `Header`.
//!
//! Called by [`super::extract`] for every protocol. Signing material (`Authorization`,
//! `X-Amz-Security-Token`, `X-Amz-Date`, payload hashes and checksums), SDK bookkeeping and
//! transport headers (`Host`, `Content-Length`, `User-Agent`, `Content-Type`, …) are not fields;
//! nor is key material the caller means to send (S3 SSE-C keys, `x-amz-mfa` codes): no detector
//! has anything to say about it, and a field would only carry it further.
//!
//! `x-amz-tagging: k1=v1&k2=v2` (URL-encoded) gives, per tag, a `TagKey` and a `TagValue` field
//! (with `tag_key`) both at `header:x-amz-tagging[k1]`, or `header:x-amz-tagging[#0]` when the
//! key is not location-safe. `x-amz-meta-*` user metadata is kept as `Header` fields at
//! `header:x-amz-meta-<name>`: object metadata is data, like the object.

use http::HeaderMap;
use url::form_urlencoded;

use super::sink::{is_location_safe, Sink};
use super::DecodeError;
use crate::inspect::{FieldKind, Location};

/// Headers that are never fields (lower case, as `http` stores names). Those that SDK requests
/// carry come first, the most common first: every header of every request is looked up here,
/// and the search stops at the first match.
const NOT_FIELDS: &[&str] = &[
    "host",
    "x-amz-date",
    "authorization",
    "content-type",
    "content-length",
    "user-agent",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "accept-encoding",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amz-target",
    "smithy-protocol",
    "accept",
    "expect",
    "content-md5",
    "content-encoding",
    "transfer-encoding",
    "x-amz-user-agent",
    "x-amzn-trace-id",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-trailer",
    "x-amz-decoded-content-length",
    "connection",
    "keep-alive",
    "accept-language",
    "cookie",
    "date",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key-md5",
    "x-amz-mfa",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
];

/// The S3 header that carries object tags.
const TAGGING: &str = "x-amz-tagging";

/// Whether a header is signing material, SDK bookkeeping or transport.
fn is_not_field(name: &str) -> bool {
    NOT_FIELDS.contains(&name) || name.starts_with("x-amz-checksum-")
}

/// Emits the fields carried by `headers`.
pub(crate) fn extract(headers: &HeaderMap, sink: &mut Sink<'_, '_>) -> Result<(), DecodeError> {
    for (position, (name, value)) in headers.iter().enumerate() {
        let name = name.as_str();
        if is_not_field(name) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        if name == TAGGING {
            tagging(&value, sink)?;
        } else {
            // Header names are the client's to choose (`x-amz-meta-*`): a name that is not
            // location-safe becomes its position, as a map key would.
            let location = Location::form("header:", name, position);
            sink.plain(location, FieldKind::Header, &value)?;
        }
    }
    Ok(())
}

/// Emits each tag of an `x-amz-tagging` value.
fn tagging(value: &str, sink: &mut Sink<'_, '_>) -> Result<(), DecodeError> {
    for (position, (key, tag_value)) in form_urlencoded::parse(value.as_bytes()).enumerate() {
        let location = if is_location_safe(&key) {
            format!("header:{TAGGING}[{key}]")
        } else {
            format!("header:{TAGGING}[#{position}]")
        };
        sink.tag(location.as_str().into(), &key, &tag_value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::MemberHints;
    use crate::inspect::decode::sink::collect;
    use crate::inspect::Field;
    use http::HeaderValue;

    fn run(pairs: &[(&'static str, &'static [u8])]) -> Vec<Field> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let hints = MemberHints::default();
        collect(&hints, 100, |sink| extract(&headers, sink)).unwrap()
    }

    fn tag_value(location: &str, key: &str, value: &str) -> Field {
        let mut f = Field::new(location, FieldKind::TagValue, value);
        f.tag_key = Some(key.to_owned());
        f
    }

    #[test]
    fn s3_put_object_headers() {
        let fields = run(&[
            (
                "authorization",
                b"AWS4-HMAC-SHA256 Credential=AKIA/..., Signature=abc",
            ),
            ("x-amz-security-token", b"token"),
            ("x-amz-content-sha256", b"UNSIGNED-PAYLOAD"),
            ("x-amz-checksum-crc32", b"AAAAAA=="),
            ("x-amz-date", b"20260101T000000Z"),
            ("x-amz-server-side-encryption-customer-key", b"a2V5"),
            ("x-amz-mfa", b"arn:aws:iam::1:mfa/u 123456"),
            ("host", b"b.s3.amazonaws.com"),
            ("x-amz-tagging", b"owner=bob%40example.com&a%40b=1&empty="),
            ("x-amz-meta-reviewer", b"carol"),
            (
                "x-amz-website-redirect-location",
                b"https://u:p@example.com/",
            ),
        ]);
        assert_eq!(
            fields,
            vec![
                Field::new("header:x-amz-tagging[owner]", FieldKind::TagKey, "owner"),
                tag_value("header:x-amz-tagging[owner]", "owner", "bob@example.com"),
                Field::new("header:x-amz-tagging[#1]", FieldKind::TagKey, "a@b"),
                tag_value("header:x-amz-tagging[#1]", "a@b", "1"),
                Field::new("header:x-amz-tagging[empty]", FieldKind::TagKey, "empty"),
                Field::new("header:x-amz-meta-reviewer", FieldKind::Header, "carol"),
                Field::new(
                    "header:x-amz-website-redirect-location",
                    FieldKind::Header,
                    "https://u:p@example.com/"
                ),
            ]
        );
    }

    #[test]
    fn non_utf8_header_values_are_decoded_lossily() {
        assert_eq!(
            run(&[("x-custom", b"a\xffb")]),
            vec![Field::new(
                "header:x-custom",
                FieldKind::Header,
                "a\u{fffd}b"
            )]
        );
    }
}
