"""The query service over HTTP, on real components: Qdrant Edge, SQLite, MiniLM, and the
bundled GGUF models run by llama.cpp (SmolLM2 for mechanics, Qwen2.5-Coder-0.5B where the
answer's content matters)."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.service import FactVault
from tests.fixtures import REPO, wait_until

pytestmark = pytest.mark.slow


SERVICE: dict = {}


@pytest.fixture
def use_model(client: TestClient):
    def activate(name: str) -> None:
        resp = client.put("/v1/models/active", json={"name": name})
        assert resp.status_code == 200, resp.text

    yield activate
    activate("smollm2-135m")


def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    client.post("/v1/retrieve", json={"question": "wifi"})
    metrics = client.get("/metrics").text
    assert 'factvault_requests_total{route="/v1/retrieve",status="200"}' in metrics
    assert 'factvault_active_model_info{name="smollm2-135m"} 1' in metrics


def test_retrieve_without_top_k_returns_the_configured_number(
    client: TestClient, service: FactVault
) -> None:
    """The default lives in Settings alone (FACTVAULT_SEARCH_TOP_K), not in the schema."""
    before = service.settings.search_top_k
    service.settings.search_top_k = 2
    try:
        resp = client.post("/v1/retrieve", json={"question": "guest wifi network name"})
        assert resp.status_code == 200 and len(resp.json()["chunks"]) == 2
    finally:
        service.settings.search_top_k = before


def test_retrieve(client: TestClient) -> None:
    resp = client.post("/v1/retrieve", json={"question": "guest wifi network name", "top_k": 2})
    assert resp.status_code == 200
    chunks = resp.json()["chunks"]
    assert "larkspur-guest" in chunks[0]["text"]
    assert chunks[0]["source"].endswith("office-guide.html")
    start, end = chunks[0]["span"]
    assert end > start


def test_validation_errors_are_problem_details(client: TestClient) -> None:
    resp = client.post("/v1/query", json={"question": "", "top_k": 500})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "validation_error" and "top_k" in body["detail"]
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert client.delete("/v1/documents/99999").json()["code"] == "not_found"


def test_query_returns_answer_model_and_citations_shape(client: TestClient) -> None:
    resp = client.post(
        "/v1/query",
        json={"question": "What is the guest Wi-Fi network?", "top_k": 2, "max_tokens": 40},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"]["name"] == "smollm2-135m" and len(body["model"]["sha256"]) == 64
    assert body["answer"]
    assert body["index_version"].startswith("fv-")
    assert {"retrieve", "generate", "total"} <= set(body["timings"])
    # An answer either cites, or says it does not know (the model's own words, or a
    # withheld reply): never an uncited claim.
    assert body["citations"] or body["answer"].lower().startswith("i don't know")
    assert body["grounded"] or body["citations"] == []
    for c in body["citations"]:
        assert set(c) >= {"n", "document", "source", "chunk_id", "span", "score", "text"}


def test_streaming_sends_tokens_then_citations(client: TestClient) -> None:
    events = []
    with client.stream(
        "POST",
        "/v1/query",
        json={"question": "Where is the fire assembly point?", "stream": True, "max_tokens": 30},
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
    kinds = [e for e, _ in events]
    assert kinds[-1] == "done" and kinds.count("token") >= 1
    streamed = "".join(d["text"] for e, d in events if e == "token")
    final = events[-1][1]
    # Sentences are released as they pass the grounding check, so the stream shows exactly
    # the final answer: the cited reply, or only "I don't know" when the model cited nothing
    # (SmolLM2 often doesn't) and its reply was withheld.
    assert streamed == final["answer"]
    if final["grounded"]:
        assert final["citations"]
    else:
        assert final["answer"] == "I don't know" and final["citations"] == []
    assert "citations" in final and final["model"]["name"] == "smollm2-135m"


def test_upload_list_delete_through_the_pipeline(client: TestClient) -> None:
    resp = client.post(
        "/v1/documents",
        files={
            "files": (
                "../../etc/passwd-notes.md",
                b"# Vault\n\nThe vault code is 7731.\n",
                "text/markdown",
            )
        },
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["new"] == 1 and body["failed"] == []
    doc = body["documents"][0]
    assert doc["source"] == "upload/passwd-notes.md"  # no path traversal
    again = client.post(
        "/v1/documents",
        files={"files": ("passwd-notes.md", b"# Vault\n\nThe vault code is 7731.\n")},
    )
    assert again.json()["unchanged"] == 1
    bad = client.post("/v1/documents", files={"files": ("x.pdf", b"%PDF-1.4 nonsense")})
    assert bad.status_code == 201 and "corrupt" in bad.json()["failed"][0]["reason"]

    assert any(d["id"] == doc["id"] for d in client.get("/v1/documents").json())
    hit = client.post("/v1/retrieve", json={"question": "vault code", "top_k": 1}).json()["chunks"][
        0
    ]
    assert "7731" in hit["text"]
    gone = client.delete(f"/v1/documents/{doc['id']}")
    assert gone.status_code == 200 and gone.json()["chunks"] == doc["chunk_count"]
    hits = client.post("/v1/retrieve", json={"question": "vault code", "top_k": 3}).json()["chunks"]
    assert all("7731" not in h["text"] for h in hits)


def test_models_list_is_openai_shaped(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    names = {m["id"] for m in body["data"]}
    assert {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"} <= names
    assert body["object"] == "list" and body["active"] == "smollm2-135m"


@pytest.fixture
def in_models_dir(models_dir: Path) -> Iterator[Path]:
    """A scratch folder inside the models dir: the API registers files only from there."""
    folder = Path(tempfile.mkdtemp(dir=models_dir))
    yield folder
    shutil.rmtree(folder)


def test_swap_to_corrupted_gguf_is_refused_and_old_model_stays(
    client: TestClient, in_models_dir: Path, models_dir
) -> None:
    src = models_dir / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    copy = in_models_dir / "tampered.gguf"
    shutil.copyfile(src, copy)
    resp = client.post("/v1/models", json={"path": str(copy), "name": "tampered"})
    assert resp.status_code == 201, resp.text
    with copy.open("r+b") as fh:  # flip bytes in the weights after registration
        fh.seek(copy.stat().st_size // 2)
        fh.write(b"\x00" * 64)
    refused = client.put("/v1/models/active", json={"name": "tampered"})
    assert refused.status_code == 422 and refused.json()["code"] == "model_rejected"
    models = client.get("/v1/models").json()
    assert models["active"] == "smollm2-135m"
    swap = models["swap"]  # what the console shows: the failure, and who still serves
    assert (swap["phase"], swap["target"], swap["previous"]) == (
        "failed",
        "tampered",
        "smollm2-135m",
    )
    assert "sha256" in swap["error"]

    garbage = in_models_dir / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 100)
    resp = client.post("/v1/models", json={"path": str(garbage), "name": "garbage"})
    assert resp.status_code == 422 and resp.json()["code"] == "model_rejected"


def test_swap_reports_its_phases_while_it_runs(client: TestClient, use_model) -> None:
    """GET /v1/models shows a running activation's phase (the console polls it)."""
    seen: list[str] = []
    swapper = threading.Thread(target=use_model, args=("qwen2.5-coder-1.5b",))
    swapper.start()
    while swapper.is_alive():
        swap = client.get("/v1/models").json()["swap"]
        if swap.get("target") == "qwen2.5-coder-1.5b" and swap["phase"] not in seen:
            seen.append(swap["phase"])
        time.sleep(0.02)
    swapper.join()
    final = client.get("/v1/models").json()["swap"]
    assert final["phase"] == "done" and final["previous"] == "smollm2-135m"
    assert final["seconds"] > 0
    # Hashing 1 GB and loading it take long enough to be seen; order is never reversed.
    order = ["verifying", "loading", "switching", "done"]
    assert "loading" in seen or "verifying" in seen, seen
    assert seen == sorted(seen, key=order.index), seen


