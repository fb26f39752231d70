"""Embedded Qdrant: the Qdrant engine in-process (``qdrant-edge-py``), one shard per collection.

A shard directory is locked by the process that opens it, so only one process (the server,
or a CLI when no server runs) may own ``<data_dir>/qdrant``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import qdrant_edge as qe

from app.core.vectorstore.base import (
    DENSE,
    SPARSE,
    CollectionMissing,
    Hit,
    PointRecord,
    SearchFilter,
    SearchRequest,
)


def _edge_filter(flt: SearchFilter) -> qe.Filter | None:
    must: list[qe.FieldCondition] = []
    if flt.document_ids:
        must.append(qe.FieldCondition(key="document_id", match=qe.MatchAny(list(flt.document_ids))))
    if flt.source_prefix:
        prefix = flt.source_prefix.rstrip("/") or flt.source_prefix
        must.append(qe.FieldCondition(key="source_prefixes", match=qe.MatchValue(prefix)))
    if flt.collections is not None:
        allowed = qe.FieldCondition(key="collection", match=qe.MatchAny(list(flt.collections)))
        if "default" in flt.collections:  # points from before collections existed
            must.append(qe.Filter(should=[allowed, qe.IsEmptyCondition("collection")]))
        else:
            must.append(qe.Filter(must=[allowed]))
    return qe.Filter(must=must) if must else None


class StoreLocked(RuntimeError):
    """Another process owns this embedded store (Qdrant Edge locks its write-ahead log)."""


def _open(path: Path, config: qe.EdgeConfig | None = None) -> qe.EdgeShard:
    try:
        if config is None:
            return qe.EdgeShard.load(str(path))
        return qe.EdgeShard.create(str(path), config)
    except Exception as exc:  # the binding raises a bare Exception
        if "WouldBlock" in str(exc):
            raise StoreLocked(
                f"the embedded vector store {path} is in use by another process (a running "
                "`factvault serve`?): stop it, or send the work through its API"
            ) from exc
        raise


class EdgeVectorStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._lock = threading.Lock()

    def _dir(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"invalid collection name {name!r}")
        return self.root / name

    def _config(self, dimension: int) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )

    def _shard(self, name: str) -> qe.EdgeShard:
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                path = self._dir(name)
                if not path.is_dir() or not any(path.iterdir()):
                    raise CollectionMissing(name)
                shard = _open(path)
                self._shards[name] = shard
            return shard

    def create_collection(self, name: str, dimension: int) -> None:
        with self._lock:
            if name in self._shards:
                return
            path = self._dir(name)
            if path.is_dir() and any(path.iterdir()):
                shard = _open(path)
            else:
                shard = _open(path, self._config(dimension))
            # Filters by collection run on every access-limited search: keep them indexed
            # (idempotent, so a shard made before collections existed gains it too).
            shard.update(
                qe.UpdateOperation.create_field_index("collection", qe.PayloadSchemaType.Keyword)
            )
            self._shards[name] = shard

    def has_collection(self, name: str) -> bool:
        path = self._dir(name)
        return name in self._shards or (path.is_dir() and any(path.iterdir()))

    def drop_collection(self, name: str) -> None:
        with self._lock:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._dir(name), ignore_errors=True)

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        shard = self._shard(name)
        edge_points = [
            qe.Point(
                id=p.id,
                vector={
                    DENSE: [float(x) for x in p.dense],
                    SPARSE: qe.SparseVector(indices=p.sparse.indices, values=p.sparse.values),
                },
                payload=p.payload(),
            )
            for p in points
        ]
        shard.update(qe.UpdateOperation.upsert_points(edge_points))
        shard.flush()

    def delete(self, name: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        shard = self._shard(name)
        shard.update(qe.UpdateOperation.delete_points(ids))
        shard.flush()

    def point_ids(self, name: str) -> set[str]:
        shard = self._shard(name)
        out: set[str] = set()
        offset = None
        while True:
            records, offset = shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1000, with_payload=False, with_vector=False)
            )
            out.update(str(r.id) for r in records)
            if offset is None:
                return out

    def count(self, name: str) -> int:
        return self._shard(name).count(qe.CountRequest(exact=True))

    def export_points(self, name: str, batch: int = 500) -> Iterator[PointRecord]:
        shard = self._shard(name)
        offset = None
        while True:
            records, offset = shard.scroll(
                qe.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True)
            )
            for r in records:
                yield PointRecord.from_stored(r.id, r.vector or {}, r.payload or {})
            if offset is None:
                return

    def search(self, name: str, request: SearchRequest) -> list[Hit]:
        shard = self._shard(name)
        flt = _edge_filter(request.filter)
        dense_q = (
            qe.Query.Nearest([float(x) for x in request.dense], using=DENSE)
            if request.dense is not None
            else None
        )
        sparse_q = (
            qe.Query.Nearest(
                qe.SparseVector(indices=request.sparse.indices, values=request.sparse.values),
                using=SPARSE,
            )
            if request.sparse is not None and request.sparse.indices
            else None
        )
        if request.mode == "dense" or (request.mode == "hybrid" and sparse_q is None):
            if dense_q is None:
                raise ValueError("dense search needs a dense query vector")
            query = qe.QueryRequest(
                limit=request.limit, query=dense_q, filter=flt, with_payload=True
            )
        elif request.mode == "sparse":
            if sparse_q is None:
                return []
            query = qe.QueryRequest(
                limit=request.limit, query=sparse_q, filter=flt, with_payload=True
            )
        else:
            if dense_q is None:
                raise ValueError("hybrid search needs a dense query vector")
            query = qe.QueryRequest(
                limit=request.limit,
                prefetches=[
                    qe.Prefetch(limit=request.prefetch, query=dense_q, filter=flt),
                    qe.Prefetch(limit=request.prefetch, query=sparse_q, filter=flt),
                ],
                query=(
                    qe.Fusion.Dbsf()
                    if request.fusion == "dbsf"
                    else qe.Fusion.Rrf(
                        k=request.rrf_k,
                        weights=list(request.weights) if request.weights else None,
                    )
                ),
                filter=flt,
                with_payload=True,
            )
        return [_hit(p) for p in shard.query(query)]

    def optimize(self, name: str) -> None:
        """Qdrant Edge runs its segment optimizers (HNSW build, merges) only when asked:
        without this a large collection is searched by brute force."""
        self._shard(name).optimize()

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()


def _hit(point: qe.ScoredPoint) -> Hit:
    payload = point.payload or {}
    return Hit(
        chunk_id=str(point.id),
        score=float(point.score),
        document_id=int(payload.get("document_id", -1)),
        source=str(payload.get("source", "")),
        ordinal=int(payload.get("ordinal", -1)),
    )
