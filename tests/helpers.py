"""Assertions and builders shared by the test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from app.core.config import Settings, get_settings
from app.core.db import Chunk, Document, DocumentStatus
from app.core.embedder import Embedder
from app.core.index_versions import active_index
from app.core.migrate import upgrade
from app.core.runtime import Runtime, open_runtime
from app.service import FactVault
from ingest.pipeline import IngestPipeline

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sql_chunk_ids(rt: Runtime) -> set[str]:
    with rt.db.session() as s:
        return set(s.scalars(select(Chunk.id)))


def assert_consistent(rt: Runtime) -> None:
    """SQL and the vector store agree exactly, and no document is half-written."""
    with rt.db.session() as s:
        index = active_index(s)
        assert index is not None
        collection = index.collection
        pending = s.scalars(select(Document).where(Document.status != DocumentStatus.active)).all()
        counts = {d.id: d.chunk_count for d in s.scalars(select(Document))}
        actual = {}
        for doc_id in s.scalars(select(Chunk.document_id)):
            actual[doc_id] = actual.get(doc_id, 0) + 1
    assert pending == []
    assert rt.store.point_ids(collection) == sql_chunk_ids(rt)
    assert {k: v for k, v in counts.items() if v} == actual


def service_settings(root: Path, models_dir: Path, **overrides) -> Settings:
    """Settings for a test service in ``root`` (migrated SQLite, embedded Qdrant, auth off
    unless ``overrides`` say otherwise)."""
    settings = get_settings(
        data_dir=root / "data", database_url=None, qdrant_url=None, models_path=models_dir,
        **{"auth_enabled": False, **overrides},
    )  # fmt: skip
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    return settings


def start_service(
    root: Path,
    embedder: Embedder,
    models_dir: Path,
    default_model: str,
    extra: dict[str, str] | None = None,
    **overrides: object,
) -> FactVault:
    """A real service state over a private copy of the samples (plus ``extra`` files);
    ``overrides`` are settings, fixed before the service is built."""
    shutil.copytree(SAMPLES, root / "corpus")
    for name, text in (extra or {}).items():
        (root / "corpus" / name).write_text(text)
    settings = service_settings(root, models_dir, default_model=default_model, **overrides)
    rt = open_runtime(settings, embedder=embedder)
    IngestPipeline(rt).ingest_paths([root / "corpus"])
    return FactVault(settings, rt).start()


class LiveServer:
    """The real app on a loopback port, served by uvicorn in a thread (for a browser)."""

    def __init__(self, state: FactVault) -> None:
        import socket

        import uvicorn

        from app.main import create_app

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.state = state
        config = uvicorn.Config(
            create_app(state.settings, state), host="127.0.0.1", port=self.port,
            log_level="warning", timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        import threading
        import time

        self._thread = threading.Thread(target=self._server.run, daemon=True, name="uvicorn")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def empty_service(root: Path, embedder: Embedder, models_dir: Path, **overrides) -> FactVault:
    """A service over a fresh data dir with no documents (bundled models registered)."""
    settings = service_settings(root, models_dir, **overrides)
    return FactVault(settings, open_runtime(settings, embedder=embedder)).start()
