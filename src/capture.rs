//! Captured requests for `awsguard inspect`: raw HTTP/1.1 request files and HAR archives.
//!
//! Pure parsing (bytes in, requests out) so offline inspection runs the same engine as the proxy
//! on exactly what a file holds. Request heads are parsed with `httparse`; chunked bodies are
//! de-chunked with its chunk-size parser.

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Largest request head or decoded body accepted from a file.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Most headers in one request.
const MAX_HEADERS: usize = 256;

/// One request as captured.
#[derive(Clone)]
pub struct CapturedRequest {
    /// HTTP method.
    pub method: String,
    /// Host (from the URL or the Host header), without port.
    pub host: String,
    /// Raw path.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

/// Header values, the query and the body can hold secrets: `Debug` shows only their shape.
impl std::fmt::Debug for CapturedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CapturedRequest")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path_len", &self.path.len())
            .field("query_len", &self.query.as_ref().map(String::len))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaptureError {
    /// The request head is not valid HTTP/1.1.
    #[error("malformed request head")]
    Head,
    /// The request head ends before its blank line.
    #[error("request head is incomplete")]
    Incomplete,
    /// No Host header and no absolute URL.
    #[error("request has no host")]
    NoHost,
    /// A chunked body is malformed or truncated.
    #[error("malformed chunked body")]
    Chunked,
    /// A header name or value is not valid.
    #[error("invalid header {0:?}")]
    Header(String),
    /// The body is larger than awsguard reads from a file.
    #[error("body larger than {MAX_BODY} bytes")]
    TooLarge,
    /// A HAR file that is not valid JSON of the HAR shape.
    #[error("invalid HAR: {0}")]
    Har(String),
}

/// Parses one raw HTTP/1.1 request, as on the wire.
pub fn parse_raw(bytes: &[u8]) -> Result<CapturedRequest, CaptureError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(CaptureError::Incomplete),
        Err(_) => return Err(CaptureError::Head),
    };
    let method = req.method.ok_or(CaptureError::Head)?.to_owned();
    let target = req.path.ok_or(CaptureError::Head)?;
    let mut map = HeaderMap::new();
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| CaptureError::Header(h.name.to_owned()))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| CaptureError::Header(h.name.to_owned()))?;
        map.append(name, value);
    }
    let rest = bytes.get(head_len..).unwrap_or_default();
    let chunked = map
        .get(http::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        let len = map
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(rest.len());
        rest.get(..len.min(rest.len())).unwrap_or_default().to_vec()
    };
    if body.len() > MAX_BODY {
        return Err(CaptureError::TooLarge);
    }
    build(method, target, map, body)
}

fn build(
    method: String,
    target: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<CapturedRequest, CaptureError> {
    let (url_host, path_and_query) = match url::Url::parse(target) {
        Ok(url) if url.has_host() => {
            let pq = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            (url.host_str().map(str::to_owned), pq)
        }
        _ => (None, target.to_owned()),
    };
    let host = url_host
        .or_else(|| {
            headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name).to_owned())
        })
        .filter(|h| !h.is_empty())
        .ok_or(CaptureError::NoHost)?
        .to_ascii_lowercase();
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path_and_query, None),
    };
    Ok(CapturedRequest {
        method,
        host,
        path,
        query,
        headers,
        body,
    })
}

fn dechunk(mut input: &[u8]) -> Result<Vec<u8>, CaptureError> {
    let mut body = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(input) {
            Ok(httparse::Status::Complete(found)) => found,
            _ => return Err(CaptureError::Chunked),
        };
        let size = usize::try_from(size).map_err(|_| CaptureError::TooLarge)?;
        if size == 0 {
            return Ok(body);
        }
        let end = start.checked_add(size).ok_or(CaptureError::TooLarge)?;
        let chunk = input.get(start..end).ok_or(CaptureError::Chunked)?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(CaptureError::TooLarge);
        }
        body.extend_from_slice(chunk);
        input = input
            .get(end..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or(CaptureError::Chunked)?;
    }
}

#[derive(serde::Deserialize)]
struct Har {
    log: HarLog,
}

#[derive(serde::Deserialize)]
struct HarLog {
    entries: Vec<HarEntry>,
}

#[derive(serde::Deserialize)]
struct HarEntry {
    request: HarRequest,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<HarHeader>,
    #[serde(default)]
    post_data: Option<HarPostData>,
}

#[derive(serde::Deserialize)]
struct HarHeader {
    name: String,
    value: String,
}

