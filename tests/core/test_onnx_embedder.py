"""MiniLM on ONNX Runtime. The default (fp32): torch's vectors under torch's name, exported
once into the machine's cache, torch where it cannot be made, and an index built on torch
queried on it. minilm-int8: exported and quantised once, cached in the data dir; its vectors
stay close to torch's, the exported file's sha256 names the index version, and an index
built with it answers retrieval. Real export, real ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import IndexVersion
from app.core.embedder import MiniLMEmbedder
from app.core.hashing import sha256_file
from app.core.migrate import upgrade
from app.core.onnx_embedder import MiniLMInt8Embedder, MiniLMOnnxEmbedder
from app.core.runtime import open_runtime
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline

pytestmark = pytest.mark.slow

TEXTS = [
    "The red kite nests at Wexcombe Hollow.",
    "def refill(self, now):\n    self.tokens = min(self.burst, self.tokens + self.rate)",
    "Holiday requests go to the duty manager two weeks ahead. " * 12,
    "short",
]


def test_int8_vectors_stay_close_to_torch_and_the_export_is_cached(tmp_path: Path) -> None:
    minilm = MiniLMEmbedder()
    int8 = MiniLMInt8Embedder(tmp_path / "embedders")
    got = int8.embed_documents(TEXTS)
    want = minilm.embed_documents(TEXTS)
    cosine = (got * want).sum(axis=1)
    assert cosine.min() > 0.98, cosine
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.allclose(int8.embed_query(TEXTS[0]), got[0], atol=1e-6)
    assert int8.count_tokens(TEXTS[2]) == minilm.count_tokens(TEXTS[2])
    exported = int8.path.stat().st_mtime_ns
    again = MiniLMInt8Embedder(tmp_path / "embedders")  # a restart: no second export
    assert again.weights_sha256 == int8.weights_sha256 == sha256_file(int8.path)
    assert again.path.stat().st_mtime_ns == exported
    assert list((tmp_path / "embedders").iterdir()) == [int8.path]  # no temp files left


def test_an_index_built_with_it_is_its_own_version_and_answers(tmp_path: Path, corpus) -> None:
    settings = get_settings(
        data_dir=tmp_path / "data", database_url=None, qdrant_url=None, embedder="minilm-int8"
    )
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    rt = open_runtime(settings)
    try:
        assert IngestPipeline(rt).ingest_paths([corpus]).ok
        with rt.db.session() as s:
            index = s.scalars(select(IndexVersion)).one()
            assert index.embedding_model.endswith("(onnx int8)")
            assert index.embedding_sha256 == sha256_file(
                next((settings.embedder_cache_dir).glob("*.onnx"))
            )
        top = Retriever(rt).retrieve("Where is the fire assembly point?", top_k=3)
        assert any("assembly point" in c.text.lower() for c in top)
    finally:
        rt.close()


def test_minilm_on_onnx_is_torchs_minilm(tmp_path: Path) -> None:
    """The default: the same vectors as torch to float rounding, under torch's name and
    weights, exported once into the machine's cache."""
    torch = MiniLMEmbedder()
    onnx = MiniLMOnnxEmbedder(tmp_path / "cache")
    got, want = onnx.embed_documents(TEXTS), torch.embed_documents(TEXTS)
    assert onnx.backend == "onnx"
    assert (got * want).sum(axis=1).min() > 0.99999
    assert np.abs(got - want).max() < 1e-3
    assert (onnx.name, onnx.weights_sha256) == (torch.name, torch.weights_sha256)
    exported = onnx.path.stat().st_mtime_ns
    again = MiniLMOnnxEmbedder(tmp_path / "cache")  # another data dir, a restart: no export
    assert np.allclose(again.embed_query(TEXTS[1]), got[1], atol=1e-6)
    assert again.path.stat().st_mtime_ns == exported
    assert list((tmp_path / "cache").iterdir()) == [onnx.path]  # no temp files left


def test_without_an_export_it_runs_torch_and_says_so(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache dir should be")
    onnx = MiniLMOnnxEmbedder(blocked)
    got = onnx.embed_documents(TEXTS[:2])
    assert onnx.backend == "torch"
    assert "running it on torch" in caplog.text
    assert np.allclose(got, MiniLMEmbedder().embed_documents(TEXTS[:2]), atol=1e-6)


def test_an_index_built_on_torch_is_queried_on_onnx_without_a_reindex(
    tmp_path: Path, corpus
) -> None:
    built = get_settings(data_dir=tmp_path / "data", database_url=None, qdrant_url=None,
                         embedder_backend="torch", onnx_cache_dir=tmp_path / "cache")  # fmt: skip
    built.ensure_dirs()
    upgrade(built.sql_url)
    rt = open_runtime(built)
    try:
        assert IngestPipeline(rt).ingest_paths([corpus]).ok
    finally:
        rt.close()
    rt = open_runtime(built.model_copy(update={"embedder_backend": "onnx"}))
    try:
        assert isinstance(rt.embedder, MiniLMOnnxEmbedder)
        with rt.db.session() as s:
            assert rt.embedder_for(s.scalars(select(IndexVersion)).one()) is rt.embedder
        top = Retriever(rt).retrieve("Where is the fire assembly point?", top_k=3, mode="dense")
        assert any("assembly point" in c.text.lower() for c in top)
        assert rt.embedder.backend == "onnx"
    finally:
        rt.close()
