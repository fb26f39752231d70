"""Makes one index version's points match the chunks in SQL: orphans deleted, missing
points embedded from the stored chunk and context text.

The same step repairs a crash between vector-store and SQL writes (every ingest starts with
it) and builds a new index version from SQL alone (reindex): nothing is re-parsed or
re-contextualized, because SQL already holds what each point is made from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from sqlalchemy import select

from app.core.db import Chunk, Document, IndexVersion
from app.core.embedder import Embedder
from app.core.runtime import Runtime
from app.core.sparse import Bm25Encoder
from app.core.vectorstore import PointRecord


def index_text(context: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its context, then the chunk."""
    return f"{context}\n\n{text}" if context else text


@dataclass
class SyncResult:
    orphans: int = 0
    missing: int = 0


def sync_index(
    rt: Runtime,
    index: IndexVersion,
    embedder: Embedder,
    bm25: Bm25Encoder,
    batch_chunks: int = 256,
    cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> SyncResult:
    gate = cpu_gate or (lambda: nullcontext())
    with rt.db.session() as s:
        sql_ids = set(s.scalars(select(Chunk.id)))
    point_ids = rt.store.point_ids(index.collection)
    result = SyncResult()
    orphans = point_ids - sql_ids
    if orphans:
        rt.store.delete(index.collection, orphans)
        result.orphans = len(orphans)
    missing = sql_ids - point_ids
    result.missing = len(missing)
    for rows in _batched(sorted(missing), batch_chunks):
        with rt.db.session() as s:
            found = s.execute(
                select(Chunk, Document.source, Document.collection)
                .join(Document)
                .where(Chunk.id.in_(rows))
                .order_by(Chunk.document_id, Chunk.ordinal)
            ).all()
        texts = [index_text(c.context, c.text) for c, _, _ in found]
        with gate():
            dense = embedder.embed_documents(texts)
        sparse = bm25.encode_documents(texts)
        rt.store.upsert(
            index.collection,
            [
                PointRecord(c.id, vec, sp, c.document_id, c.ordinal, source, coll)
                for (c, source, coll), vec, sp in zip(found, dense, sparse, strict=True)
            ],
        )
        if on_batch is not None:
            on_batch(len(found))
    return result


def _batched(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
