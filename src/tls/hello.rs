//! Reads the facts awsguard needs from a TLS ClientHello: SNI, offered versions, ALPN.
//!
//! Called on the first bytes of every CONNECT tunnel, before deciding whether to intercept, and to
//! record what a refused client offered. Written by hand because the proxy needs a parser that says
//! "not enough bytes yet" over a peeked buffer and reads only three extensions; general TLS parsers
//! parse far more and do not report incompleteness in that form.

use std::fmt;

/// Most bytes of handshake records awsguard reads for one ClientHello: four full records.
/// Real hellos, post-quantum key shares included, are under 2 KiB.
pub const MAX_HELLO_LEN: usize = 4 * (5 + MAX_RECORD);

/// Most records one ClientHello may span (real clients use one, rarely two).
const MAX_RECORDS: usize = 16;

/// Largest TLS record fragment (2^14 bytes, RFC 8446 §5.1).
const MAX_RECORD: usize = 1 << 14;

/// A TLS protocol version as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WireVersion(pub u16);

impl WireVersion {
    /// TLS 1.2.
    pub const TLS12: WireVersion = WireVersion(0x0303);
    /// TLS 1.3.
    pub const TLS13: WireVersion = WireVersion(0x0304);

    /// The name used in events (`TLSv1.2`), or the hex code for anything unknown.
    pub fn name(self) -> String {
        match self.0 {
            0x0300 => "SSLv3".to_owned(),
            0x0301 => "TLSv1.0".to_owned(),
            0x0302 => "TLSv1.1".to_owned(),
            0x0303 => "TLSv1.2".to_owned(),
            0x0304 => "TLSv1.3".to_owned(),
            other => format!("0x{other:04x}"),
        }
    }

    /// GREASE values (RFC 8701) are noise, not offers.
    fn is_grease(self) -> bool {
        self.0 & 0x0f0f == 0x0a0a && (self.0 >> 8) == (self.0 & 0xff)
    }
}

impl fmt::Display for WireVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// What a ClientHello says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// The server name (SNI), lower-cased, if the client sent one.
    pub server_name: Option<String>,
    /// Versions offered: the `supported_versions` extension, or the legacy version without it.
    pub versions: Vec<WireVersion>,
    /// ALPN protocol names offered.
    pub alpn: Vec<String>,
}

impl ClientHello {
    /// The highest version offered.
    pub fn max_version(&self) -> Option<WireVersion> {
        self.versions.iter().copied().max()
    }

    /// Offered versions as event strings, highest first.
    pub fn version_names(&self) -> Vec<String> {
        let mut v = self.versions.clone();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter().map(WireVersion::name).collect()
    }
}

/// Why bytes are not a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// The first byte is not a TLS handshake record (plain HTTP, garbage).
    #[error("not a tls handshake")]
    NotTls,
    /// A handshake record that is not a well-formed ClientHello.
    #[error("malformed tls client hello")]
    Malformed,
    /// The ClientHello is larger than awsguard reads.
    #[error("tls client hello too large")]
    TooLarge,
}

/// Parses a ClientHello from the start of a stream. `Ok(None)`: not enough bytes yet.
///
/// The hello may span several handshake records (legal, and what some clients do with large
/// post-quantum key shares): their fragments are joined until the handshake message is whole,
/// within [`MAX_HELLO_LEN`] bytes of records.
pub fn parse_client_hello(input: &[u8]) -> Result<Option<ClientHello>, HelloError> {
    let mut rest = Reader::new(input);
    let Some(first) = next_record(&mut rest, true)? else {
        return Ok(None);
    };
    // The common case, one record holding the whole hello, is parsed without a copy.
    if let Some(hello) = whole_hello(first)? {
        return parse_hello_body(hello)
            .map(Some)
            .ok_or(HelloError::Malformed);
    }
    // Record headers are walked first and fragments joined only once the message is whole: a
    // peer trickling tiny records costs a walk over at most MAX_RECORDS headers per read.
    let mut fragments = vec![first];
    let mut total = first.len();
    loop {
        let header: Vec<u8> = fragments
            .iter()
            .flat_map(|f| f.iter())
            .take(4)
            .copied()
            .collect();
        if let Some(len) = message_len(&header)? {
            if total >= len {
                let joined: Vec<u8> = fragments.concat();
                let hello = whole_hello(&joined)?.ok_or(HelloError::Malformed)?;
                return parse_hello_body(hello)
                    .map(Some)
                    .ok_or(HelloError::Malformed);
            }
        }
        if fragments.len() >= MAX_RECORDS || input.len() - rest.rest.len() >= MAX_HELLO_LEN {
            return Err(HelloError::TooLarge);
        }
        let Some(fragment) = next_record(&mut rest, false)? else {
            return Ok(None);
        };
        fragments.push(fragment);
        total += fragment.len();
    }
}

