//! Full-duplex event streams through the proxy: a real HTTP/2-only upstream (hypercorn) echoes
//! each `application/vnd.amazon.eventstream` chunk as it arrives, and a client sends a message,
//! reads its echo, then sends the next. Were either direction held back until the request
//! ended, the first echo would never come (the client gives up after 15 s and fails). Both
//! client protocols are covered: HTTP/2 (Lex v2 `StartConversation`, an event-stream input in
//! the service model) and HTTP/1.1 chunked (Transcribe streaming, identified by its headers).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// The hypercorn echo upstream over TLS with the test upstream certificate; its port.
fn start_echo_server(pki: &Pki) -> (ChildGuard, u16) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/eventstream_echo_server.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .arg(&pki.cert_pem)
        .arg(&pki.key_pem)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the hypercorn echo server");
    let stdout = child.stdout.take().expect("server stdout");
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its port");
    (guard, line.trim().parse().expect("a port"))
}

fn client(proxy: &ProxyProc, mode: &str, host: &str, path: &str, messages: usize) -> Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/eventstream_client.py"
    );
    run(Command::new("python3")
        .arg(script)
        .arg(mode)
        .arg(proxy.url())
        .arg(proxy.ca_pem())
        .arg(host)
        .arg(path)
        .arg(messages.to_string()))
}

/// What the client prints for `n` messages echoed whole: the sizes and digests of the
/// event-stream messages `eventstream_client.py` builds (computed here independently).
fn expected_lines(n: usize) -> Vec<String> {
    let mut lines = vec!["status 200".to_owned()];
    let mut total = 0;
    for index in 1..=n {
        let message = event_message(index);
        total += message.len();
        lines.push(format!(
            "echo {index} {} {}",
            message.len(),
            sha256_hex(&message)
        ));
    }
    lines.push(format!("done {total}"));
    lines
}

/// The client's message `index`: an AudioEvent with 1000 + 517 × index payload bytes.
fn event_message(index: usize) -> Vec<u8> {
    let headers: Vec<u8> = [
        (":message-type", "event"),
        (":event-type", "AudioEvent"),
        (":content-type", "application/octet-stream"),
    ]
    .iter()
    .flat_map(|(k, v)| {
        let mut h = vec![u8::try_from(k.len()).unwrap()];
        h.extend_from_slice(k.as_bytes());
        h.push(7);
        h.extend_from_slice(&u16::try_from(v.len()).unwrap().to_be_bytes());
        h.extend_from_slice(v.as_bytes());
        h
    })
    .collect();
    let payload: Vec<u8> = (0..1000 + index * 517)
        .map(|i| u8::try_from((index * 7 + i) % 251).unwrap())
        .collect();
    let total = u32::try_from(12 + headers.len() + payload.len() + 4).unwrap();
    let mut message = total.to_be_bytes().to_vec();
    message.extend_from_slice(&u32::try_from(headers.len()).unwrap().to_be_bytes());
    let prelude_crc = crc32(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&headers);
    message.extend_from_slice(&payload);
    let crc = crc32(&message);
    message.extend_from_slice(&crc.to_be_bytes());
    message
}

/// CRC-32 (IEEE), as event-stream framing uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn an_h2_event_stream_is_echoed_message_by_message() {
    let pki = upstream_pki();
    let (_server, port) = start_echo_server(&pki);
    let proxy = start_proxy_routed(&pki, port, &["--mode", "enforce"]);
    let host = "runtime-v2-lex.us-east-1.amazonaws.com";
    let path = "/bots/BOT1234567/botAliases/TSTALIASID/botLocales/en_US/sessions/s-1/conversation";
    let out = client(&proxy, "h2", host, path, 4);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected_lines(4));
    let event = proxy.wait_event(|e| e["requestHost"] == host);
    assert_eq!(event["eventName"], "StartConversation");
    assert_eq!(event["eventSource"], "lex.amazonaws.com");
    assert_eq!(event["decision"], "allowed");
    assert_eq!(event["responseStatus"], 200);
    assert_eq!(event["bodyInspected"], false);
    assert_eq!(event["tlsDetails"]["upstreamTlsVersion"], "TLSv1.3");
}

#[test]
fn an_h1_chunked_event_stream_is_echoed_message_by_message_by_an_h2_upstream() {
    let pki = upstream_pki();
    let (_server, port) = start_echo_server(&pki);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let host = "transcribestreaming.us-east-1.amazonaws.com";
    let out = client(&proxy, "h1", host, "/stream-transcription", 4);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected_lines(4));
    let event = proxy.wait_event(|e| e["requestHost"] == host);
    assert_eq!(event["decision"], "allowed");
    assert_eq!(event["responseStatus"], 200);
    assert_eq!(event["bodyInspected"], false);
}
