//! Reads the facts awsguard needs from a TLS ClientHello: SNI, offered versions, ALPN.
//!
//! Called on the first bytes of every CONNECT tunnel, before deciding whether to intercept, and to
//! record what a refused client offered. Written by hand because the proxy needs a parser that says
//! "not enough bytes yet" over a peeked buffer and reads only three extensions; general TLS parsers
//! parse far more and do not report incompleteness in that form.

use std::fmt;

/// Longest ClientHello awsguard waits for: one full TLS record (2^14 bytes) plus its header.
pub const MAX_HELLO_LEN: usize = 5 + (1 << 14);

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
    /// The ClientHello does not fit in one record.
    #[error("tls client hello too large")]
    TooLarge,
}

/// Parses a ClientHello from the start of a stream. `Ok(None)`: not enough bytes yet.
pub fn parse_client_hello(input: &[u8]) -> Result<Option<ClientHello>, HelloError> {
    let mut rec = Reader::new(input);
    let Some(content_type) = rec.u8() else {
        return Ok(None);
    };
    if content_type != 0x16 {
        return Err(HelloError::NotTls);
    }
    let Some(major) = rec.u8() else {
        return Ok(None);
    };
    if major != 0x03 {
        return Err(HelloError::NotTls);
    }
    let (Some(_minor), Some(len)) = (rec.u8(), rec.u16()) else {
        return Ok(None);
    };
    if usize::from(len) > MAX_HELLO_LEN - 5 {
        return Err(HelloError::TooLarge);
    }
    let Some(body) = rec.take(usize::from(len)) else {
        return Ok(None);
    };
    let mut hs = Reader::new(body);
    if hs.u8() != Some(0x01) {
        return Err(HelloError::Malformed);
    }
    let hs_len = hs.u24().ok_or(HelloError::Malformed)?;
    // A hello split over several records is legal but never seen from real clients; refusing it
    // keeps the peek bounded to one record.
    let hello = hs.take(hs_len).ok_or(HelloError::TooLarge)?;
    parse_hello_body(hello)
        .map(Some)
        .ok_or(HelloError::Malformed)
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