/// The length of the handshake message (its 4-byte header included) once the header is there.
fn message_len(header: &[u8]) -> Result<Option<usize>, HelloError> {
    let mut hs = Reader::new(header);
    match (hs.u8(), hs.u24()) {
        (Some(0x01), Some(len)) if len > MAX_HELLO_LEN => Err(HelloError::TooLarge),
        (Some(0x01), Some(len)) => Ok(Some(4 + len)),
        (Some(0x01), None) | (None, _) => Ok(None),
        (Some(_), _) => Err(HelloError::Malformed),
    }
}

/// The next handshake record's fragment; `Ok(None)` when it has not fully arrived.
fn next_record<'a>(rest: &mut Reader<'a>, first: bool) -> Result<Option<&'a [u8]>, HelloError> {
    // Not TLS at all when the stream starts with anything else; a broken hello later on.
    let wrong = if first {
        HelloError::NotTls
    } else {
        HelloError::Malformed
    };
    let mut header = Reader::new(rest.rest);
    let Some(content_type) = header.u8() else {
        return Ok(None);
    };
    if content_type != 0x16 {
        return Err(wrong);
    }
    let Some(major) = header.u8() else {
        return Ok(None);
    };
    if major != 0x03 {
        return Err(wrong);
    }
    let (Some(_minor), Some(len)) = (header.u8(), header.u16()) else {
        return Ok(None);
    };
    let len = usize::from(len);
    if len > MAX_RECORD {
        return Err(HelloError::TooLarge);
    }
    // RFC 8446 §5.1: handshake fragments are never empty (and empty ones would loop for free).
    if len == 0 {
        return Err(HelloError::Malformed);
    }
    let Some(fragment) = header.take(len) else {
        return Ok(None);
    };
    *rest = header;
    Ok(Some(fragment))
}

/// The ClientHello body once `message` (joined fragments) holds all of it.
fn whole_hello(message: &[u8]) -> Result<Option<&[u8]>, HelloError> {
    let mut hs = Reader::new(message);
    let Some(kind) = hs.u8() else {
        return Ok(None);
    };
    if kind != 0x01 {
        return Err(HelloError::Malformed);
    }
    let Some(len) = hs.u24() else {
        return Ok(None);
    };
    if len > MAX_HELLO_LEN {
        return Err(HelloError::TooLarge);
    }
    Ok(hs.take(len))
}

fn parse_hello_body(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader::new(body);
    let legacy_version = WireVersion(r.u16()?);
    r.take(32)?; // random
    let session_id_len = r.u8()?;
    r.take(usize::from(session_id_len))?;
    let suites_len = r.u16()?;
    r.take(usize::from(suites_len))?;
    let compression_len = r.u8()?;
    r.take(usize::from(compression_len))?;
    let mut hello = ClientHello::default();
    if !r.is_empty() {
        let ext_len = r.u16()?;
        let mut exts = Reader::new(r.take(usize::from(ext_len))?);
        while !exts.is_empty() {
            let ty = exts.u16()?;
            let len = exts.u16()?;
            let data = exts.take(usize::from(len))?;
            match ty {
                0x0000 => hello.server_name = parse_sni(data)?,
                0x0010 => hello.alpn = parse_alpn(data)?,
                0x002b => hello.versions = parse_versions(data)?,
                _ => {}
            }
        }
    }
    if hello.versions.is_empty() {
        hello.versions.push(legacy_version);
    }
    Some(hello)
}

fn parse_sni(data: &[u8]) -> Option<Option<String>> {
    let mut r = Reader::new(data);
    let list_len = r.u16()?;
    let mut list = Reader::new(r.take(usize::from(list_len))?);
    while !list.is_empty() {
        let name_type = list.u8()?;
        let len = list.u16()?;
        let name = list.take(usize::from(len))?;
        if name_type == 0 {
            let name = std::str::from_utf8(name).ok()?;
            return Some(Some(name.to_ascii_lowercase()));
        }
    }
    Some(None)
}

fn parse_alpn(data: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader::new(data);
    let list_len = r.u16()?;
    let mut list = Reader::new(r.take(usize::from(list_len))?);
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = list.u8()?;
        let proto = list.take(usize::from(len))?;
        out.push(String::from_utf8_lossy(proto).into_owned());
    }
    Some(out)
}

