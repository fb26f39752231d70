"""The self-evaluation: an index scored on its own corpus's held-out synthetic questions.

No human label: the questions were written by a local model for chunks of this corpus
(`factvault tune queries`), and a question's golden chunk is the one it was written for.
Only the held-out split (app/tuning/dataset.py) is scored, never what a tuned retriever
was trained on, so a user can compare configurations, catch a regression after an index
change (the reindex quality gate does exactly that) or check in CI on their own documents.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.core.db import IndexVersion
from app.core.index_versions import active_index
from app.core.runtime import Runtime
from app.core.vectorstore.base import SearchMode
from app.evaluation.retrieval_metrics import summarize
from app.retrieval import Retriever
from app.retrieval.rerank import NoReranker, Reranker
from app.retrieval.search import NoIndex
from app.tuning.dataset import QuestionSet, load_questions, question_set
from ingest.reindex import GateVerdict, Judge


class NoQuestions(RuntimeError):
    """Nothing to score on: no synthetic questions for this corpus yet."""


@dataclass
class SelfEvalResult:
    index: str  # the index version's collection
    embedder: str
    mode: str
    queries: int
    metrics: dict[str, float]
    seconds: float

    @property
    def ms_per_query(self) -> float:
        return 1000 * self.seconds / max(self.queries, 1)


def questions_for(rt: Runtime, collections: list[str] | None = None) -> QuestionSet:
    """The round-trip-filtered split of the cached questions, judged by BM25 on the active
    index (BM25 is the same on every version with the same settings)."""
    queries = load_questions(rt.db, collections)
    if not queries:
        raise NoQuestions(
            "no synthetic questions for the chunks in this index: run `factvault tune queries` "
            "(or `factvault tune import FILE`) first"
        )
    retriever = Retriever(rt, NoReranker())  # BM25's own ranking judges

    def bm25(question: str, k: int) -> list[str]:
        return [h.chunk_id for h in retriever.retrieve(question, k, "sparse")]

    found = question_set(queries, bm25)
    if not found.held_out:
        raise NoQuestions(
            f"none of the {found.total} synthetic questions is in the held-out split after the "
            "round trip: write questions for more chunks (`factvault tune queries --sample 1`)"
        )
    return found


def self_eval(
    rt: Runtime,
    questions: QuestionSet,
    index: IndexVersion | None = None,
    mode: SearchMode = "hybrid",
    k_max: int = 20,
    reranker: Reranker | None = None,
) -> SelfEvalResult:
    """Pass@5/10/20 and MRR of ``index`` (the active one by default) on the held-out split,
    with ``reranker`` (default: the configured one)."""
    if index is None:
        with rt.db.session() as s:
            index = active_index(s)
            if index is None:
                raise NoIndex("no index yet: run `factvault ingest PATH` first")
            s.expunge(index)
    retriever = Retriever(rt, reranker)
    runs = []
    started = time.perf_counter()
    for q in questions.held_out:
        hits = retriever.retrieve(q.text, k_max, mode, index=index)
        runs.append(([h.chunk_id for h in hits], frozenset({q.chunk_id})))
    seconds = time.perf_counter() - started
    return SelfEvalResult(
        index.collection, index.embedding_model, mode, len(runs), summarize(runs), seconds
    )


GATED_METRICS = ("Pass@5", "Pass@20")


def quality_gate(
    rt: Runtime, questions: QuestionSet, margin_points: float, mode: SearchMode = "hybrid"
) -> Judge:
    """A judge for ``reindex``: the new build and the active version are scored on the same
    held-out ``questions`` (the caller's, from ``questions_for`` before the build); the
    build is accepted unless Pass@5 or Pass@20 falls more than ``margin_points``
    (percentage points) below the active version's."""

    def judge(old: IndexVersion | None, new: IndexVersion) -> GateVerdict:
        scored_new = self_eval(rt, questions, index=new, mode=mode)
        if old is None:
            return GateVerdict(True, "no active index to compare with", scored_new.queries,
                               None, scored_new.metrics)  # fmt: skip
        scored_old = self_eval(rt, questions, index=old, mode=mode)
        worse = [
            f"{m} {100 * scored_new.metrics[m]:.2f} < {100 * scored_old.metrics[m]:.2f}"
            for m in GATED_METRICS
            if 100 * (scored_old.metrics[m] - scored_new.metrics[m]) > margin_points
        ]
        if worse:
            reason = f"worse than the active index by more than {margin_points} point(s): "
            reason += "; ".join(worse)
        else:
            reason = f"not worse than the active index (margin {margin_points} point(s))"
        return GateVerdict(
            not worse, reason, scored_new.queries, scored_old.metrics, scored_new.metrics
        )

    return judge
