"""The quality gate and rollback on real components: a slice of the contextual-retrieval
corpus, its committed synthetic questions, MiniLM, and a deliberately damaged copy of MiniLM
(its weights shaken with noise) as the worse index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from app.core.db import IndexStatus, IndexVersion
from app.core.embedder import MiniLMEmbedder
from app.core.embedder_choice import TUNED_DIR, tuned_name
from app.core.hashing import sha256_file
from app.evaluation.dataset import load_corpus
from app.evaluation.selfeval import quality_gate, questions_for, self_eval
from app.retrieval import Retriever
from app.tuning.questions import QuestionCache
from ingest.pipeline import IngestPipeline
from ingest.reindex import drop_retired, reindex, rollback
from tests.fixtures import LOCAL_URL, REPO

pytestmark = pytest.mark.slow
EVAL = REPO.parent / "shared" / "eval" / "contextual"
QUESTIONS = REPO / "bench" / "questions" / "codebase_chunks.jsonl.gz"
DOCS = 20  # of the 90: enough held-out questions to tell a damaged index apart


def damaged_minilm(cache_dir: Path) -> str:
    """MiniLM with Gaussian noise (a third of each tensor's spread) on every weight."""
    import torch

    source = MiniLMEmbedder()._model_dir
    work = cache_dir / TUNED_DIR / "work"
    shutil.copytree(source, work)
    torch.manual_seed(7)
    weights = load_file(str(work / "model.safetensors"))
    shaken = {
        k: (v + torch.randn_like(v) * v.float().std() / 3).to(v.dtype)
        if v.is_floating_point() and v.numel() > 1
        else v
        for k, v in weights.items()
    }
    save_file(shaken, str(work / "model.safetensors"))
    name = tuned_name(sha256_file(work / "model.safetensors"))
    work.rename(cache_dir / TUNED_DIR / name.split(":", 1)[1])
    return name


def active(rt) -> IndexVersion:
    with rt.db.session() as s:
        row = s.query(IndexVersion).filter(IndexVersion.status == IndexStatus.active).one()
        s.expunge(row)
        return row


def ingest_slice(rt, tmp_path: Path) -> None:
    """The first ``DOCS`` documents of the eval corpus, with their committed questions."""
    docs = json.loads((EVAL / "codebase_chunks.json").read_text())[:DOCS]
    (tmp_path / "codebase_chunks.json").write_text(json.dumps(docs))
    shutil.copy(EVAL / "documents_meta.json", tmp_path / "documents_meta.json")
    corpus = load_corpus(tmp_path / "codebase_chunks.json")
    assert IngestPipeline(rt).run(corpus.source_files()).ok
    assert QuestionCache(rt.db).import_file(QUESTIONS) > 0


@pytest.mark.skipif(not EVAL.exists(), reason="../shared/eval/contextual is not present")
def test_the_gate_refuses_a_worse_index_accepts_a_better_one_and_rollback_restores(
    runtime, tmp_path: Path
) -> None:
    ingest_slice(runtime, tmp_path)
    questions = questions_for(runtime)
    # The round trip: every kept question finds its own chunk in BM25's top 20.
    bm25 = Retriever(runtime)
    for q in questions.train[:10] + questions.held_out[:10]:
        assert q.chunk_id in [h.chunk_id for h in bm25.retrieve(q.text, 20, "sparse")]
    assert len(questions.held_out) >= 20, (len(questions.held_out), len(questions.train))
    held_out = [q.text for q in questions.held_out]
    retriever = Retriever(runtime)

    def answers() -> list[list[str]]:
        return [[h.chunk_id for h in retriever.retrieve(q, 5)] for q in held_out]

    first, minilm = active(runtime), answers()
    damaged = damaged_minilm(runtime.settings.embedder_cache_dir)
    gate = quality_gate(runtime, questions, margin_points=0.5)

    # A worse build is refused: the active version keeps serving, the build is gone.
    refused = reindex(runtime, damaged, judge=gate)
    assert not refused.switched and refused.gate is not None
    assert refused.gate.new["Pass@5"] < refused.gate.old["Pass@5"] - 0.005, refused.gate
    assert "worse than the active index" in refused.gate.reason
    assert active(runtime).collection == first.collection
    assert not runtime.store.has_collection(refused.new_collection)
    assert answers() == minilm

    # Without the gate the damage goes live; the gate then accepts MiniLM as the better one.
    worse = reindex(runtime, damaged)
    assert worse.switched and active(runtime).embedding_model == damaged
    damaged_answers = answers()
    assert damaged_answers != minilm
    scored = self_eval(runtime, questions)
    better = reindex(runtime, "minilm", judge=gate)
    assert better.switched and better.gate.accepted, better.gate
    assert better.gate.old == scored.metrics  # the damaged index, scored as the gate saw it
    assert better.gate.new["Pass@5"] > better.gate.old["Pass@5"]
    assert answers() == minilm  # the same weights over the same chunks: the same ranking

    # Rollback: the previous version (the damaged one) serves again, with its answers; and
    # rolling back again returns to MiniLM.
    now, replaced, rebuilt = rollback(runtime)
    assert (now, replaced, rebuilt) == (worse.new_collection, better.new_collection, False)
    assert answers() == damaged_answers
    now, _, _ = rollback(runtime)
    assert now == better.new_collection and answers() == minilm
    # Past the grace period the previous collection is gone: rollback rebuilds it from SQL.
    assert worse.new_collection in drop_retired(runtime, grace_seconds=0)
    now, _, rebuilt = rollback(runtime)
    assert rebuilt and active(runtime).embedding_model == damaged
    assert answers() == damaged_answers


def test_the_api_refuses_a_gated_reindex_with_nothing_to_score(tmp_path: Path, minilm, models_dir):
    """Refused before any embedding: no synthetic questions yet (409, saying what to run);
    a tuned embedder never trained here, a malformed name (422); a rollback with no earlier
    version (409)."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.fixtures import make_service

    service = make_service(tmp_path, minilm, models_dir)
    try:
        with TestClient(create_app(service.settings, service), base_url=LOCAL_URL) as client:
            r = client.post("/v1/index/reindex", json={"embedder": "minilm", "gate": True})
            assert r.status_code == 409 and "factvault tune queries" in r.json()["detail"]
            r = client.post("/v1/index/reindex", json={"embedder": "tuned:minilm-0123456789ab"})
            assert r.status_code == 422 and "is not in" in r.json()["detail"]  # never trained
            r = client.post("/v1/index/reindex", json={"embedder": "tuned:../../etc"})
            assert r.status_code == 422 and "unknown embedder" in r.json()["detail"]
            r = client.post("/v1/index/rollback")
            assert r.status_code == 409 and "no earlier index version" in r.json()["detail"]
    finally:
        service.close()


@pytest.mark.skipif(not EVAL.exists(), reason="../shared/eval/contextual is not present")
def test_a_tuned_embedder_is_trained_indexed_and_served_after_a_restart(
    runtime, tmp_path: Path
) -> None:
    """MiniLM fine-tuned on the slice's train questions (one epoch on the CPU, texts cut to
    128 tokens to keep CI short): its folder is named by its weights' sha256, the index
    version records it, and a new process (a fresh runtime) queries that index with it,
    loaded from the data dir."""
    from app.core.runtime import open_runtime
    from app.tuning.train_embedder import TrainSettings, train_embedder

    ingest_slice(runtime, tmp_path)
    questions = questions_for(runtime)
    steps: list[int] = []
    report = train_embedder(
        runtime,
        questions,
        TrainSettings(max_seq_length=128),
        lambda n, total, loss: steps.append(n),
    )
    assert report.pairs >= 32 and report.steps == steps[-1] >= 1
    assert report.name == tuned_name(report.sha256) == f"tuned:{report.path.name}"
    assert sha256_file(report.path / "model.safetensors") == report.sha256
    held = questions.held_out[0].text
    built = reindex(runtime, "tuned")  # the newest tuned model in the data dir
    assert built.switched and built.embedder == report.name
    assert active(runtime).embedding_sha256 == report.sha256
    after = [h.chunk_id for h in Retriever(runtime).retrieve(held, 5)]
    runtime.close()
    fresh = open_runtime(runtime.settings)  # the setting still says minilm: the index decides
    try:
        assert fresh.embedder_for(active(fresh)).name == report.name
        assert [h.chunk_id for h in Retriever(fresh).retrieve(held, 5)] == after
        assert self_eval(fresh, questions).embedder == report.name
    finally:
        fresh.close()


@pytest.mark.skipif(not EVAL.exists(), reason="../shared/eval/contextual is not present")
def test_a_tuned_reranker_is_trained_and_reranks(runtime, tmp_path: Path) -> None:
    """A cross-encoder from MiniLM's weights, trained on the slice (one hard negative per
    question and pairs cut to 128 word pieces, to keep CI short), lands in the data dir
    under its sha256 and reorders the fused candidates by its own scores when
    FACTVAULT_RERANKER=tuned."""
    from app.retrieval.rerank import CrossEncoderReranker, make_reranker
    from app.tuning.train_reranker import RerankerSettings, train_reranker

    ingest_slice(runtime, tmp_path)
    questions = questions_for(runtime)
    report = train_reranker(runtime, questions, RerankerSettings(negatives=1, max_length=128))
    assert report.examples == 2 * len(questions.train)  # each: its chunk and one near miss
    assert report.name == f"tuned:{report.path.name}" and report.path.name.startswith("minilm-ce-")
    assert (report.path / "config.json").is_file()
    reranker = make_reranker("tuned", cache_dir=runtime.settings.reranker_cache_dir)
    assert isinstance(reranker, CrossEncoderReranker) and reranker.path == report.path
    question = questions.held_out[0].text
    fused = Retriever(runtime).retrieve(question, 20)
    reranked = Retriever(runtime, reranker).retrieve(question, 5)
    assert {h.chunk_id for h in reranked} <= {h.chunk_id for h in fused}
    scores = reranker.scores(question, fused)
    assert [h.score for h in reranked] == sorted(scores, reverse=True)[:5]
    assert self_eval(runtime, questions).queries == len(questions.held_out)
