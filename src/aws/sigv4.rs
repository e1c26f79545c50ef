//! SigV4 / SigV4a signature parsing: the credential scope (access key id, date, region, service)
//! from an `Authorization` header or from presigned-URL query parameters.
//!
//! Called by [`crate::aws::identify`]. Nothing is verified: awsguard has no secret keys. The
//! access key id is wrapped in [`AccessKeyId`] so it is only ever shown masked.

use std::fmt;

use http::HeaderMap;

/// Upper bound on the header or query length examined, against pathological input.
const MAX_INPUT: usize = 16 * 1024;

/// An AWS access key id. `Debug` and `Display` show only the first and last four characters
/// (`AKIA…WXYZ`), so it can go into logs and events.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// Wrap a raw access key id.
    pub fn new(raw: impl Into<String>) -> AccessKeyId {
        AccessKeyId(raw.into())
    }

    /// First 4 + `…` + last 4 characters; just `…` when the id is too short to hide anything.
    pub fn masked(&self) -> String {
        let id = self.0.as_str();
        // Real key ids are ASCII: slice bytes instead of walking chars.
        if id.is_ascii() {
            if id.len() < 12 {
                return "…".to_owned();
            }
            let mut masked = String::with_capacity(4 + '…'.len_utf8() + 4);
            masked.push_str(&id[..4]);
            masked.push('…');
            masked.push_str(&id[id.len() - 4..]);
            return masked;
        }
        let count = self.0.chars().count();
        if count < 12 {
            return "…".to_owned();
        }
        let mut masked: String = self.0.chars().take(4).collect();
        masked.push('…');
        masked.extend(self.0.chars().skip(count - 4));
        masked
    }
}

impl fmt::Debug for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKeyId({})", self.masked())
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Which signing algorithm the request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `AWS4-HMAC-SHA256`: one region in the scope.
    HmacSha256,
    /// `AWS4-ECDSA-P256-SHA256` (SigV4a): a region set instead of a region.
    EcdsaP256Sha256,
}

/// A parsed signature: who signed, for which service and region(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The algorithm named by the request.
    pub algorithm: Algorithm,
    /// Access key id from the credential scope.
    pub access_key_id: AccessKeyId,
    /// Scope date (`20250101`).
    pub date: String,
    /// Scope region (SigV4); `None` for SigV4a.
    pub region: Option<String>,
    /// SigV4a region set (`X-Amz-Region-Set`), e.g. `["*"]` or `["us-east-1","us-west-2"]`.
    pub region_set: Vec<String>,
    /// Scope service: the signing name (`sqs`, `s3`, `execute-api`).
    pub service: String,
    /// Signed header names as listed: lowercase, `;`-separated (see
    /// [`Signature::signed_header_names`]).
    pub signed_headers: String,
    /// Signed via query parameters (a presigned URL) rather than the `Authorization` header.
    pub presigned: bool,
}

impl Signature {
    /// The signed header names, in order.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers
            .split(';')
            .map(str::trim)
            .filter(|name| !name.is_empty())
    }
}

/// Why a signature could not be parsed. Never carries the input (it may hold credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Not a SigV4/SigV4a algorithm (SigV2, Basic, bearer tokens…).
    #[error("not a sigv4 signature")]
    NotSigV4,
    /// No `Credential=` component.
    #[error("sigv4 signature has no credential")]
    MissingCredential,
    /// The credential scope does not have the `AKID/date/[region/]service/aws4_request` shape.
    #[error("malformed sigv4 credential scope")]
    BadScope,
    /// Input longer than the bound examined.
    #[error("sigv4 input too long")]
    TooLong,
}

impl Algorithm {
    fn parse(name: &str) -> Result<Algorithm, SigV4Error> {
        match name {
            "AWS4-HMAC-SHA256" => Ok(Algorithm::HmacSha256),
            "AWS4-ECDSA-P256-SHA256" => Ok(Algorithm::EcdsaP256Sha256),
            _ => Err(SigV4Error::NotSigV4),
        }
    }
}

