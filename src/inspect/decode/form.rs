//! `application/x-www-form-urlencoded` parameters (`query` and `ec2` protocols) → fields.
//!
//! Called by [`super::extract`] for query/ec2 bodies and for their GET query strings. Keys are
//! kept as sent (`Tags.member.1.Value`, `TagSpecification.1.Tag.1.Value`) and split on `.` only
//! to classify them. `Action`, `Version` and signing parameters (SigV4 presigning, SigV2) are not
//! fields. A tag value's key is the sibling parameter with the same prefix and a `Key` suffix.

use std::collections::HashMap;

use url::form_urlencoded;

use super::classify::{self, Role, Seg};
use super::sink::{is_location_safe, Sink};
use super::uri::is_signing_param;
use super::DecodeError;
use crate::inspect::FieldKind;

/// Limits for one form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormLimits {
    /// Most `.`-separated segments in a key.
    pub(crate) max_depth: usize,
    /// Most parameters read.
    pub(crate) max_pairs: usize,
}

/// Emits the parameters of `raw` as fields with locations `prefix` + key (`body:QueueName`).
pub(crate) fn extract(
    raw: &[u8],
    prefix: &str,
    limits: FormLimits,
    sink: &mut Sink<'_>,
) -> Result<(), DecodeError> {
    let pairs = read_pairs(raw, limits.max_pairs)?;
    let by_key: HashMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (position, (key, value)) in pairs.iter().enumerate() {
        let segments: Vec<Seg<'_>> = key.split('.').map(Seg::Key).collect();
        if segments.len() > limits.max_depth {
            return Err(DecodeError::TooDeep);
        }
        let location = location(prefix, key, position);
        match classify::role(sink.hints, &segments) {
            Role::TagKey => sink.plain(&location, FieldKind::TagKey, value)?,
            Role::TagValue => sink.tag_value(&location, sibling_key(&by_key, key), value)?,
            Role::MapTag => {
                let tag_key = key.rsplit('.').next().unwrap_or(key);
                sink.tag(&location, tag_key, value)?;
            }
            Role::Plain(kind) => sink.plain(&location, kind, value)?,
        }
    }
    Ok(())
}

/// Decoded parameters, without the ones that are not request data.
fn read_pairs(raw: &[u8], max_pairs: usize) -> Result<Vec<(String, String)>, DecodeError> {
    let mut pairs = Vec::new();
    for (key, value) in form_urlencoded::parse(raw) {
        if is_signing_param(&key) || key == "Action" || key == "Version" {
            continue;
        }
        if pairs.len() >= max_pairs {
            return Err(DecodeError::TooManyFields);
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// `prefix` + the key as sent, or its position when a segment is not location-safe.
fn location(prefix: &str, key: &str, position: usize) -> String {
    if key.len() <= 256 && key.split('.').all(is_location_safe) {
        format!("{prefix}{key}")
    } else {
        format!("{prefix}[#{position}]")
    }
}

/// The value of `Prefix.Key` (any casing of `Key`/`TagKey`) for the tag value `Prefix.Value`.
fn sibling_key<'a>(by_key: &HashMap<&str, &'a str>, value_key: &str) -> Option<&'a str> {
    let (prefix, _) = value_key.rsplit_once('.')?;
    ["Key", "key", "TagKey", "tagKey"]
        .iter()
        .find_map(|suffix| by_key.get(format!("{prefix}.{suffix}").as_str()).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::MemberHints;
    use crate::inspect::Field;

    const LIMITS: FormLimits = FormLimits {
        max_depth: 64,
        max_pairs: 100,
    };

    fn run(body: &str) -> Result<Vec<Field>, DecodeError> {
        let hints = MemberHints::default();
        let mut sink = Sink::new(&hints, 100);
        extract(body.as_bytes(), "body:", LIMITS, &mut sink)?;
        Ok(sink.finish())
    }

    fn tag_value(location: &str, key: &str, value: &str) -> Field {
        let mut f = Field::new(location, FieldKind::TagValue, value);
        f.tag_key = Some(key.to_owned());
        f
    }

    #[test]
    fn ec2_tag_specifications() {
        let body = "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&\
            TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=owner&\
            TagSpecification.1.Tag.1.Value=alice%40example.com";
        assert_eq!(
            run(body).unwrap(),
            vec![
                Field::new("body:ImageId", FieldKind::Other, "ami-1"),
                Field::new(
                    "body:TagSpecification.1.ResourceType",
                    FieldKind::Other,
                    "instance"
                ),
                Field::new(
                    "body:TagSpecification.1.Tag.1.Key",
                    FieldKind::TagKey,
                    "owner"
                ),
                tag_value(
                    "body:TagSpecification.1.Tag.1.Value",
                    "owner",
                    "alice@example.com"
                ),
            ]
        );
    }

    #[test]
    fn value_before_key_and_signing_params_skipped() {
        let body = "Tags.member.1.Value=v+1&Tags.member.1.Key=k&X-Amz-Signature=abc&\
            X-Amz-Credential=AKIA%2F&Signature=s&QueueName=q";
        assert_eq!(
            run(body).unwrap(),
            vec![
                tag_value("body:Tags.member.1.Value", "k", "v 1"),
                Field::new("body:Tags.member.1.Key", FieldKind::TagKey, "k"),
                Field::new("body:QueueName", FieldKind::Name, "q"),
            ]
        );
    }

    #[test]
    fn unsafe_keys_use_positions_and_limits_hold() {
        assert_eq!(
            run("a%40b.c=x").unwrap(),
            vec![Field::new("body:[#0]", FieldKind::Other, "x")]
        );
        assert_eq!(run(&"a.".repeat(64).to_string()), Err(DecodeError::TooDeep));
        assert_eq!(run(&"a=b&".repeat(101)), Err(DecodeError::TooManyFields));
        assert_eq!(
            run("Tags.member.1.Value=v").unwrap(),
            vec![Field {
                tag_key: None,
                ..tag_value("body:Tags.member.1.Value", "", "v")
            }]
        );
    }
}
