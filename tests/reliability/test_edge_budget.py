"""Refuse before reading: on a real server (uvicorn on loopback, auth on), a caller without a
key cannot make the service read, spool or parse a body, chunked or not; with a key, no body
is read past its byte budget, and no upload file past its per-file limit."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from itertools import chain

import psutil
import pytest

from app.core.auth import create_key
from app.service import FactVault
from tests.fixtures import LiveServer
from tests.rawhttp import filler, multipart_head, post_chunked

pytestmark = pytest.mark.slow
MiB = 1 << 20
REQUEST_BUDGET = 64 * 1024
UPLOAD_BUDGET = 2 * MiB
FILE_LIMIT = 1 * MiB
# What can be in flight between a sender and a server that stopped reading: loopback socket
# buffers on both sides plus uvicorn's read-ahead. Far below the bodies sent here.
IN_FLIGHT = 16 * MiB
BODY = 160 * MiB


SERVICE = {
    "auth_enabled": True,
    "max_request_bytes": REQUEST_BUDGET,
    "max_upload_bytes": UPLOAD_BUDGET,
    "max_file_bytes": FILE_LIMIT,
}


@pytest.fixture(scope="module")
def admin(service: FactVault) -> dict[str, str]:
    with service.runtime.db.session() as s:
        return {"Authorization": f"Bearer {create_key(s, 'budget-admin', 'admin')}"}


def documents(service: FactVault) -> int:
    with service.runtime.db.session() as s:
        from sqlalchemy import func, select

        from app.core.db import Document

        return s.scalar(select(func.count()).select_from(Document))


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def json_body(total: int) -> Iterator[bytes]:
    return chain([b'{"question": "'], filler(total))


def upload_body(boundary: str, name: str, total: int) -> Iterator[bytes]:
    return chain([multipart_head(boundary, name)], filler(total))


def test_no_key_chunked_json_is_refused_unread(live_server: LiveServer) -> None:
    before = rss()
    r = post_chunked(
        live_server.port, "/v1/retrieve", {"Content-Type": "application/json"}, json_body(BODY)
    )
    assert r.status == 401 and r.json()["code"] == "unauthorized"
    assert r.body_bytes_sent < IN_FLIGHT, f"{r.body_bytes_sent:,} bytes accepted before 401"
    assert rss() - before < IN_FLIGHT


def test_no_key_chunked_upload_is_refused_unread(live_server: LiveServer, service) -> None:
    before_docs, before_rss = documents(service), rss()
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    r = post_chunked(live_server.port, "/v1/documents", headers, upload_body("xyz", "a.txt", BODY))
    assert r.status == 401
    assert r.body_bytes_sent < IN_FLIGHT, f"{r.body_bytes_sent:,} bytes accepted before 401"
    assert rss() - before_rss < IN_FLIGHT
    assert documents(service) == before_docs


def test_json_body_is_cut_off_at_its_budget(live_server: LiveServer, admin) -> None:
    before = rss()
    headers = {"Content-Type": "application/json", **admin}
    r = post_chunked(live_server.port, "/v1/retrieve", headers, json_body(BODY))
    assert r.status == 413 and r.json()["code"] == "request_too_large", r.body[:300]
    assert r.body_bytes_sent < REQUEST_BUDGET + IN_FLIGHT
    assert rss() - before < IN_FLIGHT


def test_upload_file_is_cut_off_at_the_per_file_limit(live_server, service, admin) -> None:
    before = documents(service)
    headers = {"Content-Type": "multipart/form-data; boundary=xyz", **admin}
    r = post_chunked(
        live_server.port, "/v1/documents", headers, upload_body("xyz", "big.txt", BODY)
    )
    assert r.status == 413 and r.json()["code"] == "upload_too_large"
    assert "big.txt" in r.json()["detail"]
    assert r.body_bytes_sent < FILE_LIMIT + IN_FLIGHT
    assert documents(service) == before
    assert list(service.settings.upload_spool_dir.iterdir()) == []  # nothing left spooled


def test_upload_total_is_capped_even_when_each_file_fits(live_server, service, admin) -> None:
    """Files each under the per-file limit, together over the request's budget: refused,
    nothing stored (no file of the request is ingested)."""
    before = documents(service)
    parts = []
    for i in range(4):
        parts += [b"\r\n" if i else b"", multipart_head("xyz", f"part{i}.txt")]
        parts += list(filler(900 * 1024, 64 * 1024))
    parts.append(b"\r\n--xyz--\r\n")
    headers = {"Content-Type": "multipart/form-data; boundary=xyz", **admin}
    r = post_chunked(live_server.port, "/v1/documents", headers, iter(parts))
    assert r.status == 413 and r.json()["code"] == "upload_too_large", r.body[:300]
    assert documents(service) == before


def test_declared_oversize_is_refused_before_reading(live_server, admin) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    conn.putrequest("POST", "/v1/retrieve")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(BODY))
    for k, v in admin.items():
        conn.putheader(k, v)
    conn.endheaders()  # no body at all: the answer must not wait for it
    resp = conn.getresponse()
    assert resp.status == 413 and json.loads(resp.read())["code"] == "request_too_large"
    conn.close()


def test_a_normal_upload_and_question_still_work(live_server, service, admin) -> None:
    import httpx

    with httpx.Client(base_url=live_server.url, headers=admin, timeout=120) as c:
        r = c.post("/v1/documents", files=[("files", ("ok.md", b"# Ok\n\nThe pantry is blue.\n"))])
        assert r.status_code == 201, r.text
        r = c.post("/v1/retrieve", json={"question": "what colour is the pantry", "top_k": 1})
        assert r.status_code == 200 and "pantry" in r.json()["chunks"][0]["text"]
