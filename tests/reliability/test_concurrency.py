"""12 clients for a bounded time against the real service while documents are added and
removed and the model is swapped: the only errors allowed are 503s that carry Retry-After,
and every citation points at a chunk that existed (and was the document's) when cited."""

from __future__ import annotations

import random
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.db import Chunk
from app.service import FactVault
from tests.fixtures import assert_consistent, wait_until

pytestmark = pytest.mark.slow
CLIENTS = 12
SECONDS = 40


SERVICE: dict = {}


def test_clients_writers_and_a_swap_together(service: FactVault, client: TestClient) -> None:
    with service.runtime.db.session() as s:
        stable_chunks = set(s.scalars(select(Chunk.id)))
    uploaded_sources: set[str] = set()
    bad: list[tuple[str, int, str]] = []
    cited: list[tuple[str, str]] = []  # (source, chunk id)
    counts = {"query": 0, "retrieve": 0, "503": 0, "upload": 0, "delete": 0}
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def reader(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < stop:
            if rng.random() < 0.5:
                r = client.post(
                    "/v1/query",
                    json={
                        "question": "How many days of annual leave?",
                        "top_k": 2,
                        "max_tokens": 8,
                    },
                )
                kind = "query"
            else:
                r = client.post(
                    "/v1/retrieve", json={"question": "fire assembly point", "top_k": 3}
                )
                kind = "retrieve"
            with lock:
                if r.status_code == 200:
                    counts[kind] += 1
                    refs = r.json()["citations" if kind == "query" else "chunks"]
                    cited.extend((c["source"], c["chunk_id"]) for c in refs)
                elif r.status_code == 503 and r.headers.get("retry-after"):
                    counts["503"] += 1
                else:
                    bad.append((kind, r.status_code, r.text[:300]))

    def writer() -> None:
        n = 0
        while time.monotonic() < stop:
            name = f"memo-{n}.md"
            text = f"# Memo {n}\n\nMemo {n}: the fire assembly point moved to car park {n}.\n"
            r = client.post(
                "/v1/documents", files=[("files", (name, text.encode(), "text/markdown"))]
            )
            with lock:
                if r.status_code == 201:
                    counts["upload"] += 1
                    uploaded_sources.add(f"upload/{name}")
                else:
                    bad.append(("upload", r.status_code, r.text[:300]))
            if n % 2 == 1:  # remove every other memo again
                doc = r.json()["documents"][0]["id"] if r.status_code == 201 else None
                if doc is not None:
                    d = client.delete(f"/v1/documents/{doc}")
                    with lock:
                        if d.status_code == 200 and d.json()["chunks"] >= 1:  # its receipt
                            counts["delete"] += 1
                        else:
                            bad.append(("delete", d.status_code, d.text[:300]))
            n += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(CLIENTS)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    # The swap lands once every kind of request has gone through at least once.
    wait_until(
        lambda: counts["query"] and counts["retrieve"] and counts["upload"], SECONDS, "traffic"
    )
    swap = client.put("/v1/models/active", json={"name": "qwen2.5-coder-0.5b"})
    for t in threads:
        t.join()
    client.put("/v1/models/active", json={"name": "smollm2-135m"})

    assert swap.status_code == 200, swap.text
    assert bad == [], bad[:5]
    assert counts["query"] > 0 and counts["retrieve"] > 0
    assert counts["upload"] >= 2 and counts["delete"] >= 1
    for source, chunk_id in cited:
        # A stable chunk, or one of a memo this test uploaded (some were deleted since).
        assert chunk_id in stable_chunks or source in uploaded_sources, (source, chunk_id)
    assert_consistent(service.runtime)
    print(f"served: {counts}")  # shown with -s, for the closing note


def test_reindex_through_the_api_while_queries_run(service: FactVault, client: TestClient) -> None:
    assert client.post("/v1/index/reindex", json={"embedder": "word2vec"}).status_code == 422
    before = client.get("/v1/index").json()["active"]["collection"]
    started = client.post("/v1/index/reindex", json={"embedder": "minilm"})
    assert started.status_code == 202, started.text
    statuses = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r = client.post("/v1/retrieve", json={"question": "fire assembly point", "top_k": 3})
        statuses.append(r.status_code)
        state = client.get("/v1/index").json()["reindex"]
        if state["state"] in ("done", "failed"):
            break
    assert state["state"] == "done", state
    assert statuses and set(statuses) == {200}
    index = client.get("/v1/index").json()
    assert index["active"]["collection"] != before
    assert [v["status"] for v in index["versions"]][-2:] == ["retired", "active"]
    assert index["active"]["chunk_count"] == state["report"]["chunks"] > 0
    assert_consistent(service.runtime)


def test_a_replica_follows_a_swap_made_through_another(service: FactVault) -> None:
    """Two API replicas share SQL: a swap through one marks the model active there, and
    the other follows it (here: the swap is written to SQL as the other replica would)."""
    from app.models.registry import mark_active

    assert service.models.current.name == "smollm2-135m"
    assert service.follow_active_model() is False  # nothing to do
    with service.runtime.db.session() as s:
        mark_active(s, "qwen2.5-coder-0.5b")
    try:
        assert service.follow_active_model() is True
        assert service.models.current.name == "qwen2.5-coder-0.5b"
    finally:
        with service.runtime.db.session() as s:
            mark_active(s, "smollm2-135m")
        service.follow_active_model()
    assert service.models.current.name == "smollm2-135m"
