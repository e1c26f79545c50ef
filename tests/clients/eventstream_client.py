#!/usr/bin/env python3
"""A full-duplex event-stream client through an HTTP proxy (tests/event_stream.rs).

Usage: eventstream_client.py h2|h1 PROXY_URL CA_PEM HOST PATH N

Opens CONNECT HOST:443 through the proxy, TLS trusting CA_PEM, then POSTs an
`application/vnd.amazon.eventstream` body of N event-stream messages: it sends message 1, reads
its echo in full, then sends message 2, and so on; only then does it end the request. Over h2
(the `h2` library) the body is a stream's DATA frames, signed as the SDKs sign event streams
(`x-amz-content-sha256: STREAMING-...-EVENTS`); over h1 it is `Transfer-Encoding: chunked` with
the content type alone to say what it is.
A proxy that held either direction back until the request ended would leave the first echo
unanswered: reads time out after 15 s and the client exits 1.

Prints `status S`, one `echo I LEN SHA256` per message and `done TOTAL` on success.
"""
import hashlib
import socket
import ssl
import sys
import urllib.parse
import zlib

import h2.config
import h2.connection
import h2.events

TIMEOUT = 15


def message(index):
    """One event-stream message (prelude, CRCs, string headers), as Transcribe's AudioEvent."""
    headers = {":message-type": "event", ":event-type": "AudioEvent", ":content-type": "application/octet-stream"}
    encoded = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + len(v).to_bytes(2, "big") + v.encode()
        for k, v in headers.items()
    )
    payload = bytes((index * 7 + i) % 251 for i in range(1000 + index * 517))
    total = 12 + len(encoded) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    body = prelude + encoded + payload
    return body + zlib.crc32(body).to_bytes(4, "big")


def tunnel(proxy_url, ca_pem, host, alpn):
    proxy = urllib.parse.urlsplit(proxy_url)
    sock = socket.create_connection((proxy.hostname, proxy.port), timeout=TIMEOUT)
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            sys.exit("proxy closed during CONNECT")
        head += byte
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit(f"CONNECT refused: {head!r}")
    ctx = ssl.create_default_context(cafile=ca_pem)
    ctx.set_alpn_protocols([alpn])
    tls = ctx.wrap_socket(sock, server_hostname=host)
    if tls.selected_alpn_protocol() != alpn:
        sys.exit(f"proxy chose {tls.selected_alpn_protocol()} instead of {alpn}")
    return tls


def report(index, echoed, sent):
    if echoed != sent:
        sys.exit(f"echo {index} differs: {len(echoed)} bytes back for {len(sent)} sent")
    print(f"echo {index} {len(echoed)} {hashlib.sha256(echoed).hexdigest()}", flush=True)


def run_h2(tls, host, path, count):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [
        (":method", "POST"), (":scheme", "https"), (":authority", host), (":path", path),
        ("content-type", "application/vnd.amazon.eventstream"),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-EVENTS"),
    ])
    tls.sendall(conn.data_to_send())
    state = {"status": None, "data": b"", "ended": False}

    def pump():
        data = tls.recv(65536)
        if not data:
            sys.exit("connection closed")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                state["status"] = dict(event.headers)[b":status"].decode()
                print(f"status {state['status']}", flush=True)
            elif isinstance(event, h2.events.DataReceived):
                state["data"] += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                state["ended"] = True
            elif isinstance(event, h2.events.StreamReset):
                sys.exit(f"stream reset: {event.error_code}")
        tls.sendall(conn.data_to_send())

    total = 0
    for index in range(1, count + 1):
        sent = message(index)
        conn.send_data(1, sent)
        tls.sendall(conn.data_to_send())
        while len(state["data"]) < len(sent):
            if state["ended"]:
                sys.exit("response ended early")
            pump()
        echoed, state["data"] = state["data"][: len(sent)], state["data"][len(sent):]
        report(index, echoed, sent)
        total += len(sent)
    conn.end_stream(1)
    tls.sendall(conn.data_to_send())
    while not state["ended"]:
        pump()
    if state["data"]:
        sys.exit(f"{len(state['data'])} bytes after the last echo")
    print(f"done {total}", flush=True)


class ChunkedReader:
    """Reads an HTTP/1.1 response head, then its chunked body as it arrives."""

    def __init__(self, tls):
        self.tls = tls
        self.buf = b""
        self.ended = False

    def fill(self):
        data = self.tls.recv(65536)
        if not data:
            sys.exit("connection closed")
        self.buf += data

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        if fields.get("transfer-encoding", "").lower() != "chunked":
            sys.exit(f"response is not chunked: {head!r}")
        return lines[0].split(" ")[1]

    def read(self, n):
        """Up to the next `n` body bytes, waiting for at least one chunk."""
        out = b""
        while len(out) < n and not self.ended:
            while b"\r\n" not in self.buf:
                self.fill()
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                self.fill()
                size_line, rest = self.buf.split(b"\r\n", 1)
            if size == 0:
                self.ended = True
            out += rest[:size]
            self.buf = rest[size + 2:]
        return out


def run_h1(tls, host, path, count):
    tls.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/vnd.amazon.eventstream\r\n\r\n".encode()
    )
    reader = ChunkedReader(tls)
    total = 0
    for index in range(1, count + 1):
        sent = message(index)
        tls.sendall(f"{len(sent):x}\r\n".encode() + sent + b"\r\n")
        if index == 1:
            print(f"status {reader.head()}", flush=True)
        echoed = b""
        while len(echoed) < len(sent):
            if reader.ended:
                sys.exit("response ended early")
            echoed += reader.read(len(sent) - len(echoed))
        report(index, echoed, sent)
        total += len(sent)
    tls.sendall(b"0\r\n\r\n")
    rest = reader.read(1)
    if rest or not reader.ended:
        sys.exit("bytes after the last echo")
    print(f"done {total}", flush=True)


def main():
    mode, proxy_url, ca_pem, host, path, count = sys.argv[1:7]
    tls = tunnel(proxy_url, ca_pem, host, "h2" if mode == "h2" else "http/1.1")
    (run_h2 if mode == "h2" else run_h1)(tls, host, path, int(count))


if __name__ == "__main__":
    main()