def test_hot_swap_under_8_concurrent_clients(client: TestClient, service: FactVault) -> None:
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 40

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            resp = client.post(
                "/v1/query",
                json={
                    "question": f"What is the sick leave rule? ({i})",
                    "top_k": 1,
                    "max_tokens": 8,
                },
            )
            name = resp.json().get("model", {}).get("name") if resp.status_code == 200 else None
            with lock:
                results.append((resp.status_code, name))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    old = service.models.current
    # Swapped once answers are coming back and some are still being answered.
    wait_until(lambda: len(results) >= 8 and old.inflight > 0, 120, "requests in flight")
    swap = client.put("/v1/models/active", json={"name": "qwen2.5-coder-0.5b"})
    assert swap.status_code == 200, swap.text
    for t in threads:
        t.join()
    client.put("/v1/models/active", json={"name": "smollm2-135m"})
    assert old.inflight == 0

    statuses = [s for s, _ in results]
    names = {n for _, n in results}
    # 8 clients and a queue of 8: nothing should be refused, and nothing may fail.
    assert statuses and all(s == 200 for s in statuses), statuses
    assert names == {"smollm2-135m", "qwen2.5-coder-0.5b"}
    assert old.retired and old.closed and old.llama is None  # freed after its last request


def test_cli_goes_through_the_running_service(service: FactVault, tmp_path: Path) -> None:
    """The service owns the embedded stores; the CLI must use its API, not the lock. It finds
    the server by the address recorded in the data dir, though FACTVAULT_PORT names another
    (`factvault serve --port N` and a CLI told nothing)."""
    import os
    import socket
    import subprocess
    import sys

    from app.api.server import Server, uvicorn_config

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    port, configured = free_port(), free_port()
    app = create_app(service.settings, service)
    data_dir = service.settings.data_dir
    server = Server(uvicorn_config(app, service.settings, host="127.0.0.1", port=port), data_dir)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    env = {
        **os.environ,
        "FACTVAULT_DATA_DIR": str(data_dir),
        "FACTVAULT_PORT": str(configured),  # nothing listens there
        "COLUMNS": "200",
    }
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        folder = tmp_path / "more"
        folder.mkdir()
        (folder / "parking.md").write_text("# Parking\n\nVisitor parking is on level -2.\n")
        (folder / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
        repo = REPO
        run = subprocess.run(
            [sys.executable, "-m", "app.cli", "ingest", str(folder)],
            env=env, cwd=repo, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert f"using the service at http://127.0.0.1:{port}" in run.stderr, run.stderr
        assert "\nnew\t1\n" in run.stdout and "\nfailed\t1\n" in run.stdout, run.stdout
        assert run.returncode == 1 and "broken.pdf" in run.stderr
        hit = service.retriever.retrieve("where is visitor parking", 1)[0]
        # Stored under its path, as when the CLI ingests it itself: one document either way.
        assert "level -2" in hit.text and hit.source == (folder / "parking.md").resolve().as_posix()

        asked = subprocess.run(
            [sys.executable, "-m", "app.cli", "query", "Where is visitor parking?",
             "--max-tokens", "20"],
            env=env, cwd=repo, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        assert "model: smollm2-135m" in asked.stdout
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not (data_dir / "server.json").exists()  # a stopped server leaves no address
