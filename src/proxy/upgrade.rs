//! WebSocket calls (HTTP/1.1 `Upgrade`): API Gateway WebSocket APIs, AppSync realtime, IoT MQTT
//! over WSS. The upgrade request is identified, inspected and decided like any call (by
//! [`super::exchange`]); an allowed one goes to the upstream on a connection of its own, and once
//! both sides have switched protocols the bytes are relayed both ways as they come, never
//! buffered. The call's event records the 101; a `connection` event at the end records the bytes
//! each way, the duration and why the relay closed.

use std::net::SocketAddr;
use std::time::Instant;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Either;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::body::{RequestBody, ResponseBody};
use super::exchange::ConnInfo;
use super::record::CallRecord;
use super::upstream::{describe, UpstreamBody};
use super::Shared;
use crate::events::{ConnectionDetails, Outcome, RelayStats};

/// Whether a request asks to switch protocols (`Connection: upgrade` and an `Upgrade` header).
pub(crate) fn is_upgrade(parts: &http::request::Parts) -> bool {
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

/// Sends an allowed upgrade request upstream on a new connection and, on `101 Switching
/// Protocols`, relays both upgraded streams in a task of their own. Any other answer is passed on
/// as the call's response.
pub(crate) async fn forward(
    shared: &std::sync::Arc<Shared>,
    conn: &ConnInfo,
    mut req: Request<RequestBody>,
    mut record: CallRecord,
) -> Response<ResponseBody> {
    let client_upgrade = req.extensions_mut().remove::<OnUpgrade>();
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
    let upstream_upgrade = hyper::upgrade::on(&mut response);
    let (parts, _) = response.into_parts();
    record.finish(Outcome::Completed);
    let (host, peer) = (conn.host.clone(), conn.source.clone());
    let recorder = shared.recorder.clone();
    tokio::spawn(async move {
        let stats = relay(client_upgrade, upstream_upgrade).await;
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
    *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *answer.headers_mut() = parts.headers;
    answer
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    answer
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
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    match tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, RELAY_BUF, RELAY_BUF)
        .await
    {
        Ok((up, down)) => stats(up, down, "closed".into()),
        Err(error) => stats(0, 0, format!("relay failed: {}", error.kind())),
    }
}
