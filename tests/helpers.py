"""Assertions shared by the pipeline and crash tests."""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import Chunk, Document, DocumentStatus
from app.core.index_versions import active_index
from app.core.runtime import Runtime


def sql_chunk_ids(rt: Runtime) -> set[str]:
    with rt.db.session() as s:
        return set(s.scalars(select(Chunk.id)))


def assert_consistent(rt: Runtime) -> None:
    """SQL and the vector store agree exactly, and no document is half-written."""
    with rt.db.session() as s:
        index = active_index(s)
        assert index is not None
        collection = index.collection
        pending = s.scalars(select(Document).where(Document.status != DocumentStatus.active)).all()
        counts = {d.id: d.chunk_count for d in s.scalars(select(Document))}
        actual = {}
        for doc_id in s.scalars(select(Chunk.document_id)):
            actual[doc_id] = actual.get(doc_id, 0) + 1
    assert pending == []
    assert rt.store.point_ids(collection) == sql_chunk_ids(rt)
    assert {k: v for k, v in counts.items() if v} == actual
