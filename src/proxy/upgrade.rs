//! WebSocket calls (HTTP/1.1 `Upgrade`, or HTTP/2 extended CONNECT per RFC 8441): API Gateway
//! WebSocket APIs, AppSync realtime, IoT MQTT over WSS. The upgrade request is identified,
//! inspected and decided like any call (by [`super::exchange`]); an allowed one goes to the
//! upstream on an HTTP/1.1 connection of its own, and once both sides have switched protocols the
//! bytes are relayed both ways as they come, never buffered. The call's event records the
//! upstream's 101; a `connection` event at the end records the bytes each way, the duration and
//! why the relay closed.
//!
//! An HTTP/2 client's extended CONNECT reaches the upstream as the HTTP/1.1 upgrade it stands for
//! (AWS's WebSocket endpoints speak HTTP/1.1): awsguard mints the `Sec-WebSocket-Key` that RFC
//! 8441 leaves out, checks the upstream's `Sec-WebSocket-Accept`, and answers the client `200`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Either;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::body::{RequestBody, ResponseBody};
use super::exchange::ConnInfo;
use super::intercept::Busy;
use super::record::CallRecord;
use super::upstream::{describe, UpstreamBody};
use super::Shared;
use crate::events::{ConnectionDetails, Outcome, Refusal, RelayStats};

/// How a request asks to switch protocols.
#[derive(Debug)]
pub(crate) enum Switch {
    /// HTTP/1.1 `Upgrade`: the upstream is asked for the same protocol.
    Upgrade(HeaderValue),
    /// HTTP/2 extended CONNECT with `:protocol websocket` (RFC 8441).
    ExtendedConnect,
}

/// The switch `parts` asks for, if any. An extended CONNECT is rewritten into the `GET` its
/// HTTP/1.1 upgrade is, so that it is identified, inspected, decided and recorded as that same
/// call; one for another protocol than WebSocket is refused.
pub(crate) fn take_switch(parts: &mut http::request::Parts) -> Result<Option<Switch>, Refusal> {
    if parts.method == Method::CONNECT {
        let Some(protocol) = parts.extensions.remove::<hyper::ext::Protocol>() else {
            return Ok(None);
        };
        if !protocol.as_str().eq_ignore_ascii_case("websocket") {
            return Err(Refusal::UnsupportedProtocol);
        }
        parts.method = Method::GET;
        return Ok(Some(Switch::ExtendedConnect));
    }
    Ok(is_upgrade(parts)
        .then(|| {
            parts
                .headers
                .get(header::UPGRADE)
                .cloned()
                .map(Switch::Upgrade)
        })
        .flatten())
}