#[derive(serde::Deserialize)]
struct HarPostData {
    #[serde(default)]
    text: String,
    #[serde(default)]
    encoding: Option<String>,
}

/// Parses every request of a HAR 1.2 archive.
pub fn parse_har(bytes: &[u8]) -> Result<Vec<CapturedRequest>, CaptureError> {
    let har: Har = serde_json::from_slice(bytes).map_err(|e| CaptureError::Har(e.to_string()))?;
    har.log
        .entries
        .into_iter()
        .map(|entry| {
            let r = entry.request;
            let mut headers = HeaderMap::new();
            for h in &r.headers {
                // HTTP/2 pseudo-headers in HAR exports are not request headers.
                if h.name.starts_with(':') {
                    continue;
                }
                let name = HeaderName::from_bytes(h.name.as_bytes())
                    .map_err(|_| CaptureError::Header(h.name.clone()))?;
                let value = HeaderValue::from_str(&h.value)
                    .map_err(|_| CaptureError::Header(h.name.clone()))?;
                headers.append(name, value);
            }
            let body = match r.post_data {
                Some(p) if p.encoding.as_deref() == Some("base64") => {
                    base64::engine::general_purpose::STANDARD
                        .decode(p.text.as_bytes())
                        .map_err(|e| CaptureError::Har(e.to_string()))?
                }
                Some(p) => p.text.into_bytes(),
                None => Vec::new(),
            };
            build(r.method, &r.url, headers, body)
        })
        .collect()
}

/// Reads a file's requests: a HAR archive if it parses as JSON with `log.entries`, else one raw
/// HTTP/1.1 request.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<CapturedRequest>, CaptureError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return parse_har(bytes);
    }
    parse_raw(bytes).map(|r| vec![r])
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"POST / HTTP/1.1\r\nHost: sqs.us-east-1.amazonaws.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\nAction=CreateQueue&QueueName=q";

    #[test]
    fn raw_request_with_content_length() {
        let r = parse_raw(RAW).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.host, "sqs.us-east-1.amazonaws.com");
        assert_eq!(r.path, "/");
        assert_eq!(r.query, None);
        assert_eq!(r.body, b"Action=CreateQueue&QueueNam");
    }

    #[test]
    fn chunked_body_is_dechunked() {
        let raw = b"PUT /b/k?tagging HTTP/1.1\r\nHost: s3.amazonaws.com:443\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let r = parse_raw(raw).unwrap();
        assert_eq!(r.host, "s3.amazonaws.com");
        assert_eq!(r.path, "/b/k");
        assert_eq!(r.query.as_deref(), Some("tagging"));
        assert_eq!(r.body, b"hello world");
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            parse_raw(b"POST / HTTP/1.1\r\nHost: x").unwrap_err(),
            CaptureError::Incomplete
        );
        assert_eq!(
            parse_raw(b"\x00\x01 garbage\r\n\r\n").unwrap_err(),
            CaptureError::Head
        );
        assert_eq!(
            parse_raw(b"GET / HTTP/1.1\r\n\r\n").unwrap_err(),
            CaptureError::NoHost
        );
        let bad = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse_raw(bad).unwrap_err(), CaptureError::Chunked);
    }

    #[test]
    fn har_entries_become_requests() {
        let har = br#"{"log":{"entries":[{"request":{"method":"POST","url":"https://sqs.us-east-1.amazonaws.com/?x=1","headers":[{"name":":authority","value":"sqs"},{"name":"X-Amz-Target","value":"AmazonSQS.CreateQueue"}],"postData":{"text":"e30=","encoding":"base64"}}}]}}"#;
        let rs = parse_file(har).unwrap();
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].host, "sqs.us-east-1.amazonaws.com");
        assert_eq!(rs[0].query.as_deref(), Some("x=1"));
        assert_eq!(rs[0].body, b"{}");
        assert_eq!(rs[0].headers.len(), 1);
    }

    #[test]
    fn debug_output_holds_no_values() {
        let raw = b"POST /?token=s3cr3tvalue HTTP/1.1\r\nHost: h.amazonaws.com\r\nX-Amz-Security-Token: s3cr3tvalue\r\nContent-Length: 11\r\n\r\ns3cr3tvalue";
        let debug = format!("{:?}", parse_raw(raw).unwrap());
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("x-amz-security-token"), "{debug}");
    }

    #[test]
    fn every_prefix_of_a_request_is_an_error_or_a_request_never_a_panic() {
        for n in 0..RAW.len() {
            let _ = parse_file(&RAW[..n]);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_file(&bytes);
        }
    }
}
