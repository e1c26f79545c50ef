"""Sends one inspected call whose body arrives one byte per TLS record: as 1-byte chunks
(`chunks`) or as 1-byte records of a Content-Length body (`records`). Prints the status line."""
import socket, ssl, sys

proxy_host, proxy_port, ca, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
host = "sqs.us-east-1.amazonaws.com"
s = socket.create_connection((proxy_host, proxy_port))
s.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
t = ctx.wrap_socket(s, server_hostname=host)
prefix = b"Action=ListQueues&Version=2012-11-05&QueueNamePrefix="
body = prefix + b"a" * (n - len(prefix))
framing = "Transfer-Encoding: chunked" if mode == "chunks" else f"Content-Length: {len(body)}"
t.sendall((f"POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
           f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n").encode())
for i in range(len(body)):
    byte = body[i:i + 1]
    t.sendall(b"1\r\n" + byte + b"\r\n" if mode == "chunks" else byte)
if mode == "chunks":
    t.sendall(b"0\r\n\r\n")
answer = b""
while b"\r\n" not in answer:
    data = t.recv(65536)
    if not data:
        break
    answer += data
print(answer.split(b"\r\n")[0].decode())
