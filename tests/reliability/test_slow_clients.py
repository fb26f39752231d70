"""Slow clients do not hold connections (issue 29): request headers must arrive within
``header_read_seconds`` and a body may pause at most ``body_read_seconds`` between two
pieces; past either the server answers 408 and closes. A real uvicorn on loopback."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.slow

HEADER_SECONDS = 1.0
BODY_SECONDS = 1.0


SERVICE = {"header_read_seconds": HEADER_SECONDS, "body_read_seconds": BODY_SECONDS}


def _until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """What the server sent before closing, and when it closed (seconds from now)."""
    started, received = time.monotonic(), b""
    sock.settimeout(limit)
    while True:
        try:
            piece = sock.recv(4096)
        except TimeoutError:
            return received, float("inf")
        if not piece:
            return received, time.monotonic() - started
        received += piece


def test_headers_sent_too_slowly_are_cut_off(live_server) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        sock.sendall(b"POST /v1/retrieve HTTP/1.1\r\nHost: localhost\r\n")  # ... and no more
        received, closed_after = _until_closed(sock, HEADER_SECONDS + 5)
    assert closed_after < HEADER_SECONDS + 2, closed_after
    assert received.startswith(b"HTTP/1.1 408")


def test_a_body_that_stalls_is_refused_with_408(live_server) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        sock.sendall(
            b"POST /v1/retrieve HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json"
            b'\r\ncontent-length: 100\r\n\r\n{"question": '
        )  # 14 of the 100 bytes promised, then silence
        received, closed_after = _until_closed(sock, BODY_SECONDS + 10)
    assert received.startswith(b"HTTP/1.1 408"), received[:200]
    assert b"request_timeout" in received
    assert closed_after < BODY_SECONDS + 5


def test_a_normal_request_is_not_affected(live_server) -> None:
    import httpx

    r = httpx.post(f"{live_server.url}/v1/retrieve", json={"question": "wifi"}, timeout=60)
    assert r.status_code == 200 and r.json()["chunks"]