/// Parse an `Authorization` header value. `region_set` is the `X-Amz-Region-Set` header (SigV4a).
pub fn parse_authorization(value: &str, region_set: Option<&str>) -> Result<Signature, SigV4Error> {
    if value.len() > MAX_INPUT {
        return Err(SigV4Error::TooLong);
    }
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').ok_or(SigV4Error::NotSigV4)?;
    let algorithm = Algorithm::parse(algorithm)?;
    let mut credential = None;
    let mut signed_headers = "";
    // Components are `Name=value`, comma-separated, in any order and spacing.
    for part in split(rest, b',') {
        let part = part.trim_start();
        if let Some(val) = part.strip_prefix("Credential=") {
            credential = Some(val.trim());
        } else if let Some(val) = part.strip_prefix("SignedHeaders=") {
            signed_headers = val.trim();
        }
    }
    let credential = credential.ok_or(SigV4Error::MissingCredential)?;
    let mut sig = scope(algorithm, credential, region_set)?;
    sig.signed_headers = signed_headers.to_owned();
    Ok(sig)
}

/// Parse presigned-URL query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, …).
/// `Ok(None)` when the query is not presigned.
pub fn parse_presigned(query: &str) -> Result<Option<Signature>, SigV4Error> {
    if query.len() > MAX_INPUT {
        return Err(SigV4Error::TooLong);
    }
    let mut algorithm = None;
    let mut credential = None;
    let mut signed_headers = String::new();
    let mut region_set = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "X-Amz-Algorithm" => algorithm = Some(value.into_owned()),
            "X-Amz-Credential" => credential = Some(value.into_owned()),
            "X-Amz-SignedHeaders" => signed_headers = value.into_owned(),
            "X-Amz-Region-Set" => region_set = Some(value.into_owned()),
            _ => {}
        }
    }
    let Some(algorithm) = algorithm else {
        return Ok(None);
    };
    let algorithm = Algorithm::parse(&algorithm)?;
    let credential = credential.ok_or(SigV4Error::MissingCredential)?;
    let mut sig = scope(algorithm, &credential, region_set.as_deref())?;
    sig.signed_headers = signed_headers;
    sig.presigned = true;
    Ok(Some(sig))
}

/// The signature of a request: the `Authorization` header first, else presigned query
/// parameters. `None` when unsigned or not SigV4.
pub fn from_request(headers: &HeaderMap, query: Option<&str>) -> Option<Signature> {
    let region_set = headers
        .get("x-amz-region-set")
        .and_then(|v| v.to_str().ok());
    if let Some(auth) = headers.get(http::header::AUTHORIZATION) {
        // UTF-8 validation has a word-at-a-time ASCII path; `to_str`'s visible-ASCII check goes
        // byte by byte over the whole (~200-byte) header, and the parser accepts any text.
        if let Ok(sig) = std::str::from_utf8(auth.as_bytes())
            .map_err(|_| SigV4Error::NotSigV4)
            .and_then(|v| parse_authorization(v, region_set))
        {
            return Some(sig);
        }
    }
    query.and_then(|q| parse_presigned(q).ok().flatten())
}

/// `AKID/date/region/service/aws4_request` (SigV4) or `AKID/date/service/aws4_request` (SigV4a).
fn scope(
    algorithm: Algorithm,
    credential: &str,
    region_set: Option<&str>,
) -> Result<Signature, SigV4Error> {
    // At most five segments are meaningful; a sixth makes the scope malformed.
    let mut segments = [""; 6];
    let mut count = 0;
    for segment in split(credential, b'/') {
        let slot = segments.get_mut(count).ok_or(SigV4Error::BadScope)?;
        *slot = segment;
        count += 1;
    }
    let (akid, date, region, service) = match (algorithm, &segments[..count]) {
        (Algorithm::HmacSha256, [akid, date, region, service, "aws4_request"]) => {
            (*akid, *date, Some(*region), *service)
        }
        (Algorithm::EcdsaP256Sha256, [akid, date, service, "aws4_request"]) => {
            (*akid, *date, None, *service)
        }
        // Some SigV4a signers keep a region slot in the scope; accept it.
        (Algorithm::EcdsaP256Sha256, [akid, date, _, service, "aws4_request"]) => {
            (*akid, *date, None, *service)
        }
        _ => return Err(SigV4Error::BadScope),
    };
    if akid.is_empty() || service.is_empty() || region.is_some_and(str::is_empty) {
        return Err(SigV4Error::BadScope);
    }
    Ok(Signature {
        algorithm,
        access_key_id: AccessKeyId::new(akid),
        date: date.to_owned(),
        region: region.map(str::to_owned),
        region_set: region_set.map(|s| split_list(s, ',')).unwrap_or_default(),
        service: service.to_owned(),
        signed_headers: String::new(),
        presigned: false,
    })
}

