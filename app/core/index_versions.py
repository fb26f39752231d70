"""Which Qdrant collection holds the live index, and what built it.

An index version pins the embedding model (name + weights hash + dimension) and the BM25
config; a query is only ever encoded the way its index was. One collection per version, so a
new embedding model can be built beside the live one.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import IndexStatus, IndexVersion
from app.core.embedder import Embedder
from app.core.runtime import Runtime
from app.core.sparse import Bm25Encoder
from app.core.vectorstore import VectorStore


def active_index(session: Session) -> IndexVersion | None:
    return session.scalars(
        select(IndexVersion).where(IndexVersion.status == IndexStatus.active)
    ).first()


def active_collection(runtime: Runtime) -> str | None:
    with runtime.db.session() as s:
        index = active_index(s)
        return index.collection if index else None


def collection_name(model: str, sha: str, number: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower().split("/")[-1]).strip("-")[:40]
    return f"fv-{slug}-{sha[:8]}-v{number}"


def ensure_active_index(
    session: Session, store: VectorStore, embedder: Embedder, bm25: Bm25Encoder
) -> IndexVersion:
    """The active index version, created (with its collection) on first use.

    ``embedder`` only decides the first index; later ones come from `factvault reindex`.
    """
    index = active_index(session)
    if index is None:
        number = (session.scalar(select(func.max(IndexVersion.id))) or 0) + 1
        index = IndexVersion(
            embedding_model=embedder.name,
            embedding_sha256=embedder.weights_sha256,
            dimension=embedder.dimension,
            bm25_config=bm25.config,
            collection=collection_name(embedder.name, embedder.weights_sha256, number),
            status=IndexStatus.active,
        )
        session.add(index)
        session.flush()
    store.create_collection(index.collection, index.dimension)
    return index


def bm25_for(index: IndexVersion) -> Bm25Encoder:
    """The BM25 encoder exactly as the index was built."""
    return Bm25Encoder(**index.bm25_config)