/// Whether a request asks to switch protocols (`Connection: upgrade` and an `Upgrade` header).
fn is_upgrade(parts: &http::request::Parts) -> bool {
    parts.version == http::Version::HTTP_11
        && parts.headers.contains_key(header::UPGRADE)
        && parts
            .headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// Sends an allowed upgrade request (origin-form, hop-by-hop headers gone) upstream on a new
/// connection and, on `101 Switching Protocols`, relays both upgraded streams in a task of their
/// own. Any other answer is passed on as the call's response.
pub(crate) async fn forward(
    shared: &std::sync::Arc<Shared>,
    conn: &ConnInfo,
    mut req: Request<RequestBody>,
    switch: Switch,
    mut record: CallRecord,
) -> Response<ResponseBody> {
    let client_upgrade = req.extensions_mut().remove::<OnUpgrade>();
    let open = req.extensions_mut().remove::<std::sync::Arc<Busy>>();
    let headers = req.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    let key = match switch {
        Switch::Upgrade(protocol) => {
            headers.insert(header::UPGRADE, protocol);
            None
        }
        Switch::ExtendedConnect => {
            let key = websocket_key();
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            headers
                .entry(header::SEC_WEBSOCKET_VERSION)
                .or_insert(HeaderValue::from_static("13"));
            headers.insert(header::SEC_WEBSOCKET_KEY, key.clone());
            Some(key)
        }
    };
    let sent = match shared.upstream.dial(&conn.route).await {
        Ok(mut upstream) => upstream.sender.send_request(req).await.map_err(|e| {
            let message = describe(&e);
            (Outcome::UpstreamReset { during_body: false }, message)
        }),
        Err(error) => Err((Outcome::UpstreamUnreachable, describe(&error))),
    };
    let mut response = match sent {
        Ok(response) => response,
        Err((outcome, message)) => {
            tracing::warn!(host = %conn.host, %message, "websocket upgrade failed upstream");
            if let Some(event) = record.event_mut() {
                event.response_status = Some(StatusCode::BAD_GATEWAY.as_u16());
            }
            record.finish(outcome);
            return super::front::text(
                StatusCode::BAD_GATEWAY,
                "awsguard could not reach the upstream for this upgrade\n",
            );
        }
    };
    record.response(response.status(), response.headers());
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Refused upstream (403, 426…): the answer is the call's, streamed like any other.
        let (parts, body) = response.into_parts();
        return Response::from_parts(
            parts,
            Either::Left(UpstreamBody::from(body).with_record(record)),
        );
    }
    if let Some(key) = &key {
        let accepted = response.headers().get(header::SEC_WEBSOCKET_ACCEPT);
        if accepted != Some(&websocket_accept(key)) {
            tracing::warn!(host = %conn.host, "the upstream's Sec-WebSocket-Accept does not match");
            record.finish(Outcome::UpstreamReset { during_body: false });
            return super::front::text(
                StatusCode::BAD_GATEWAY,
                "the upstream answered the WebSocket upgrade with a wrong Sec-WebSocket-Accept\n",
            );
        }
    }
    let upstream_upgrade = hyper::upgrade::on(&mut response);
    let (parts, _) = response.into_parts();
    record.finish(Outcome::Completed);
    let (host, peer) = (conn.host.clone(), conn.source.clone());
    let recorder = shared.recorder.clone();
    tokio::spawn(async move {
        let stats = relay(client_upgrade, upstream_upgrade).await;
        drop(open);
        let mut event =
            super::record::connection_event(&host, relay_peer(&peer), "websocket-closed");
        if let Some(details) = event.connection.as_mut() {
            *details = ConnectionDetails {
                outcome: "websocket-closed".into(),
                relay: Some(stats),
                ..ConnectionDetails::default()
            };
        }
        recorder.record(event);
    });
    let mut answer = Response::new(super::body::full(""));
    *answer.headers_mut() = parts.headers;
    if key.is_some() {
        // RFC 8441 §5: the client's stream is open once it has a 2xx; the HTTP/1.1 handshake
        // headers stay on the upstream leg.
        strip_handshake(answer.headers_mut());
    } else {
        *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
    answer
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1).
fn websocket_key() -> HeaderValue {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut nonce = [0u8; 16];
    // The system generator does not fail on the platforms awsguard runs on; were it to, a key
    // of zeros still makes a valid handshake (the key proves nothing about the client).
    let _ = ring::rand::SystemRandom::new().fill(&mut nonce);
    let encoded = base64::engine::general_purpose::STANDARD.encode(nonce);
    HeaderValue::from_str(&encoded).unwrap_or(HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAA=="))
}

/// The `Sec-WebSocket-Accept` an upstream must answer `key` with (RFC 6455 §4.2.2).
fn websocket_accept(key: &HeaderValue) -> HeaderValue {
    use base64::Engine as _;
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha1 = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    sha1.update(key.as_bytes());
    sha1.update(GUID);
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha1.finish());
    HeaderValue::from_str(&encoded).unwrap_or(HeaderValue::from_static(""))
}

/// Drops the HTTP/1.1 handshake's headers from the upstream's 101 for an HTTP/2 client.
fn strip_handshake(headers: &mut HeaderMap) {
    for name in [
        header::CONNECTION,
        header::UPGRADE,
        header::SEC_WEBSOCKET_ACCEPT,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(name);
    }
}

/// The client's address as events give it (the connection info keeps it rendered).
fn relay_peer(source: &str) -> SocketAddr {
    source
        .parse()
        .map(|ip| SocketAddr::new(ip, 0))
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Bytes read per copy each way: several full TLS records (16 KiB each) per read and write, so
/// a bulk transfer costs fewer wake-ups and system calls than with tokio's 8 KiB default.
const RELAY_BUF: usize = 64 * 1024;

/// Copies bytes both ways between the two upgraded streams until either side closes.
async fn relay(client: Option<OnUpgrade>, upstream: OnUpgrade) -> RelayStats {
    let started = Instant::now();
    let stats = |up: u64, down: u64, reason: String| RelayStats {
        bytes_from_client: up,
        bytes_from_upstream: down,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        close_reason: reason,
    };
    let Some(client) = client else {
        return stats(0, 0, "the client connection cannot be upgraded".into());
    };
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(error) => return stats(0, 0, format!("upgrade failed: {error}")),
    };
    let mut client = Counted::new(TokioIo::new(client));
    let mut upstream = Counted::new(TokioIo::new(upstream));
    let result =
        tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, RELAY_BUF, RELAY_BUF)
            .await;
    // Counted here, not taken from the copy's result: a relay that ends in an error (an HTTP/2
    // client gone before its stream's end was written, a reset) still moved these bytes.
    let reason = match result {
        Ok(_) => "closed".into(),
        Err(error) => format!("relay failed: {}", error.kind()),
    };
    stats(client.read, upstream.read, reason)
}

