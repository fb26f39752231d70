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
from app.core.embedders import TUNED_DIR, tuned_name
from app.core.hashing import sha256_file
from app.evaluation.dataset import load_corpus
from app.evaluation.selfeval import quality_gate, questions_for, self_eval
from app.retrieval import Retriever
from app.tuning.questions import QuestionCache
from ingest.pipeline import IngestPipeline
from ingest.reindex import drop_retired, reindex, rollback
from tests.fixtures import REPO

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


@pytest.mark.skipif(not EVAL.exists(), reason="../shared/eval/contextual is not present")
def test_the_gate_refuses_a_worse_index_accepts_a_better_one_and_rollback_restores(
    runtime, tmp_path: Path
) -> None:
    docs = json.loads((EVAL / "codebase_chunks.json").read_text())[:DOCS]
    (tmp_path / "codebase_chunks.json").write_text(json.dumps(docs))
    shutil.copy(EVAL / "documents_meta.json", tmp_path / "documents_meta.json")
    corpus = load_corpus(tmp_path / "codebase_chunks.json")
    assert IngestPipeline(runtime).run(corpus.source_files()).ok
    assert QuestionCache(runtime.db).import_file(QUESTIONS) > 0
    questions = questions_for(runtime)
    assert len(questions.held_out) >= 20, (len(questions.held_out), len(questions.train))
    held_out = [q.text for q in questions.held_out]
    retriever = Retriever(runtime)

    def answers() -> list[list[str]]:
        return [[h.chunk_id for h in retriever.retrieve(q, 5)] for q in held_out]

    first, minilm = active(runtime), answers()
    damaged = damaged_minilm(runtime.settings.embedder_cache_dir)
    gate = quality_gate(runtime, margin_points=0.5)

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
