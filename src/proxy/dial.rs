//! Opening the TCP side of every upstream connection, intercepted or blind: directly, or
//! through the corporate proxy (`--upstream-proxy`) with `CONNECT` and `Proxy-Authorization:
//! Basic`. Plain `http://` forwarding goes to that proxy as an ordinary proxied request.
//!
//! The proxy's password goes into that one header and nowhere else: errors name the proxy by
//! `host:port` only.

use std::io;
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::body::RequestBody;
use crate::config::UpstreamProxy;

/// Largest proxy answer to a CONNECT read (status line and headers).
const MAX_PROXY_HEAD: usize = 8 * 1024;

/// Why the TCP side of an upstream connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
    #[error("cannot connect to {target}")]
    Tcp {
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("timed out connecting to {0}")]
    Timeout(String),
    #[error("cannot reach the upstream proxy {proxy}")]
    ProxyUnreachable {
        proxy: String,
        #[source]
        source: io::Error,
    },
    #[error("the upstream proxy {proxy} did not answer in time")]
    ProxyTimeout { proxy: String },
    #[error(
        "the upstream proxy {proxy} asked for credentials (407): {}",
        if *.sent { "it refused the user and password in --upstream-proxy" }
        else { "give them as --upstream-proxy http://user:password@host:port" }
    )]
    ProxyAuth { proxy: String, sent: bool },
    #[error("the upstream proxy {proxy} refused CONNECT {target}: {status}")]
    ProxyRefused {
        proxy: String,
        target: String,
        status: String,
    },
    #[error("the upstream proxy {proxy} sent a malformed answer to CONNECT")]
    ProxyMalformed { proxy: String },
}

/// Why a plain `http://` request could not be forwarded through the upstream proxy.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    #[error(transparent)]
    Dial(#[from] DialError),
    #[error("the exchange with the upstream proxy failed")]
    Http(#[from] hyper::Error),
}

impl DialError {
    /// Whether nothing answered in time.
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, DialError::Timeout(_) | DialError::ProxyTimeout { .. })
    }
}

/// Opens upstream TCP connections.
#[derive(Debug)]
pub(crate) struct Dialer {
    proxy: Option<UpstreamProxy>,
    timeout: Duration,
}

impl Dialer {
    /// `timeout` bounds the TCP connect and, through a proxy, its answer to CONNECT, each.
    pub(crate) fn new(proxy: Option<UpstreamProxy>, timeout: Duration) -> Self {
        Dialer { proxy, timeout }
    }

    /// A connection to `target` (`host:port`, after `--connect-to`) for `host` (the name the
    /// client asked for, which `NO_PROXY` is matched against).
    pub(crate) async fn open(&self, host: &str, target: &str) -> Result<TcpStream, DialError> {
        let via = self.proxy.as_ref().and_then(|p| {
            let target_host = target.rsplit_once(':').map_or(target, |(h, _)| h);
            p.for_host(host).and_then(|p| p.for_host(target_host))
        });
        let stream = match via {
            None => self.tcp(target).await?,
            Some(proxy) => self.through(proxy, target).await?,
        };
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    async fn tcp(&self, target: &str) -> Result<TcpStream, DialError> {
        tokio::time::timeout(self.timeout, TcpStream::connect(target))
            .await
            .map_err(|_| DialError::Timeout(target.to_owned()))?
            .map_err(|source| DialError::Tcp {
                target: target.to_owned(),
                source,
            })
    }

    async fn through(&self, proxy: &UpstreamProxy, target: &str) -> Result<TcpStream, DialError> {
        let address = proxy.address();
        let timed_out = || DialError::ProxyTimeout {
            proxy: address.clone(),
        };
        let mut stream = tokio::time::timeout(self.timeout, TcpStream::connect(&address))
            .await
            .map_err(|_| timed_out())?
            .map_err(|source| DialError::ProxyUnreachable {
                proxy: address.clone(),
                source,
            })?;
        let request = connect_request(proxy, target);
        let exchange = async {
            stream.write_all(request.as_bytes()).await?;
            read_head(&mut stream).await
        };
        let head = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| timed_out())?
            .map_err(|source| DialError::ProxyUnreachable {
                proxy: address.clone(),
                source,
            })?;
        match answer_status(&head) {
            Some(200..=299) => Ok(stream),
            Some(407) => Err(DialError::ProxyAuth {
                proxy: address,
                sent: proxy.credentials.is_some(),
            }),
            Some(_) => Err(DialError::ProxyRefused {
                proxy: address,
                target: target.to_owned(),
                status: status_line(&head),
            }),
            None => Err(DialError::ProxyMalformed { proxy: address }),
        }
    }
}

