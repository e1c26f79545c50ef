#!/usr/bin/env python3
"""A WebSocket client through an HTTPS proxy (python `websockets`), for tests/websocket.rs.

Usage: ws_client.py PROXY_URL CA_PEM WSS_URL MESSAGE... — sends each message, prints each answer
on its own line, then closes. On a refused handshake prints `refused <status>` and exits 3.
"""
import asyncio
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


async def main():
    proxy, ca, url, *messages = sys.argv[1:]
    ctx = ssl.create_default_context(cafile=ca)
    try:
        async with connect(url, ssl=ctx, proxy=proxy, proxy_ssl=None, open_timeout=10) as ws:
            for message in messages:
                await ws.send(message)
                print(await asyncio.wait_for(ws.recv(), 10), flush=True)
    except InvalidStatus as refused:
        print(f"refused {refused.response.status_code}", flush=True)
        sys.exit(3)


asyncio.run(main())
