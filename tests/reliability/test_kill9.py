"""kill -9 the real service (`factvault serve` in its own process) during uploads and
during a model hot-swap, restart it, and check: every acknowledged upload is there once,
SQL and the vector index agree exactly, and the service answers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.config import get_settings
from app.core.migrate import upgrade
from app.core.runtime import open_runtime
from tests.fixtures import REPO, assert_consistent, wait_until

pytestmark = pytest.mark.slow


class Service:
    def __init__(self, data_dir: Path, models_dir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FACTVAULT_DATA_DIR": str(data_dir),
            "FACTVAULT_MODELS_PATH": str(models_dir),
            "FACTVAULT_PORT": str(self.port),
            "FACTVAULT_DEFAULT_MODEL": "smollm2-135m",
            "FACTVAULT_AUTH_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], cwd=REPO, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read().decode()[-3000:]
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("service did not become ready")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def service(tmp_path: Path, models_dir: Path) -> Iterator[Service]:
    settings = get_settings(data_dir=tmp_path / "data", database_url=None, qdrant_url=None)
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    svc = Service(tmp_path / "data", models_dir)
    yield svc
    svc.stop()


def check_store(data_dir: Path, minilm) -> None:
    settings = get_settings(data_dir=data_dir, database_url=None, qdrant_url=None)
    rt = open_runtime(settings, embedder=minilm)
    try:
        assert_consistent(rt)
    finally:
        rt.close()


def test_kill9_during_uploads_loses_nothing_acknowledged(
    service: Service, tmp_path, minilm
) -> None:
    service.start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def upload() -> None:
        i = 0
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                text = f"# Note {i}\n\n" + " ".join(f"fact {i}-{j} is true." for j in range(400))
                sending.append(i)
                try:
                    r = client.post(
                        f"{service.url}/v1/documents",
                        files=[("files", (f"note-{i}.md", text.encode(), "text/markdown"))],
                    )
                except httpx.HTTPError:
                    return  # the server died under us
                if r.status_code == 201:
                    acknowledged.append(f"upload/note-{i}.md")
                i += 1

    sending: list[int] = []
    thread = threading.Thread(target=upload)
    thread.start()
    # The kill lands inside a later upload: three acknowledged, the next one sent.
    wait_until(lambda: len(acknowledged) >= 3 and len(sending) > 3, 120, "three uploads")
    service.kill9()
    stop.set()
    thread.join(timeout=60)
    assert len(acknowledged) >= 3

    service.start()  # start-up repairs whatever the kill left behind
    docs = httpx.get(f"{service.url}/v1/documents", timeout=30).json()
    sources = [d["source"] for d in docs]
    assert len(sources) == len(set(sources))  # nothing duplicated
    assert set(acknowledged) <= set(sources)  # nothing acknowledged lost
    assert all(d["status"] == "active" for d in docs)
    hit = httpx.post(
        f"{service.url}/v1/retrieve", json={"question": "fact 1-7", "top_k": 3}, timeout=60
    )
    assert hit.status_code == 200 and hit.json()["chunks"]
    service.stop()
    check_store(Path(service.env["FACTVAULT_DATA_DIR"]), minilm)


def test_kill9_during_hot_swap_restarts_on_a_whole_model(service: Service, minilm) -> None:
    service.start()
    r = httpx.post(
        f"{service.url}/v1/documents",
        files=[
            ("files", ("leave.md", b"# Leave\n\nStaff get 27 days of leave.\n", "text/markdown"))
        ],
        timeout=120,
    )
    assert r.status_code == 201

    def swap() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies mid-request
            httpx.put(
                f"{service.url}/v1/models/active", json={"name": "qwen2.5-coder-0.5b"}, timeout=120
            )

    thread = threading.Thread(target=swap)
    thread.start()

    def phase() -> str:
        return httpx.get(f"{service.url}/v1/models", timeout=10).json()["swap"]["phase"]

    # Killed once the new model is being read in beside the old one (its file verified).
    wait_until(lambda: phase() in ("loading", "switching", "done"), 120, "the swap to load")
    service.kill9()
    thread.join(timeout=60)

    service.start()
    models = httpx.get(f"{service.url}/v1/models", timeout=30).json()
    assert models["active"] in ("smollm2-135m", "qwen2.5-coder-0.5b")
    answer = httpx.post(
        f"{service.url}/v1/query",
        json={"question": "How many days of leave?", "max_tokens": 24},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"]["name"] == models["active"]
    service.stop()
    check_store(Path(service.env["FACTVAULT_DATA_DIR"]), minilm)
