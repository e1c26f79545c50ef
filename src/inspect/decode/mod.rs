//! Field extraction: every protocol's request → a stream of classified fields ([`visit`]), or
//! a list of them ([`extract`]).
//!
//! Called by the proxy (and `awsguard inspect`) once a request is identified; the detectors
//! consume the result. Pure: no I/O, bounded depth, field count and decompressed size.
//!
//! # Layout
//! - [`visit`] (and [`extract`] on top of it): headers (`headers`), path and query (`uri`),
//!   then the body: decoded by `Content-Encoding` (`gzip`) and parsed per protocol — `form`
//!   (query, ec2), `json` (json, rest-json), `xml` (rest-xml), `cbor` (rpcv2-cbor).
//! - [`Skimmer`] (`skim`): a JSON body too large to hold, read as it streams with its payload
//!   members dropped; the decoder then reads what is left.
//! - JSON, XML and CBOR build a small `tree` whose strings borrow from the body where they can;
//!   forms are classified directly. Both ask `classify` what each string is, and push borrowed
//!   fields into a bounded `sink`.
//!
//! # Locations
//! `body:Tags[0].Value` (lists), `body:tags.owner` (maps; a tag map's key and value share the
//! location), `body:Tags.member.1.Value` (form keys as sent), `body:Tagging.TagSet.Tag[1].Key`
//! (XML: root element included, repeated elements numbered), `header:x-amz-tagging[owner]`,
//! `header:x-amz-meta-foo`, `query:Endpoint`, `path:`. Keys that do not look like identifiers
//! are replaced by their position (`body:tags[#2]`) so locations never carry request data.
//!
//! # Known limits
//! A REST body whose `Content-Type` says JSON/XML is parsed even when the operation's body is
//! an opaque payload (Lambda `Invoke`, IoT `Publish`); pass `body: None` for those operations.

mod cbor;
mod classify;
mod form;
mod gzip;
mod headers;
mod json;
mod sink;
mod skim;
mod tree;
mod uri;
mod xml;

#[cfg(test)]
mod tests;

use std::fmt;

use http::header::{CONTENT_ENCODING, CONTENT_TYPE};

use crate::aws::{MemberHints, Protocol};
use crate::inspect::{Field, FieldRef};
use sink::Sink;
pub(crate) use sink::{push_form_location, push_path_location, Step};
pub use skim::{SkimError, Skimmer, PLACEHOLDER};
use tree::{Budget, Node};

/// Everything about a request that can carry fields. `Debug` shows sizes and header names only:
/// the path, query, header values and body may hold secrets.
#[derive(Clone, Copy)]
pub struct DecodeInput<'a> {
    /// The identified wire protocol: picks the body decoder.
    pub protocol: Protocol,
    /// HTTP method. Informational: query/ec2 parameters are read from the query string whatever
    /// the method, and REST bodies whenever present.
    pub method: &'a str,
    /// Raw (percent-encoded) URI path.
    pub path: &'a str,
    /// Raw query string, without `?`.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
    /// The body as received (possibly gzip-encoded); `None` when it is not inspected (streamed
    /// data plane, or larger than the inspection bound).
    pub body: Option<&'a [u8]>,
    /// Member hints from the service model (may be empty).
    pub hints: &'a MemberHints,
}

impl fmt::Debug for DecodeInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(|name| name.as_str()).collect();
        f.debug_struct("DecodeInput")
            .field("protocol", &self.protocol)
            .field("method", &self.method)
            .field("path", &format_args!("<{} bytes>", self.path.len()))
            .field("query", &self.query.map(str::len))
            .field("headers", &names)
            .field("body", &self.body.map(<[u8]>::len))
            .field("hints", &self.hints)
            .finish()
    }
}

/// Bounds on the work one request may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Deepest nesting of JSON/CBOR containers, XML elements or form key segments; values above
    /// [`DecodeLimits::DEPTH_CAP`] are treated as the cap (the tree walk recurses per level).
    pub max_depth: usize,
    /// Most fields returned; decoders also stop after `2 × max_fields` strings and containers.
    pub max_fields: usize,
    /// Most bytes a `Content-Encoding: gzip` body may inflate to.
    pub max_decompressed: usize,
}

impl DecodeLimits {
    /// The deepest nesting ever decoded, whatever `max_depth` says: keeps recursion shallow.
    pub const DEPTH_CAP: usize = 256;

    /// `max_depth`, capped.
    fn depth(&self) -> usize {
        self.max_depth.min(Self::DEPTH_CAP)
    }
}

impl Default for DecodeLimits {
    /// 64 levels, 10 000 fields, 8 MiB inflated.
    fn default() -> Self {
        DecodeLimits {
            max_depth: 64,
            max_fields: 10_000,
            max_decompressed: 8 << 20,
        }
    }
}

