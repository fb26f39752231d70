"""Synthetic questions for the chunks of the index: written once by a local model, cached.

``synthesize`` walks the documents in SQL, takes a fixed sample of their chunks (by chunk
hash, so a second run and another machine pick the same ones) and has a bundled or
registered GGUF model write a few questions per chunk (app/tuning/question_writer.py).
Every chunk's questions are stored as soon as they are written, keyed by content hashes, so
a stopped run resumes where it stopped and a re-ingest or re-index reuses them. The model
is loaded only on the first chunk that is not cached yet: a run from a shipped file
(``tune import``) never pays for one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.core.db import Chunk, Database, Document, SyntheticQuestions
from app.core.keyed_cache import CacheKey, KeyedCache
from app.models.runner import load_llama
from app.tuning.question_writer import QuestionSettings, QuestionWriter, prompt_version


class QuestionCache(KeyedCache[list[str]]):
    table = SyntheticQuestions
    value = "questions"

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
            raise TypeError("questions must be a list of strings")
        return value


@dataclass(frozen=True)
class ChunkRow:
    document_sha256: str
    source: str
    chunk_id: str
    ordinal: int
    text: str
    sha256: str


def in_sample(chunk_sha256: str, fraction: float) -> bool:
    """A fixed sample: the chunk's hash decides, not the order or the run."""
    return int(chunk_sha256[:8], 16) < fraction * 0x1_0000_0000


def documents(db: Database, collections: list[str] | None = None) -> Iterator[list[ChunkRow]]:
    """The chunks of each document, in order, one list per document (sources sorted)."""
    q = (
        select(Document.sha256, Document.source, Chunk.id, Chunk.ordinal, Chunk.text, Chunk.sha256)
        .join(Chunk, Chunk.document_id == Document.id)
        .order_by(Document.source, Chunk.ordinal)
    )
    if collections:
        q = q.where(Document.collection.in_(collections))
    current: list[ChunkRow] = []
    with db.session() as s:
        for row in s.execute(q):
            r = ChunkRow(*row)
            if current and current[0].source != r.source:
                yield current
                current = []
            current.append(r)
    if current:
        yield current


@dataclass
class SynthesisReport:
    chunks: int = 0  # in the sample
    cached: int = 0
    written: int = 0
    questions: int = 0  # over the sample, cached or written
    cpu_seconds: float = 0.0  # spent writing this run
    seconds: float = 0.0
    samples: list[tuple[str, list[str]]] = field(default_factory=list)


def synthesize(
    db: Database,
    model_path: Callable[[], str],
    model_sha256: str,
    fraction: float = 1.0,
    settings: QuestionSettings | None = None,
    threads: int = 2,
    collections: list[str] | None = None,
    progress: Callable[[SynthesisReport], None] | None = None,
) -> SynthesisReport:
    """Questions for the sampled chunks of every document; cached ones are not written again.
    ``model_path`` is called only when a chunk needs the model."""
    settings = settings or QuestionSettings()
    version = prompt_version(settings)
    cache = QuestionCache(db)
    report = SynthesisReport()
    writer: QuestionWriter | None = None
    started = time.perf_counter()
    try:
        for doc in documents(db, collections):
            sample = [c for c in doc if in_sample(c.sha256, fraction)]
            if not sample:
                continue
            keys = [CacheKey(c.document_sha256, c.sha256, model_sha256, version) for c in sample]
            found = cache.get_many(keys)
            report.chunks += len(sample)
            report.cached += len(found)
            report.questions += sum(len(v) for v in found.values())
            head: str | None = None
            for chunk, key in zip(sample, keys, strict=True):
                if key in found:
                    continue
                if writer is None:
                    n_ctx = settings.head_tokens + settings.chunk_tokens + 512
                    writer = QuestionWriter(load_llama(model_path(), n_ctx, threads), settings)
                if head is None:  # the document's start, from its own chunks
                    head = writer.cut("".join(c.text for c in doc[:4]), settings.head_tokens)
                written = writer.write(chunk.source, head, chunk.text)
                cache.put(key, written.questions, written.cpu_seconds)
                report.written += 1
                report.questions += len(written.questions)
                report.cpu_seconds += written.cpu_seconds
                if len(report.samples) < 5 and written.questions:
                    report.samples.append((chunk.source, written.questions))
                report.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(report)
    finally:
        if writer is not None:
            close = getattr(writer.llama, "close", None)
            if close is not None:
                close()
    report.seconds = time.perf_counter() - started
    return report
