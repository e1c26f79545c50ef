"""mitmdump addon for tools/peers/mitmproxy/mitmdump-peer (see there)."""

import asyncio
import shutil

from mitmproxy import ctx


class FixedUpstream:
    def load(self, loader):
        loader.add_option(
            "peer_upstream", str, "", "HOST:PORT that every upstream connection dials."
        )

    def running(self):
        # This hook may run before tlsconfig's own `running`, which is when it
        # reads the CA from confdir, so announce readiness from a task that
        # waits for that.
        self._announce_task = asyncio.get_running_loop().create_task(self._announce())

    async def _announce(self):
        tlsconfig = ctx.master.addons.get("tlsconfig")
        while tlsconfig.certstore is None:
            await asyncio.sleep(0.01)
        # The CA is in memory now; the private confdir is no longer needed.
        shutil.rmtree(ctx.options.confdir, ignore_errors=True)
        host, port = ctx.master.addons.get("proxyserver").listen_addrs()[0][:2]
        print(f"listening on {host}:{port}", flush=True)

    def server_connect(self, data):
        host, _, port = ctx.options.peer_upstream.rpartition(":")
        server = data.server
        # Keep the requested name for SNI and certificate verification; only
        # the TCP destination changes.
        if server.sni is None:
            server.sni = server.address[0]
        server.address = (host, int(port))


addons = [FixedUpstream()]
