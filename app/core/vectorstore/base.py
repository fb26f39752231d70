"""The vector-store port: what ingestion and retrieval need from Qdrant, nothing more.

Both implementations (embedded Qdrant Edge, and a Qdrant server through qdrant-client) keep
the same layout: one collection per index version, a named dense vector ``dense`` (cosine),
a named sparse vector ``bm25`` with the IDF modifier, and the payload below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal, Protocol, get_args, runtime_checkable

from app.core.sparse import SparseVector

DENSE = "dense"
SPARSE = "bm25"

SearchMode = Literal["hybrid", "dense", "sparse"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
FusionMethod = Literal["rrf", "dbsf"]


def source_prefixes(source: str) -> list[str]:
    """Every ancestor of a source path, so a prefix filter is an exact keyword match.

    ``/srv/docs/a.md`` -> ``["/srv", "/srv/docs", "/srv/docs/a.md"]``; works the same on
    both backends without a text index.
    """
    path = PurePosixPath(source)
    parents = [str(p) for p in reversed(path.parents) if str(p) not in (".", "/")]
    return [*parents, str(path)]


@dataclass(frozen=True)
class PointRecord:
    id: str  # the chunk id (a UUID string)
    dense: Sequence[float]
    sparse: SparseVector
    document_id: int
    ordinal: int
    source: str
    collection: str = "default"

    @classmethod
    def from_stored(cls, point_id: object, vector: dict, payload: dict) -> PointRecord:
        """The inverse of writing a point: named vectors and payload as either backend
        returns them (a sparse vector is anything with ``indices`` and ``values``)."""
        sparse = vector.get(SPARSE)
        return cls(
            id=str(point_id),
            dense=[float(x) for x in vector[DENSE]],
            sparse=SparseVector(
                indices=[int(i) for i in sparse.indices] if sparse else [],
                values=[float(v) for v in sparse.values] if sparse else [],
            ),
            document_id=int(payload["document_id"]),
            ordinal=int(payload["ordinal"]),
            source=str(payload["source"]),
            collection=str(payload.get("collection") or "default"),
        )

    def payload(self) -> dict[str, object]:
        return {
            "chunk_id": self.id,
            "document_id": self.document_id,
            "ordinal": self.ordinal,
            "source": self.source,
            "source_prefixes": source_prefixes(self.source),
            "collection": self.collection,
        }


@dataclass(frozen=True)
class SearchFilter:
    document_ids: tuple[int, ...] = ()
    source_prefix: str | None = None
    # The collections a search may return chunks of; None: any. Applied inside the vector
    # query (a payload index), so a chunk of another collection never comes back at all.
    # Points written before collections existed carry none and count as "default".
    collections: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    score: float
    document_id: int
    source: str
    ordinal: int


@dataclass(frozen=True)
class SearchRequest:
    dense: Sequence[float] | None
    sparse: SparseVector | None
    limit: int = 5
    mode: SearchMode = "hybrid"
    prefetch: int = 50
    fusion: FusionMethod = "rrf"
    rrf_k: int = 10
    # Weighted RRF: (dense, sparse). None = equal weights. Ignored by DBSF.
    weights: tuple[float, float] | None = None
    filter: SearchFilter = field(default_factory=SearchFilter)


class CollectionMissing(KeyError):
    """Raised when a collection (index version) is asked for but was never created."""


@runtime_checkable
class VectorStore(Protocol):
    def create_collection(self, name: str, dimension: int) -> None:
        """Create if absent; a no-op when it exists with the same dimension."""

    def has_collection(self, name: str) -> bool: ...

    def drop_collection(self, name: str) -> None: ...

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        """Idempotent: re-sending a point with the same id overwrites it."""

    def delete(self, name: str, ids: Iterable[str]) -> None: ...

    def point_ids(self, name: str) -> set[str]:
        """Every point id in the collection; used to reconcile with SQL after a crash."""

    def count(self, name: str) -> int: ...

    def export_points(self, name: str, batch: int = 500) -> Iterator[PointRecord]:
        """Every point with its vectors and payload (backups)."""
        ...

    def search(self, name: str, request: SearchRequest) -> list[Hit]: ...

    def optimize(self, name: str) -> None:
        """Build indexes after a bulk write (HNSW for dense vectors), where the store needs
        telling; a Qdrant server does this by itself."""

    def close(self) -> None: ...