/// Why a request could not be decoded. Messages never include request data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not valid JSON.
    #[error("invalid json body at line {line}, column {column}")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The body is not well-formed XML (or not UTF-8).
    #[error("invalid xml body at byte {position}")]
    InvalidXml {
        /// Byte offset near the error.
        position: u64,
    },
    /// The body is not one well-formed CBOR data item.
    #[error("invalid cbor body at byte {offset}")]
    InvalidCbor {
        /// Byte offset near the error.
        offset: usize,
    },
    /// The body claims gzip but does not inflate.
    #[error("invalid gzip body")]
    InvalidGzip,
    /// `Content-Encoding` is something other than identity or one gzip layer.
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    /// Nesting deeper than [`DecodeLimits::max_depth`].
    #[error("body nested too deeply")]
    TooDeep,
    /// More than [`DecodeLimits::max_fields`] fields.
    #[error("too many fields")]
    TooManyFields,
    /// The gzip body inflates past [`DecodeLimits::max_decompressed`].
    #[error("decompressed body too large")]
    DecompressedTooLarge,
}

/// Extracts every field of a request, classified: headers, path, query string, then body.
pub fn extract(input: &DecodeInput<'_>, limits: &DecodeLimits) -> Result<Vec<Field>, DecodeError> {
    let mut fields = Vec::new();
    visit(input, limits, &mut |field| fields.push(field.to_field()))?;
    Ok(fields)
}

/// Hands every field of a request to `each` as it is decoded, in [`extract`]'s order, borrowed:
/// the proxy scans fields this way without copying them. On an error, the fields handed over
/// before it (including part of the body's) have been seen; [`extract`] drops them.
pub fn visit(
    input: &DecodeInput<'_>,
    limits: &DecodeLimits,
    each: &mut dyn FnMut(FieldRef<'_>),
) -> Result<(), DecodeError> {
    let mut sink = Sink::new(input.hints, limits.max_fields, each);
    headers::extract(input.headers, &mut sink)?;
    uri::path_field(input.path, &mut sink)?;
    if let Some(query) = input.query.filter(|q| !q.is_empty()) {
        match input.protocol {
            Protocol::Query | Protocol::Ec2 => {
                form::extract(query.as_bytes(), "query:", form_limits(limits), &mut sink)?;
            }
            _ => uri::query_fields(query, &mut sink)?,
        }
    }
    if let Some(body) = input.body.filter(|b| !b.is_empty()) {
        let encoding = input.headers.get(CONTENT_ENCODING).map(|v| v.as_bytes());
        match gzip::encoding(encoding)? {
            gzip::Encoding::Identity => body_fields(input, body, limits, &mut sink)?,
            gzip::Encoding::Gzip => {
                let inflated = gzip::gunzip(body, limits.max_decompressed)?;
                body_fields(input, &inflated, limits, &mut sink)?;
            }
        }
    }
    Ok(())
}

/// The body formats, as chosen from the protocol and `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Form,
    Json,
    Xml,
    Cbor,
}

/// Decodes a (decompressed) body in the format its protocol uses.
fn body_fields(
    input: &DecodeInput<'_>,
    body: &[u8],
    limits: &DecodeLimits,
    sink: &mut Sink<'_, '_>,
) -> Result<(), DecodeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let Some(format) = format(input.protocol, input.headers, body) else {
        return Ok(());
    };
    let mut budget = Budget::new(limits.depth(), limits.max_fields.saturating_mul(2));
    let tree: Node = match format {
        Format::Form => return form::extract(body, "body:", form_limits(limits), sink),
        Format::Json => json::parse(body, &mut budget)?,
        Format::Xml => xml::parse(body, &mut budget)?,
        Format::Cbor => cbor::parse(body, &mut budget)?,
    };
    tree::emit(&tree, "body:", sink)
}

/// Which decoder applies. REST bodies may be opaque payloads (a Lambda `Invoke` payload is the
/// caller's, an S3 object is data): they are parsed only when their `Content-Type` says JSON or
/// XML, or when there is none and the body starts like one. Unknown protocols go by
/// `Content-Type` alone, matched without regard to ASCII case.
fn format(protocol: Protocol, headers: &http::HeaderMap, body: &[u8]) -> Option<Format> {
    match protocol {
        Protocol::Query | Protocol::Ec2 => return Some(Format::Form),
        Protocol::Json => return Some(Format::Json),
        Protocol::RpcV2Cbor => return Some(Format::Cbor),
        Protocol::RestJson | Protocol::RestXml | Protocol::Unknown => {}
    }
    let content_type = headers.get(CONTENT_TYPE).map(|v| v.as_bytes());
    // Searched as raw bytes: the words are ASCII, so no decoding is needed to find them.
    let says = |word: &str| {
        content_type.is_some_and(|ct| {
            ct.windows(word.len())
                .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
        })
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match protocol {
        Protocol::RestJson => (says("json")
            || (content_type.is_none() && matches!(first, Some(b'{' | b'['))))
        .then_some(Format::Json),
        Protocol::RestXml => {
            (says("xml") || (content_type.is_none() && first == Some(b'<'))).then_some(Format::Xml)
        }
        // `Unknown`; the others returned above.
        _ => [
            ("x-www-form-urlencoded", Format::Form),
            ("json", Format::Json),
            ("xml", Format::Xml),
            ("cbor", Format::Cbor),
        ]
        .into_iter()
        .find_map(|(word, format)| says(word).then_some(format)),
    }
}

/// Form limits derived from the request limits.
fn form_limits(limits: &DecodeLimits) -> form::FormLimits {
    form::FormLimits {
        max_depth: limits.depth(),
        max_pairs: limits.max_fields.saturating_mul(2),
    }
}
