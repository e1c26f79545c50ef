//! The request target: the decoded URI path and REST query-string parameters → fields.
//!
//! Called by [`super::extract`]. The path becomes one `path:` field (kind `Path`) holding the
//! percent-decoded path, unless it is just `/`. Query parameters of REST calls become
//! `query:<name>` fields (kind `Query`); a repeated name gives one field per value. The request's
//! own presigning parameters are never fields.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use url::form_urlencoded;

use super::sink::{is_location_safe, Sink};
use super::DecodeError;
use crate::inspect::FieldKind;

/// Query/form parameters that sign the request itself (SigV4 presigning, SigV2), compared
/// without regard to case.
const SIGNING_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "AWSAccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SecurityToken",
    "Timestamp",
];

/// Whether a parameter is part of the request's own signature.
pub(crate) fn is_signing_param(name: &str) -> bool {
    SIGNING_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Emits the decoded path as one `path:` field.
pub(crate) fn path_field(path: &str, sink: &mut Sink<'_, '_>) -> Result<(), DecodeError> {
    if path.is_empty() || path == "/" {
        return Ok(());
    }
    // A path without escapes is its own decoding (and already UTF-8): no lossy pass over it.
    let decoded = if path.contains('%') {
        percent_decode_str(path).decode_utf8_lossy()
    } else {
        Cow::Borrowed(path)
    };
    sink.plain("path:".into(), FieldKind::Path, &decoded)
}

/// Emits each REST query parameter as a `query:<name>` field.
pub(crate) fn query_fields(query: &str, sink: &mut Sink<'_, '_>) -> Result<(), DecodeError> {
    for (position, (name, value)) in form_urlencoded::parse(query.as_bytes()).enumerate() {
        if is_signing_param(&name) {
            continue;
        }
        let location = if is_location_safe(&name) {
            format!("query:{name}")
        } else {
            format!("query:[#{position}]")
        };
        sink.plain(location.as_str().into(), FieldKind::Query, &value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::MemberHints;
    use crate::inspect::decode::sink::collect;
    use crate::inspect::Field;

    fn run(path: &str, query: &str) -> Vec<Field> {
        let hints = MemberHints::default();
        collect(&hints, 100, |sink| {
            path_field(path, sink)?;
            query_fields(query, sink)
        })
        .unwrap()
    }

    #[test]
    fn path_and_query_parameters() {
        assert_eq!(
            run(
                "/2015-03-31/functions/my%20fn/invocations",
                "Qualifier=prod&tagKeys=a&tagKeys=b&X-Amz-Signature=x&x-amz-credential=y&flag"
            ),
            vec![
                Field::new(
                    "path:",
                    FieldKind::Path,
                    "/2015-03-31/functions/my fn/invocations"
                ),
                Field::new("query:Qualifier", FieldKind::Query, "prod"),
                Field::new("query:tagKeys", FieldKind::Query, "a"),
                Field::new("query:tagKeys", FieldKind::Query, "b"),
            ]
        );
    }

    #[test]
    fn root_path_and_unsafe_names() {
        assert_eq!(
            run("/", "a%40b=https%3A%2F%2Fu%3Ap%40h"),
            vec![Field::new("query:[#0]", FieldKind::Query, "https://u:p@h")]
        );
        assert!(run("", "").is_empty());
    }
}
