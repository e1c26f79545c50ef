//! Reads a ClientHello off a stream without consuming it: the bytes are kept to be replayed.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::tls::{parse_client_hello, ClientHello, HelloError, MAX_HELLO_LEN};

/// What the first bytes of a connection were.
pub(crate) enum Peeked {
    /// A complete ClientHello.
    Hello(ClientHello),
    /// Not TLS (plain HTTP, garbage) or a malformed hello.
    NotTls(HelloError),
    /// The peer closed, or sent nothing in time.
    Nothing,
}

/// Reads until a ClientHello is complete (bounded by one TLS record and `timeout`). Returns the
/// verdict and every byte read, to be replayed.
pub(crate) async fn peek_hello<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> (Peeked, Bytes) {
    let mut buf = BytesMut::with_capacity(1024);
    let read = async {
        loop {
            match parse_client_hello(&buf) {
                Ok(Some(hello)) => return Peeked::Hello(hello),
                Err(error) => return Peeked::NotTls(error),
                Ok(None) if buf.len() >= MAX_HELLO_LEN => {
                    return Peeked::NotTls(HelloError::TooLarge)
                }
                Ok(None) => {}
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Peeked::Nothing,
                Ok(_) => {}
            }
        }
    };
    let peeked = tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Peeked::Nothing);
    (peeked, buf.freeze())
}
