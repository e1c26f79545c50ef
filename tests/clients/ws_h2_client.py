#!/usr/bin/env python3
"""A WebSocket client over HTTP/2 extended CONNECT (RFC 8441) through an HTTPS proxy, for
tests/websocket.rs. Python `h2` for the HTTP/2 side; WebSocket frames built here (no library
speaks WebSocket over an HTTP/2 stream).

Usage: ws_h2_client.py PROXY_URL CA_PEM HOST PATH MESSAGE...
Opens a tunnel with CONNECT HOST:443, speaks h2 over TLS, waits for the server's
SETTINGS_ENABLE_CONNECT_PROTOCOL, opens the WebSocket (`:protocol websocket`), sends each
message as a text frame and prints each answer on its own line (a message `@sleep=N` waits N
seconds instead), then closes (close frame, end of
stream). On a refused open prints `refused <status>` and exits 3; exits 4 when the server does
not enable extended CONNECT. `WS_H2_PROTOCOL` names another `:protocol` to ask for.
"""
import os
import socket
import ssl
import struct
import sys
import time
from urllib.parse import urlparse

import h2.config
import h2.connection
import h2.events
import h2.settings

TEXT, CLOSE = 0x1, 0x8


def frame(opcode, payload):
    """One final client frame (masked, RFC 6455 §5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def parse(buf):
    """The first whole server frame in `buf` as (opcode, payload, rest), or None."""
    if len(buf) < 2:
        return None
    opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, at = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, at = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < at + n:
        return None
    return opcode, buf[at : at + n], buf[at + n :]


class Client:
    def __init__(self, tls):
        self.tls = tls
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.events = []

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.tls.sendall(data)

    def pump(self):
        data = self.tls.recv(65536)
        if not data:
            raise SystemExit("the proxy closed the connection")
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            self.events.append(event)
        self.flush()

    def next_event(self, kinds):
        while True:
            for i, event in enumerate(self.events):
                if isinstance(event, kinds):
                    return self.events.pop(i)
            self.pump()

    def send(self, sid, payload):
        while payload:
            room = min(
                self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size
            )
            if room == 0:
                self.pump()
                continue
            self.conn.send_data(sid, payload[:room])
            payload = payload[room:]
            self.flush()


def main():
    proxy_url, ca, host, path, *messages = sys.argv[1:]
    proxy = urlparse(proxy_url)
    sock = socket.create_connection((proxy.hostname, proxy.port), timeout=10)
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"CONNECT failed: {head!r}")
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["h2"])
    tls = ctx.wrap_socket(sock, server_hostname=host)
    if tls.selected_alpn_protocol() != "h2":
        raise SystemExit("the proxy did not negotiate h2")
    client = Client(tls)
    client.conn.initiate_connection()
    client.flush()
    settings = client.next_event(h2.events.RemoteSettingsChanged)
    enabled = settings.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
    if enabled is None or enabled.new_value != 1:
        print("extended CONNECT not enabled", flush=True)
        sys.exit(4)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(
        sid,
        [
            (":method", "CONNECT"),
            (":protocol", os.environ.get("WS_H2_PROTOCOL", "websocket")),
            (":scheme", "https"),
            (":path", path),
            (":authority", host),
            ("sec-websocket-version", "13"),
        ],
    )
    client.flush()
    response = client.next_event(h2.events.ResponseReceived)
    status = dict(response.headers)[b":status"].decode()
    if not status.startswith("2"):
        print(f"refused {status}", flush=True)
        sys.exit(3)
    buf = b""

    def receive():
        nonlocal buf
        while True:
            parsed = parse(buf)
            if parsed:
                opcode, payload, buf = parsed
                return opcode, payload
            buf += client.next_event(h2.events.DataReceived).data

    for message in messages:
        if message.startswith("@sleep="):
            time.sleep(float(message[len("@sleep=") :]))
            continue
        client.send(sid, frame(TEXT, message.encode()))
        opcode, payload = receive()
        print(payload.decode() if opcode == TEXT else f"opcode {opcode}", flush=True)
    client.send(sid, frame(CLOSE, struct.pack("!H", 1000)))
    opcode, _ = receive()
    if opcode != CLOSE:
        raise SystemExit(f"expected the server's close frame, got opcode {opcode}")
    client.conn.end_stream(sid)
    client.flush()
    tls.close()


main()
