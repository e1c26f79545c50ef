#!/usr/bin/env python3
"""An HTTP/2-only TLS upstream (hypercorn, ASGI) that echoes a request body as it arrives: every
chunk of `application/vnd.amazon.eventstream` the client sends is written back as a response
chunk at once, so a client that waits for each echo before sending more proves that nothing
between them buffers (the test upstream of tests/event_stream.rs).

Usage: eventstream_echo_server.py CERT KEY — prints its port on the first line, serves until
killed.
"""
import asyncio
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    started = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if not started:
            headers = [(b"content-type", b"application/vnd.amazon.eventstream")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            started = True
        body = message.get("body", b"")
        if body:
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile = sys.argv[1]
    config.keyfile = sys.argv[2]
    config.alpn_protocols = ["h2"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    await serve(app, config)


asyncio.run(main())
