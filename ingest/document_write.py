"""One document written to SQL and the vector store so that a crash anywhere leaves a state
the next run repairs.

SQL and Qdrant cannot commit together, so the writes go in this order:

1. a new document gets a ``pending`` row (so it has an id);
2. its points are upserted (ids derived from document id, content hash and ordinal);
3. one SQL transaction swaps the document's chunk rows and marks it ``active``;
4. the previous version's points are deleted.

A kill anywhere leaves at worst points without chunk rows (never returned: retrieval only
returns chunks that exist in SQL) or a ``pending`` row; the pipeline's repair step at the
start of every ingest deletes both and re-embeds any chunk row whose point is missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.core.db import Chunk, Document, DocumentStatus, IndexVersion
from app.core.hashing import sha256_text
from app.core.runtime import Runtime
from app.core.vectorstore import PointRecord
from ingest.chunking import ChunkDraft
from ingest.loaders import LoadedDocument, loader_version
from ingest.sources import SourceFile

CHUNK_ID_NAMESPACE = uuid.UUID("5b0f3c1e-6a57-4d4e-9d2b-8f0c6a1d2e3f")


def chunk_point_id(document_id: int, document_sha: str, ordinal: int) -> str:
    return str(uuid.uuid5(CHUNK_ID_NAMESPACE, f"{document_id}:{document_sha}:{ordinal}"))


@dataclass
class PreparedDocument:
    """A file read, chunked and contextualized: everything its write needs but vectors."""

    item: SourceFile
    sha256: str
    size: int
    doc_id: int | None
    loaded: LoadedDocument
    chunks: list[ChunkDraft]
    contexts: list[str]


def write_document(
    rt: Runtime,
    p: PreparedDocument,
    index: IndexVersion,
    dense: Sequence[Sequence[float]],
    sparse: Sequence,
) -> int:
    """Write ``p`` (new, or replacing the document it was read over) in the order above;
    returns its document id."""
    doc_id = p.doc_id
    if doc_id is None:
        with rt.db.session() as s:
            doc = Document(
                source=p.item.source,
                parent_id=_document_id(s, p.item.parent),
                collection=p.item.collection,
                sha256=p.sha256,
                loader_version=loader_version(p.item.path),
                title=p.loaded.title,
                media_type=p.loaded.media_type,
                size_bytes=p.size,
                status=DocumentStatus.pending,
                chunk_count=0,
            )
            s.add(doc)
            s.flush()
            doc_id = doc.id
        old_ids: set[str] = set()
    else:
        with rt.db.session() as s:
            old_ids = set(s.scalars(select(Chunk.id).where(Chunk.document_id == doc_id)))
    ids = [chunk_point_id(doc_id, p.sha256, ch.ordinal) for ch in p.chunks]
    rt.store.upsert(
        index.collection,
        [
            PointRecord(cid, vec, sp, doc_id, ch.ordinal, p.item.source, p.item.collection)
            for cid, vec, sp, ch in zip(ids, dense, sparse, p.chunks, strict=True)
        ],
    )
    with rt.db.session() as s:
        s.execute(delete(Chunk).where(Chunk.document_id == doc_id))
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.sha256 = p.sha256
        doc.collection = p.item.collection  # a file moved to another collection
        doc.loader_version = loader_version(p.item.path)
        doc.title = p.loaded.title
        doc.media_type = p.loaded.media_type
        doc.size_bytes = p.size
        doc.status = DocumentStatus.active
        doc.chunk_count = len(p.chunks)
        s.add_all(
            Chunk(
                id=cid,
                document_id=doc_id,
                ordinal=ch.ordinal,
                text=ch.text,
                context=ctx,
                token_count=ch.token_count,
                sha256=sha256_text(ch.text),
                char_start=ch.start,
                char_end=ch.end,
                page=ch.page,
            )
            for cid, ch, ctx in zip(ids, p.chunks, p.contexts, strict=True)
        )
    rt.store.delete(index.collection, old_ids - set(ids))
    return doc_id


def _document_id(s: Session, source: str | None) -> int | None:
    if source is None:
        return None
    return s.scalar(select(Document.id).where(Document.source == source))
