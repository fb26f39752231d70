"""The synthetic question set of an index: cached questions joined to the chunks they were
written for, kept only if they find their chunk again, split once into train and held-out.

- **Round trip.** A question whose own chunk is not in BM25's top ``k`` is dropped: the
  model asked about something else (the document's head, a neighbour) or too vaguely, and
  training on it would teach noise. BM25 is the judge because it needs no training and
  does not change when the retriever being tuned does.
- **Split by chunk.** A chunk's hash decides whether all its questions are held out
  (``HELD_OUT`` of chunks), so a tuned retriever is scored on chunks it never saw a question
  for, and the split is the same on every run and every machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.core.db import Chunk, Database, Document, SyntheticQuestions

HELD_OUT = 0.2  # share of chunks whose questions are never trained on
ROUND_TRIP_K = 20  # a question must find its chunk in BM25's top k


@dataclass(frozen=True)
class SyntheticQuery:
    text: str
    chunk_id: str  # the chunk it was written for, in this installation's SQL
    chunk_sha256: str

    @property
    def held_out(self) -> bool:
        return is_held_out(self.chunk_sha256)


def is_held_out(chunk_sha256: str) -> bool:
    """Fixed by the chunk's hash (other bits than the synthesis sample uses)."""
    return int(chunk_sha256[8:16], 16) < HELD_OUT * 0x1_0000_0000


def load_questions(db: Database, collections: list[str] | None = None) -> list[SyntheticQuery]:
    """Every cached question of a chunk in SQL (any model or prompt version), deduplicated,
    in a stable order."""
    q = (
        select(Chunk.id, Chunk.sha256, SyntheticQuestions.questions)
        .join(Document, Chunk.document_id == Document.id)
        .join(
            SyntheticQuestions,
            (SyntheticQuestions.document_sha256 == Document.sha256)
            & (SyntheticQuestions.chunk_sha256 == Chunk.sha256),
        )
        .order_by(Document.source, Chunk.ordinal, SyntheticQuestions.model_sha256)
    )
    if collections:
        q = q.where(Document.collection.in_(collections))
    out: list[SyntheticQuery] = []
    seen: set[tuple[str, str]] = set()
    with db.session() as s:
        for chunk_id, sha, questions in s.execute(q):
            for text in questions or []:
                if (chunk_id, text.lower()) not in seen:
                    seen.add((chunk_id, text.lower()))
                    out.append(SyntheticQuery(text, chunk_id, sha))
    return out


@dataclass
class QuestionSet:
    train: list[SyntheticQuery]
    held_out: list[SyntheticQuery]
    dropped: int  # failed the round trip

    @property
    def total(self) -> int:
        return len(self.train) + len(self.held_out) + self.dropped


def question_set(
    queries: Iterable[SyntheticQuery],
    bm25: Callable[[str, int], list[str]],
    k: int = ROUND_TRIP_K,
) -> QuestionSet:
    """Filter by round trip (``bm25(question, k)`` gives chunk ids) and split."""
    out = QuestionSet([], [], 0)
    for q in queries:
        if q.chunk_id not in bm25(q.text, k):
            out.dropped += 1
        elif q.held_out:
            out.held_out.append(q)
        else:
            out.train.append(q)
    return out
