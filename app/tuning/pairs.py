"""Training examples from the synthetic question set, shared by the tuned embedder and the
tuned reranker: each train question with the chunk it was written for and the chunks a
retriever wrongly ranks above or near it (hard negatives), as texts the model will see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from app.core.db import Chunk
from app.core.runtime import Runtime
from app.core.vectorstore.base import SearchMode
from app.retrieval import Retriever
from app.retrieval.rerank import NoReranker
from app.tuning.dataset import SyntheticQuery


@dataclass(frozen=True)
class Example:
    question: str
    positive: str
    negatives: tuple[str, ...]


def mine(
    rt: Runtime,
    queries: list[SyntheticQuery],
    text_of: Callable[[str, str], str],
    negatives: int = 1,
    mode: SearchMode = "sparse",
    depth: int = 10,
) -> list[Example]:
    """For each question, the ``negatives`` best-ranked chunks (``mode`` retrieval, top
    ``depth``) that are not its own; ``text_of(context, text)`` is what the model reads.
    A question with fewer wrong chunks than asked is skipped."""
    retriever = Retriever(rt, NoReranker())
    wrong: list[list[str]] = []
    for q in queries:
        hits = retriever.retrieve(q.text, depth, mode)
        wrong.append([h.chunk_id for h in hits if h.chunk_id != q.chunk_id][:negatives])
    wanted = {q.chunk_id for q in queries} | {c for ids in wrong for c in ids}
    with rt.db.session() as s:
        texts = {
            cid: text_of(context, text)
            for cid, context, text in s.execute(
                select(Chunk.id, Chunk.context, Chunk.text).where(Chunk.id.in_(wanted))
            )
        }
    out = []
    for q, ids in zip(queries, wrong, strict=True):
        if len(ids) == negatives and q.chunk_id in texts and all(c in texts for c in ids):
            out.append(Example(q.text, texts[q.chunk_id], tuple(texts[c] for c in ids)))
    return out
