#!/usr/bin/env python3
"""Runs the hostile mix against awsguard while an AWS CLI workload runs, and prints what held.

Not a test: a load script for people (issue 17). It starts moto_server (TLS, a throwaway PKI made
with openssl) and `awsguard run` in front of it, then for --seconds runs at once:
  - idle HTTP/2 floods: connections that finish the handshake, send the h2 preface, and sit idle;
  - slow bodies: inspected calls whose body trickles one byte every two seconds;
  - 1-byte records: inspected calls whose 64 KiB body arrives one byte per TLS record;
  - cancels: calls whose client closes right after sending the head;
  - resets: calls whose client resets the TCP connection in the middle of the body;
and, alongside, the AWS CLI (sqs create-queue / list-queues, sts get-caller-identity) in a loop.
It prints CLI calls completed and failed, events written (and those from the CLI), the proxy's
peak RSS and open file descriptors. Every CLI call should succeed and have exactly one event.

Usage: tools/hostile_load.py [--awsguard target/release/awsguard] [--seconds 60]
"""
import argparse
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST = "sqs.us-east-1.amazonaws.com"
FORM = "application/x-www-form-urlencoded"


def pki(directory):
    """A CA and a server certificate for the AWS names moto answers, written with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=hostile-load CA")
    with open(os.path.join(directory, "ext.cnf"), "w") as ext:
        ext.write("subjectAltName=DNS:amazonaws.com,DNS:*.amazonaws.com,"
                  "DNS:*.us-east-1.amazonaws.com,IP:127.0.0.1\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=moto")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


class Proxy:
    def __init__(self, binary, work, moto_port):
        self.events = os.path.join(work, "events.jsonl")
        config = os.path.join(work, "awsguard.toml")
        with open(config, "w") as f:
            f.write("max-connections = 1024\nidle-timeout = 10\nbody-read-timeout = 5\n"
                    "budget-wait-timeout = 5\n")
        self.process = subprocess.Popen(
            [binary, "run", "--listen", "127.0.0.1:0", "--ca-dir", os.path.join(work, "ca"),
             "--events", self.events, "--config", config,
             "--connect-to", f"*.amazonaws.com=127.0.0.1:{moto_port}",
             "--upstream-ca", os.path.join(work, "ca.pem")],
            stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            if line.startswith("awsguard listening on "):
                host, port = line.split()[3].rsplit(":", 1)
                self.addr = (host, int(port))
                break
        else:
            sys.exit("awsguard did not start")
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()
        self.ca = os.path.join(work, "ca", "awsguard-ca.pem")
        self.peak_rss_kib = 0
        self.peak_fds = 0

    def sample(self):
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
            self.peak_fds = max(self.peak_fds, len(os.listdir(f"/proc/{pid}/fd")))
        except OSError:
            pass

    def tls(self, alpn="http/1.1"):
        """An intercepted TLS connection to HOST through CONNECT."""
        raw = socket.create_connection(self.addr, timeout=30)
        raw.sendall(f"CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = raw.recv(1)
            if not chunk:
                raise OSError("proxy closed the CONNECT")
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            raise OSError(head.split(b"\r\n")[0].decode())
        context = ssl.create_default_context(cafile=self.ca)
        context.set_alpn_protocols([alpn])
        return context.wrap_socket(raw, server_hostname=HOST)


def post_head(length, framing=None):
    framing = framing or f"Content-Length: {length}"
    return (f"POST / HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {FORM}\r\n{framing}\r\n"
            "Connection: close\r\n\r\n").encode()


BODY = b"Action=ListQueues&Version=2012-11-05&QueueNamePrefix="


def idle_h2(proxy, stop, held):
    conn = proxy.tls("h2")
    conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">I", 0)[1:] + b"\x04\x00"
                 + b"\x00\x00\x00\x00")
    held.append(conn)
    conn.settimeout(1)
    # Held until the proxy closes it (idle timeout), then the flood opens another.
    while not stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue


def slow_body(proxy, stop):
    conn = proxy.tls()
    body = BODY + b"a" * 200
    conn.sendall(post_head(len(body)))
    for byte in body:
        if stop.wait(2):
            break
        conn.sendall(bytes([byte]))
    conn.close()


def one_byte_records(proxy, stop):
    conn = proxy.tls()
    body = BODY + b"a" * (64 * 1024 - len(BODY))
    conn.sendall(post_head(len(body)))
    for i in range(len(body)):
        if i % 4096 == 0 and stop.is_set():
            break
        conn.sendall(body[i:i + 1])
    conn.recv(1024)
    conn.close()


def cancel(proxy, stop):
    conn = proxy.tls()
    conn.sendall(f"GET /?Action=ListQueues HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    conn.close()


def reset(proxy, stop):
    conn = proxy.tls()
    conn.sendall(post_head(100_000) + BODY)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def forever(kind, proxy, stop, counts, *args):
    while not stop.is_set():
        try:
            kind(proxy, stop, *args)
            counts[kind.__name__] = counts.get(kind.__name__, 0) + 1
        except (OSError, ssl.SSLError):
            counts[kind.__name__ + " errors"] = counts.get(kind.__name__ + " errors", 0) + 1
            stop.wait(0.2)


def aws_cli(proxy, work, stop, results):
    env = {
        "PATH": os.environ["PATH"], "HOME": work, "HTTPS_PROXY": f"http://{proxy.addr[0]}:{proxy.addr[1]}",
        "AWS_CA_BUNDLE": proxy.ca, "AWS_ACCESS_KEY_ID": "AKIA2OGYBAH6TESTKEY7",
        "AWS_SECRET_ACCESS_KEY": "testing/secret/key/not/real/0000000000",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(work, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "no-credentials"),
        "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "",
    }
    commands = [["sqs", "create-queue", "--queue-name", "load-q"], ["sqs", "list-queues"],
                ["sts", "get-caller-identity"]]
    i = 0
    while not stop.is_set():
        command = commands[i % len(commands)]
        i += 1
        done = subprocess.run(["aws", *command], env=env, capture_output=True, text=True)
        results.append((command[1], done.returncode, done.stderr.strip()[-200:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awsguard", default="target/release/awsguard")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--idle-h2", type=int, default=300)
    parser.add_argument("--slow", type=int, default=100)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="awsguard-load-")
    pki(work)
    moto_port = free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port),
                             "-c", os.path.join(work, "server.pem"),
                             "-k", os.path.join(work, "server.key")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = None
    try:
        wait_port(moto_port)
        proxy = Proxy(args.awsguard, work, moto_port)
        stop = threading.Event()
        counts, held, results = {}, [], []
        threads = [threading.Thread(target=forever, args=(idle_h2, proxy, stop, counts, held))
                   for _ in range(args.idle_h2)]
        threads += [threading.Thread(target=forever, args=(slow_body, proxy, stop, counts))
                    for _ in range(args.slow)]
        threads += [threading.Thread(target=forever, args=(kind, proxy, stop, counts))
                    for kind in (one_byte_records, one_byte_records, cancel, reset)]
        threads.append(threading.Thread(target=aws_cli, args=(proxy, work, stop, results)))
        for thread in threads:
            thread.daemon = True
            thread.start()
        end = time.time() + args.seconds
        while time.time() < end:
            proxy.sample()
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        for conn in held:
            conn.close()
        time.sleep(1)
        proxy.sample()
        proxy.process.terminate()
        proxy.process.wait(timeout=20)
        with open(proxy.events) as f:
            events = [json.loads(line) for line in f]
        cli_events = [e for e in events if e["eventType"] == "api-call"
                      and (e.get("userAgent") or "").startswith("aws-cli")]
        failed = [r for r in results if r[1] != 0]
        print(f"CLI calls completed: {len(results) - len(failed)}  failed: {len(failed)}")
        for name, code, message in failed[:5]:
            print(f"  failed {name} ({code}): {message}")
        print(f"events written: {len(events)}  api-call events from the CLI: {len(cli_events)}"
              f"  (expected {len(results)})")
        codes = {}
        for e in events:
            codes[e.get("errorCode")] = codes.get(e.get("errorCode"), 0) + 1
        print(f"events by errorCode: {codes}")
        print(f"hostile clients run: {counts}")
        print(f"proxy peak RSS: {proxy.peak_rss_kib / 1024:.1f} MiB  peak open fds: {proxy.peak_fds}")
        ok = not failed and len(cli_events) == len(results)
        print("OK" if ok else "NOT OK")
        return 0 if ok else 1
    finally:
        if proxy and proxy.process.poll() is None:
            proxy.process.kill()
        moto.kill()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
