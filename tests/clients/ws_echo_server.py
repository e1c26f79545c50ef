#!/usr/bin/env python3
"""A WebSocket echo server over TLS on 127.0.0.1 (the test upstream for tests/websocket.rs).

Usage: ws_echo_server.py CERT KEY — prints its port on the first line, echoes every message
(prefixed with `echo:`) until killed.
"""
import asyncio
import ssl
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(f"echo:{message}")


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(echo, "127.0.0.1", 0, ssl=ctx) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
