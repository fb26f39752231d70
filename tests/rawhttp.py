"""A raw HTTP/1.1 client for tests that must control exactly what is sent and when: a
chunked body sent piece by piece that stops as soon as the server answers, so a test can
tell how much of a body the server accepted before it refused it."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass

PIECE = 256 * 1024


@dataclass
class RawResult:
    status: int
    headers: dict[str, str]
    body: bytes
    body_bytes_sent: int  # of the request body, before the server answered or stopped reading

    def json(self) -> dict:
        return json.loads(self.body)


def filler(total: int, piece: int = PIECE) -> Iterator[bytes]:
    block = b"A" * piece
    while total > 0:
        yield block[: min(piece, total)]
        total -= piece


def post_chunked(
    port: int,
    path: str,
    headers: dict[str, str],
    body: Iterator[bytes],
    stall_seconds: float = 3.0,
) -> RawResult:
    """POST ``body`` with Transfer-Encoding: chunked; stops sending once a response starts
    arriving, the connection breaks, or the server stops reading for ``stall_seconds``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    finished = True
    sock.settimeout(stall_seconds)
    try:
        for piece in body:
            if not piece:
                continue  # an empty chunk would end the body
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                finished = False
                break
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        if finished:
            sock.sendall(b"0\r\n\r\n")
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading or closed: what it answered follows
    sock.settimeout(60)
    raw = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            raw += data
            head_end = raw.find(b"\r\n\r\n")
            if head_end >= 0 and _complete(raw, head_end):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    head_end = raw.find(b"\r\n\r\n")
    assert head_end > 0, f"no response after {sent:,} body bytes: {raw[:200]!r}"
    lines = raw[:head_end].decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return RawResult(status, hdrs, raw[head_end + 4 :], sent)


def _complete(raw: bytes, head_end: int) -> bool:
    head = raw[:head_end].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return len(raw) - head_end - 4 >= int(line.split(":", 1)[1])
    return False


def multipart_head(boundary: str, filename: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
    ).encode()
