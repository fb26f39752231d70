"""minilm-int8: the packaged MiniLM exported to ONNX and quantised once, cached in the data
dir; its vectors stay close to torch's, the exported file's sha256 names the index version,
and an index built with it answers retrieval. Real export, real ONNX Runtime."""

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
from app.core.onnx_embedder import MiniLMInt8Embedder
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


def test_int8_vectors_stay_close_to_torch_and_the_export_is_cached(
    tmp_path: Path, minilm: MiniLMEmbedder
) -> None:
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