/// `value.split(sep)` for an ASCII separator, found with the memchr crate's vectorised search:
/// std's `str::split` costs ~5 instructions per byte here, and every call scans a whole
/// `Authorization` header.
fn split(value: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(sep, value.as_bytes())
        .chain(std::iter::once(value.len()))
        .map(move |end| {
            // An ASCII separator always sits on a char boundary.
            let part = value.get(start..end).unwrap_or_default();
            start = end + 1;
            part
        })
}

fn split_list(value: &str, sep: char) -> Vec<String> {
    value
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/eu-west-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abcdef";

    #[test]
    fn sigv4_header_scope() {
        let sig = parse_authorization(AUTH, None).unwrap();
        assert_eq!(sig.algorithm, Algorithm::HmacSha256);
        assert_eq!(sig.access_key_id.masked(), "AKIA…MPLE");
        assert_eq!(sig.date, "20250101");
        assert_eq!(sig.region.as_deref(), Some("eu-west-1"));
        assert_eq!(sig.service, "sqs");
        assert_eq!(
            sig.signed_header_names().collect::<Vec<_>>(),
            ["content-type", "host", "x-amz-date"]
        );
        assert!(!sig.presigned);
    }

    #[test]
    fn sigv4a_header_uses_region_set() {
        let auth = "AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/s3/aws4_request, SignedHeaders=host;x-amz-region-set, Signature=3045";
        let sig = parse_authorization(auth, Some("us-east-1,us-west-2")).unwrap();
        assert_eq!(sig.algorithm, Algorithm::EcdsaP256Sha256);
        assert_eq!(sig.region, None);
        assert_eq!(sig.region_set, vec!["us-east-1", "us-west-2"]);
        assert_eq!(sig.service, "s3");
    }

    #[test]
    fn presigned_query_scope() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        let sig = parse_presigned(q).unwrap().unwrap();
        assert!(sig.presigned);
        assert_eq!(sig.region.as_deref(), Some("us-east-1"));
        assert_eq!(sig.service, "s3");
        assert_eq!(parse_presigned("list-type=2").unwrap(), None);
    }

    #[test]
    fn other_schemes_are_rejected() {
        assert_eq!(
            parse_authorization("AWS AKIA:sig", None),
            Err(SigV4Error::NotSigV4)
        );
        assert_eq!(
            parse_authorization("Bearer x", None),
            Err(SigV4Error::NotSigV4)
        );
        assert_eq!(
            parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host", None),
            Err(SigV4Error::MissingCredential)
        );
        assert_eq!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=AKIA/2025/x/aws4_request", None),
            Err(SigV4Error::BadScope)
        );
    }

    #[test]
    fn from_request_prefers_header_then_query() {
        let mut headers = HeaderMap::new();
        assert!(from_request(&headers, None).is_none());
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-2/s3/aws4_request";
        assert_eq!(
            from_request(&headers, Some(q)).unwrap().region.as_deref(),
            Some("us-east-2")
        );
        headers.insert(http::header::AUTHORIZATION, AUTH.parse().unwrap());
        assert_eq!(from_request(&headers, Some(q)).unwrap().service, "sqs");
    }

    #[test]
    fn debug_and_display_never_show_the_full_key() {
        let id = AccessKeyId::new("AKIAIOSFODNN7EXAMPLE");
        assert_eq!(format!("{id}"), "AKIA…MPLE");
        assert_eq!(format!("{id:?}"), "AccessKeyId(AKIA…MPLE)");
        let sig = parse_authorization(AUTH, None).unwrap();
        assert!(!format!("{sig:?}").contains("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(AccessKeyId::new("short").masked(), "…");
        assert_eq!(AccessKeyId::new("ÄÖÜßÄÖÜßÄÖÜß").masked(), "ÄÖÜß…ÄÖÜß");
    }

    #[test]
    fn every_prefix_of_a_header_is_handled() {
        for end in 0..=AUTH.len() {
            if let Some(prefix) = AUTH.get(..end) {
                let _ = parse_authorization(prefix, None);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_headers_never_panic(s in ".{0,300}") {
            let _ = parse_authorization(&s, Some(&s));
            let _ = parse_presigned(&s);
        }

        #[test]
        fn masked_never_contains_the_middle(s in "[A-Z0-9]{12,40}") {
            let masked = AccessKeyId::new(s.clone()).masked();
            let expected = format!("{}…{}", &s[..4], &s[s.len() - 4..]);
            proptest::prop_assert_eq!(masked, expected);
        }
    }
}
