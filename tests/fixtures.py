"""The one fixtures module (loaded by conftest.py as a plugin): real components everywhere
(Qdrant Edge, SQLite or PostgreSQL, the MiniLM embedder, the bundled GGUF models).

A test module that needs a running service defines its own module-scoped ``service``
fixture with ``make_service(..., **overrides)`` (settings fixed before the service is
built); ``client`` and ``live_server`` here then serve that module's service.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.api.server import uvicorn_config
from app.core.config import Settings, get_settings
from app.core.db import Chunk, Document, DocumentStatus
from app.core.embedder import Embedder
from app.core.embedder_choice import embedder_from_settings
from app.core.index_versions import active_index
from app.core.migrate import upgrade
from app.core.runtime import Runtime, open_runtime
from app.main import create_app
from app.service import FactVault
from ingest.pipeline import IngestPipeline

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"  # the evaluation data sets, beside the checkout
PG_URL = os.environ.get("FACTVAULT_TEST_POSTGRES_URL")
# What in-process clients call the app: a loopback name, as a browser on this machine would
# (the app refuses host names it was not told it answers for).
LOCAL_URL = "http://localhost"


# -- components ---------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = get_settings(data_dir=tmp_path / "data", database_url=None, qdrant_url=None)
    s.ensure_dirs()
    upgrade(s.sql_url)
    return s


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """One real MiniLM for the session, as the default settings run it (on ONNX Runtime,
    exported once into the machine's cache): loading it is the slow part of these tests."""
    embedder = embedder_from_settings("minilm", get_settings())
    embedder.warm_up()
    return embedder


@pytest.fixture
def runtime(settings: Settings, minilm: Embedder) -> Iterator[Runtime]:
    rt = open_runtime(settings, embedder=minilm)
    yield rt
    rt.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the sample corpus the test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Split bundled models are assembled once per session, not once per data dir."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards); skips, saying why, without a server."""
    with fresh_pg_database() as url:
        yield url


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new database on the test server, dropped on exit (any fixture scope may use it)."""
    if not PG_URL:
        pytest.skip("FACTVAULT_TEST_POSTGRES_URL is not set: no PostgreSQL server to test on")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"fv_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a configured server that does not answer is a failure
        admin.dispose()
        raise AssertionError(f"PostgreSQL at {PG_URL} is configured but unusable: {exc}") from exc
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- a module's service, and the same over HTTP --------------------------------------------


@pytest.fixture(scope="module")
def service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    minilm: Embedder,
    models_dir: Path,
) -> Iterator[FactVault]:
    """The module's service, built once for its tests as the module's ``SERVICE`` dict
    says: ``make_service``'s ``default_model`` and ``extra`` files, and settings overrides
    (``"empty": True``: no documents, see ``empty_service``). Without one: the samples,
    SmolLM2, auth off. One fixture for every module, so a service is always built the same
    way and torn down once."""
    spec = dict(getattr(request.module, "SERVICE", {}))
    root = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    if spec.pop("empty", False):
        state = empty_service(root, minilm, models_dir, **spec)
    else:
        state = make_service(root, minilm, models_dir, **spec)
    yield state
    state.close()


@pytest.fixture(scope="module")
def client(service: FactVault) -> Iterator[TestClient]:
    """The module's ``service`` through the real app, in process."""
    with TestClient(create_app(service.settings, service), base_url=LOCAL_URL) as c:
        yield c


@pytest.fixture(scope="module")
def live_server(service: FactVault) -> Iterator[LiveServer]:
    """The module's ``service`` on a loopback port (uvicorn), for real sockets and browsers."""
    with LiveServer(service) as live:
        yield live


# -- builders and checks ----------------------------------------------------------------


def wait_until(happened: Callable[[], bool], seconds: float, what: str) -> None:
    """Waits for something to happen instead of sleeping a fixed time (too short on a slow
    machine, wasted on a fast one); fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not happened():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


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


# A document whose facts a 3-turn conversation asks about: turns 2 and 3 ("its", "And ...")
# name nothing, and the file holds a second vehicle, so only the history says which one.
FLEET_DOC = """# Company vehicles

The delivery van is a Brindle V7. Its registration is KX-4821, and it is serviced every
9,000 km at Harlow Motors.

The pool car is a Corvane S2. Its registration is PT-3307, and it is serviced every
15,000 km at Dunmere Garage.
"""
FLEET_TURNS = (
    ("Which model is the company's delivery van?", "brindle v7"),
    ("What is its registration?", "kx-4821"),
    ("And how often is it serviced?", "9,000"),
)


def service_settings(root: Path, models_dir: Path, **overrides) -> Settings:
    """Settings for a test service in ``root`` (migrated SQLite, embedded Qdrant, auth off
    unless ``overrides`` say otherwise)."""
    defaults = {"database_url": None, "qdrant_url": None, "auth_enabled": False}
    settings = get_settings(
        data_dir=root / "data", models_path=models_dir, **{**defaults, **overrides}
    )
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    return settings


def make_service(
    root: Path,
    embedder: Embedder,
    models_dir: Path,
    default_model: str = "smollm2-135m",
    extra: dict[str, str] | None = None,
    **overrides: object,
) -> FactVault:
    """A real service state over a private copy of the samples (plus ``extra`` files);
    ``overrides`` are settings, fixed before the service is built."""
    shutil.copytree(SAMPLES, root / "corpus")
    for name, content in (extra or {}).items():
        (root / "corpus" / name).write_text(content)
    settings = service_settings(root, models_dir, default_model=default_model, **overrides)
    rt = open_runtime(settings, embedder=embedder)
    IngestPipeline(rt).ingest_paths([root / "corpus"])
    return FactVault(settings, rt).start()


class LiveServer:
    """The real app on a loopback port, served by uvicorn in a thread (for a browser)."""

    def __init__(self, state: FactVault) -> None:
        import socket

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.state = state
        config = uvicorn_config(
            create_app(state.settings, state), state.settings, host="127.0.0.1",
            port=self.port, log_level="warning", timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
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
