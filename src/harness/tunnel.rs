//! A TLS connection to a host *through* the guard: `CONNECT host:port`, then TLS with a client
//! config that trusts the guard's CA. The building block for a hyper (or any) client in tests.
//!
//! Called by [`crate::harness::Guard::connect`]. [`response_head_end`] is the pure part.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Largest CONNECT response head read.
const MAX_HEAD: usize = 8 * 1024;

/// Opens `host:port` through the proxy at `proxy` and completes a TLS handshake with `config`.
pub(crate) async fn connect(
    proxy: SocketAddr,
    config: Arc<ClientConfig>,
    host: &str,
    port: u16,
) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut tcp = TcpStream::connect(proxy).await?;
    let request = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let head = read_head(&mut tcp).await?;
    let status = head.split(|b| *b == b'\r').next().unwrap_or_default();
    if !(status.starts_with(b"HTTP/1.1 200") || status.starts_with(b"HTTP/1.0 200")) {
        return Err(io::Error::other(format!(
            "the proxy refused CONNECT {host}:{port}: {}",
            String::from_utf8_lossy(status)
        )));
    }
    TlsConnector::from(config).connect(name, tcp).await
}

/// Reads the CONNECT response head one byte at a time, so no TLS byte is consumed with it.
async fn read_head(tcp: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(128);
    loop {
        let byte = tcp.read_u8().await?;
        head.push(byte);
        if response_head_end(&head).is_some() {
            return Ok(head);
        }
        if head.len() >= MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "CONNECT response head too long",
            ));
        }
    }
}

/// Where the response head ends (just past `\r\n\r\n`), if it is complete.
pub(crate) fn response_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|start| start + 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn head_end_on_every_prefix() {
        let response = b"HTTP/1.1 200 OK\r\ndate: x\r\n\r\n";
        for n in 0..response.len() {
            assert_eq!(response_head_end(&response[..n]), None, "prefix {n}");
        }
        assert_eq!(response_head_end(response), Some(response.len()));
    }

    proptest! {
        #[test]
        fn head_end_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Some(end) = response_head_end(&bytes) {
                prop_assert!(end <= bytes.len());
                prop_assert_eq!(&bytes[end - 4..end], b"\r\n\r\n");
            }
        }
    }
}