/// A stream that counts the bytes read from it.
struct Counted<T> {
    inner: T,
    read: u64,
}

impl<T> Counted<T> {
    fn new(inner: T) -> Self {
        Counted { inner, read: 0 }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        this.read += u64::try_from(read).unwrap_or(u64::MAX);
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_the_rfc_6455_example() {
        let key = HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(websocket_accept(&key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn keys_are_fresh_sixteen_byte_nonces() {
        use base64::Engine as _;
        let (a, b) = (websocket_key(), websocket_key());
        assert_ne!(a, b);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(a.as_bytes())
            .unwrap();
        assert_eq!(decoded.len(), 16);
    }

    fn parts(req: Request<()>) -> http::request::Parts {
        req.into_parts().0
    }

    #[test]
    fn extended_connect_for_websocket_becomes_a_get() {
        let mut req = Request::builder()
            .method(Method::CONNECT)
            .version(http::Version::HTTP_2)
            .uri("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(hyper::ext::Protocol::from_static("websocket"));
        let mut p = parts(req);
        assert!(matches!(
            take_switch(&mut p),
            Ok(Some(Switch::ExtendedConnect))
        ));
        assert_eq!(p.method, Method::GET);
        assert!(p.extensions.get::<hyper::ext::Protocol>().is_none());
    }

    #[test]
    fn other_extended_connects_are_refused_and_plain_requests_pass() {
        let mut req = Request::builder()
            .method(Method::CONNECT)
            .uri("https://sqs.us-east-1.amazonaws.com/")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(hyper::ext::Protocol::from_static("connect-udp"));
        assert!(matches!(
            take_switch(&mut parts(req)),
            Err(Refusal::UnsupportedProtocol)
        ));
        let get = Request::builder().uri("/").body(()).unwrap();
        assert!(matches!(take_switch(&mut parts(get)), Ok(None)));
        let h1 = Request::builder()
            .uri("/mqtt")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .body(())
            .unwrap();
        assert!(matches!(
            take_switch(&mut parts(h1)),
            Ok(Some(Switch::Upgrade(p))) if p == "websocket"
        ));
    }
}
