"""Vector store port and its two Qdrant implementations; ``open_vector_store`` picks one."""

from __future__ import annotations

from app.core.config import Settings
from app.core.vectorstore.base import (
    CollectionMissing,
    Hit,
    PointRecord,
    SearchFilter,
    SearchRequest,
    VectorStore,
)

__all__ = [
    "CollectionMissing",
    "Hit",
    "PointRecord",
    "SearchFilter",
    "SearchRequest",
    "VectorStore",
    "open_vector_store",
]


def open_vector_store(settings: Settings) -> VectorStore:
    """A Qdrant server when ``qdrant_url`` is set, else the embedded store in the data dir."""
    if settings.qdrant_url:
        from app.core.vectorstore.server import ClusterLayout, ServerVectorStore

        layout = ClusterLayout(
            settings.qdrant_shard_number,
            settings.qdrant_replication_factor,
            settings.qdrant_write_consistency_factor,
        )
        return ServerVectorStore.connect(settings.qdrant_url, settings.qdrant_api_key, layout)
    from app.core.vectorstore.edge import EdgeVectorStore

    return EdgeVectorStore(settings.qdrant_path)