fn parse_versions(data: &[u8]) -> Option<Vec<WireVersion>> {
    let mut r = Reader::new(data);
    let len = r.u8()?;
    let mut list = Reader::new(r.take(usize::from(len))?);
    let mut out = Vec::new();
    while !list.is_empty() {
        let v = WireVersion(list.u16()?);
        if !v.is_grease() {
            out.push(v);
        }
    }
    Some(out)
}

/// A cursor over bytes whose reads return `None` past the end instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Reader { rest }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello captured from `openssl s_client -servername sqs.us-east-1.amazonaws.com
    /// -alpn h2,http/1.1` (OpenSSL 3.0).
    const OPENSSL_HELLO: &[u8] = include_bytes!("testdata/openssl_hello.bin");
    /// A ClientHello captured from `openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0`.
    const TLS11_HELLO: &[u8] = include_bytes!("testdata/tls11_hello.bin");

    #[test]
    fn reads_sni_versions_and_alpn() {
        let hello = parse_client_hello(OPENSSL_HELLO).unwrap().unwrap();
        assert_eq!(
            hello.server_name.as_deref(),
            Some("sqs.us-east-1.amazonaws.com")
        );
        // OpenSSL 3.0 lists every version it was built with, old ones included.
        assert_eq!(
            hello.version_names(),
            vec!["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0"]
        );
        assert_eq!(hello.alpn, vec!["h2", "http/1.1"]);
    }

    #[test]
    fn legacy_hello_offers_its_record_version() {
        let hello = parse_client_hello(TLS11_HELLO).unwrap().unwrap();
        assert_eq!(hello.version_names(), vec!["TLSv1.1"]);
        assert_eq!(hello.max_version(), Some(WireVersion(0x0302)));
    }

    #[test]
    fn every_prefix_is_incomplete_not_an_error() {
        for hello in [OPENSSL_HELLO, TLS11_HELLO] {
            for n in 0..hello.len() {
                assert_eq!(parse_client_hello(&hello[..n]), Ok(None), "prefix {n}");
            }
        }
    }

    /// `hello` (one record) re-sent as two records, its fragment cut at `at`.
    fn split(hello: &[u8], at: usize) -> Vec<u8> {
        let (header, body) = hello.split_at(5);
        let (a, b) = body.split_at(at);
        let mut out = Vec::new();
        for part in [a, b] {
            out.extend_from_slice(&header[..3]);
            out.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn a_hello_split_across_two_records_at_any_point_reads_the_same() {
        for hello in [OPENSSL_HELLO, TLS11_HELLO] {
            let whole = parse_client_hello(hello).unwrap().unwrap();
            for at in 1..hello.len() - 5 {
                let two = split(hello, at);
                assert_eq!(
                    parse_client_hello(&two),
                    Ok(Some(whole.clone())),
                    "split at {at}"
                );
                for n in [0, 4, 5, 5 + at, 5 + at + 4, two.len() - 1] {
                    assert_eq!(
                        parse_client_hello(&two[..n]),
                        Ok(None),
                        "split {at}, prefix {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_hello_in_one_byte_records_is_refused_after_a_bounded_walk() {
        let (header, body) = OPENSSL_HELLO.split_at(5);
        let mut tiny = Vec::new();
        for byte in body {
            tiny.extend_from_slice(&header[..3]);
            tiny.extend_from_slice(&[0, 1, *byte]);
        }
        // More records than any real client sends: refused, after a bounded walk.
        assert_eq!(parse_client_hello(&tiny), Err(HelloError::TooLarge));
        let cut = MAX_RECORDS * 6;
        assert_eq!(parse_client_hello(&tiny[..cut]), Err(HelloError::TooLarge));
        assert_eq!(parse_client_hello(&tiny[..cut - 1]), Ok(None));
        let mut empty = header[..3].to_vec();
        empty.extend_from_slice(&[0, 0]);
        assert_eq!(parse_client_hello(&empty), Err(HelloError::Malformed));
    }

    #[test]
    fn a_second_record_that_is_not_a_handshake_is_malformed() {
        let mut two = split(OPENSSL_HELLO, 10);
        two[5 + 10] = 0x17;
        assert_eq!(parse_client_hello(&two), Err(HelloError::Malformed));
    }

    #[test]
    fn plain_http_is_not_tls() {
        assert_eq!(
            parse_client_hello(b"GET / HTTP/1.1\r\n"),
            Err(HelloError::NotTls)
        );
    }

    #[test]
    fn grease_versions_are_ignored() {
        assert!(WireVersion(0x1a1a).is_grease());
        assert!(!WireVersion::TLS13.is_grease());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_client_hello(&bytes);
        }

        #[test]
        fn never_panics_after_a_valid_header(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut bytes = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
            bytes.extend(tail);
            let _ = parse_client_hello(&bytes);
        }
    }
}