impl Dialer {
    /// Sends an absolute-form plain `http://` request through `proxy` as an ordinary proxied
    /// request (no CONNECT), on a connection of its own.
    pub(crate) async fn forward(
        &self,
        proxy: &UpstreamProxy,
        mut req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, ForwardError> {
        let address = proxy.address();
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect(&address))
            .await
            .map_err(|_| DialError::ProxyTimeout {
                proxy: address.clone(),
            })?
            .map_err(|source| DialError::ProxyUnreachable {
                proxy: address.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        if let Some(value) = basic(proxy).and_then(|v| HeaderValue::from_str(&v).ok()) {
            req.headers_mut()
                .insert(http::header::PROXY_AUTHORIZATION, value);
        }
        let (mut sender, conn) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            if let Err(error) = conn.await {
                tracing::debug!(%error, "upstream proxy connection ended with an error");
            }
        });
        let response = sender.send_request(req).await?;
        if response.status() == http::StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Err(DialError::ProxyAuth {
                proxy: address,
                sent: proxy.credentials.is_some(),
            }
            .into());
        }
        Ok(response)
    }
}

/// The `Proxy-Authorization` value when the proxy has credentials.
fn basic(proxy: &UpstreamProxy) -> Option<String> {
    proxy.credentials.as_ref().map(|(user, password)| {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose()));
        format!("Basic {token}")
    })
}

/// The CONNECT request for `target`, with Basic credentials when the proxy has them.
fn connect_request(proxy: &UpstreamProxy, target: &str) -> String {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(value) = basic(proxy) {
        request.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Reads the proxy's answer head, a byte at a time: whatever follows it belongs to the tunnel.
async fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "answer head too large",
            ));
        }
        let byte = stream.read_u8().await?;
        head.push(byte);
    }
    Ok(head)
}

/// The status code of an `HTTP/1.x NNN reason` head.
fn answer_status(head: &[u8]) -> Option<u16> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => response.code,
        _ => None,
    }
}

/// The status line, printable, for messages.
fn status_line(head: &[u8]) -> String {
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    String::from_utf8_lossy(line)
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NoProxy;

    fn proxy(url: &str) -> UpstreamProxy {
        UpstreamProxy::parse(url, NoProxy::default()).unwrap()
    }

    #[test]
    fn connect_requests_carry_basic_credentials_only_when_given() {
        assert_eq!(
            connect_request(&proxy("http://p:3128"), "sts.amazonaws.com:443"),
            "CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com:443\r\n\r\n"
        );
        // "Aladdin:open sesame", RFC 7617's example.
        assert_eq!(
            connect_request(&proxy("http://Aladdin:open%20sesame@p:3128"), "h:443"),
            "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
    }

    #[test]
    fn answers() {
        assert_eq!(
            answer_status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(
            answer_status(
                b"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"
            ),
            Some(407)
        );
        assert_eq!(answer_status(b"SSH-2.0-x\r\n\r\n"), None);
        assert_eq!(
            status_line(b"HTTP/1.1 403 Forbidden\x07\r\n\r\n"),
            "HTTP/1.1 403 Forbidden"
        );
    }

    #[test]
    fn errors_never_show_the_password() {
        let p = proxy("http://me:hunter2@p:3128");
        for error in [
            DialError::ProxyAuth {
                proxy: p.address(),
                sent: true,
            },
            DialError::ProxyMalformed { proxy: p.address() },
        ] {
            let text = format!("{error} {error:?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        let dialer = Dialer::new(Some(p), Duration::from_secs(1));
        assert!(!format!("{dialer:?}").contains("hunter2"));
    }
}
