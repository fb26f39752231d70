"""Shared fixtures: real components everywhere (Qdrant Edge, SQLite, the MiniLM embedder)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings, get_settings
from app.core.embedder import MiniLMEmbedder
from app.core.migrate import upgrade
from app.core.runtime import Runtime, open_runtime

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = get_settings(data_dir=tmp_path / "data", database_url=None, qdrant_url=None)
    s.ensure_dirs()
    upgrade(s.sql_url)
    return s


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """One real MiniLM for the session: loading it is the slow part of these tests."""
    embedder = MiniLMEmbedder()
    embedder.warm_up()
    return embedder


@pytest.fixture
def runtime(settings: Settings, minilm: MiniLMEmbedder) -> Iterator[Runtime]:
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
