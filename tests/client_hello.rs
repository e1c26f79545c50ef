//! A ClientHello split across TLS records, through the real binary: the proxy reassembles it,
//! reads its SNI and goes on with the handshake (answers with a ServerHello record).

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;

/// Captured from `openssl s_client -servername sqs.us-east-1.amazonaws.com -alpn h2,http/1.1`.
const HELLO: &[u8] = include_bytes!("../src/tls/testdata/openssl_hello.bin");

/// The hello re-sent as two records, the fragment cut at `at`.
fn split(at: usize) -> Vec<u8> {
    let (header, body) = HELLO.split_at(5);
    let (a, b) = body.split_at(at);
    let mut out = Vec::new();
    for part in [a, b] {
        out.extend_from_slice(&header[..3]);
        out.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The first five bytes the proxy answers `hello` with inside a CONNECT to the hello's host.
fn answer(proxy: &ProxyProc, hello: &[u8]) -> Vec<u8> {
    let mut tcp = std::net::TcpStream::connect(proxy.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"CONNECT sqs.us-east-1.amazonaws.com:443 HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).unwrap(), 1);
        head.push(byte[0]);
    }
    // Each record in its own segment, as a client writing them separately would.
    let mut rest = hello;
    while !rest.is_empty() {
        let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        tcp.write_all(&rest[..len]).unwrap();
        tcp.flush().unwrap();
        rest = &rest[len..];
    }
    let mut first = [0u8; 5];
    let _ = tcp.read_exact(&mut first);
    first.to_vec()
}

#[test]
fn a_client_hello_split_across_two_records_is_accepted_wherever_it_is_cut() {
    let proxy = start_proxy(&[]);
    let body = HELLO.len() - 5;
    let points: Vec<usize> = (1..body).step_by(7).chain([body - 1]).collect();
    for at in points {
        let first = answer(&proxy, &split(at));
        assert_eq!(&first[..2], &[0x16, 0x03], "split at {at}: {first:?}");
    }
    assert!(
        proxy
            .events()
            .iter()
            .all(|e| e["connection"]["outcome"] != "malformed"),
        "{:#?}",
        proxy.events()
    );
}
