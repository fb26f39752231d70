"""A Qdrant server or cluster through qdrant-client, with the same layout as the edge store.

BM25 vectors arrive already encoded (same ``Bm25Encoder`` config as the edge store); the
server applies IDF through the sparse vector's modifier. Tests run this class against
qdrant-client's in-process engine (``QdrantClient(":memory:")``), which speaks the same API.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from app.core.vectorstore.base import (
    DENSE,
    SPARSE,
    CollectionMissing,
    Hit,
    PointRecord,
    SearchFilter,
    SearchRequest,
)


@dataclass(frozen=True)
class ClusterLayout:
    """How a collection is spread over a Qdrant cluster (ignored by a single node)."""

    shard_number: int = 1
    replication_factor: int = 1
    write_consistency_factor: int = 1


def _server_filter(flt: SearchFilter) -> qm.Filter | None:
    must: list[qm.Condition] = []
    if flt.document_ids:
        must.append(
            qm.FieldCondition(key="document_id", match=qm.MatchAny(any=list(flt.document_ids)))
        )
    if flt.source_prefix:
        prefix = flt.source_prefix.rstrip("/") or flt.source_prefix
        must.append(qm.FieldCondition(key="source_prefixes", match=qm.MatchValue(value=prefix)))
    if flt.collections is not None:
        allowed = qm.FieldCondition(key="collection", match=qm.MatchAny(any=list(flt.collections)))
        if "default" in flt.collections:  # points from before collections existed
            empty = qm.IsEmptyCondition(is_empty=qm.PayloadField(key="collection"))
            must.append(qm.Filter(should=[allowed, empty]))
        else:
            must.append(allowed)
    return qm.Filter(must=must) if must else None


class ServerVectorStore:
    def __init__(self, client: QdrantClient, layout: ClusterLayout | None = None) -> None:
        self.client = client
        self.layout = layout or ClusterLayout()

    @classmethod
    def connect(
        cls, url: str, api_key: str | None = None, layout: ClusterLayout | None = None
    ) -> ServerVectorStore:
        if url == ":memory:":  # qdrant-client's own in-process engine: tests and trials
            return cls(QdrantClient(location=":memory:"), layout)
        return cls(QdrantClient(url=url, api_key=api_key, timeout=30), layout)

    def create_collection(self, name: str, dimension: int) -> None:
        if self.client.collection_exists(name):
            return
        self.client.create_collection(
            name,
            vectors_config={DENSE: qm.VectorParams(size=dimension, distance=qm.Distance.COSINE)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            shard_number=self.layout.shard_number,
            replication_factor=self.layout.replication_factor,
            write_consistency_factor=self.layout.write_consistency_factor,
        )
        # Payload indexes speed up filters on a server; the in-process engine ignores them
        # with a warning, which is noise here.
        for key, schema in (
            ("document_id", qm.PayloadSchemaType.INTEGER),
            ("source_prefixes", qm.PayloadSchemaType.KEYWORD),
            ("collection", qm.PayloadSchemaType.KEYWORD),
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.client.create_payload_index(name, key, field_schema=schema)

    def has_collection(self, name: str) -> bool:
        return self.client.collection_exists(name)

    def _require(self, name: str) -> None:
        if not self.client.collection_exists(name):
            raise CollectionMissing(name)

    def drop_collection(self, name: str) -> None:
        if self.client.collection_exists(name):
            self.client.delete_collection(name)

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        self._require(name)
        self.client.upsert(
            name,
            points=[
                qm.PointStruct(
                    id=p.id,
                    vector={
                        DENSE: [float(x) for x in p.dense],
                        SPARSE: qm.SparseVector(indices=p.sparse.indices, values=p.sparse.values),
                    },
                    payload=p.payload(),
                )
                for p in points
            ],
            wait=True,
        )

    def delete(self, name: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        self._require(name)
        self.client.delete(name, points_selector=qm.PointIdsList(points=ids), wait=True)

    def point_ids(self, name: str) -> set[str]:
        self._require(name)
        out: set[str] = set()
        offset = None
        while True:
            records, offset = self.client.scroll(
                name, limit=1000, offset=offset, with_payload=False, with_vectors=False
            )
            out.update(str(r.id) for r in records)
            if offset is None:
                return out

    def count(self, name: str) -> int:
        self._require(name)
        return self.client.count(name, exact=True).count

    def export_points(self, name: str, batch: int = 500) -> Iterator[PointRecord]:
        self._require(name)
        offset = None
        while True:
            records, offset = self.client.scroll(
                name, limit=batch, offset=offset, with_payload=True, with_vectors=True
            )
            for r in records:
                vector = r.vector if isinstance(r.vector, dict) else {}
                yield PointRecord.from_stored(r.id, vector, r.payload or {})
            if offset is None:
                return

    def search(self, name: str, request: SearchRequest) -> list[Hit]:
        self._require(name)
        flt = _server_filter(request.filter)
        dense_q = [float(x) for x in request.dense] if request.dense is not None else None
        sparse_q = (
            qm.SparseVector(indices=request.sparse.indices, values=request.sparse.values)
            if request.sparse is not None and request.sparse.indices
            else None
        )
        if request.mode == "dense" or (request.mode == "hybrid" and sparse_q is None):
            if dense_q is None:
                raise ValueError("dense search needs a dense query vector")
            res = self.client.query_points(
                name,
                query=dense_q,
                using=DENSE,
                limit=request.limit,
                query_filter=flt,
                with_payload=True,
            )
        elif request.mode == "sparse":
            if sparse_q is None:
                return []
            res = self.client.query_points(
                name,
                query=sparse_q,
                using=SPARSE,
                limit=request.limit,
                query_filter=flt,
                with_payload=True,
            )
        else:
            if dense_q is None:
                raise ValueError("hybrid search needs a dense query vector")
            res = self.client.query_points(
                name,
                prefetch=[
                    qm.Prefetch(query=dense_q, using=DENSE, limit=request.prefetch, filter=flt),
                    qm.Prefetch(query=sparse_q, using=SPARSE, limit=request.prefetch, filter=flt),
                ],
                query=(
                    qm.FusionQuery(fusion=qm.Fusion.DBSF)
                    if request.fusion == "dbsf"
                    else qm.RrfQuery(
                        rrf=qm.Rrf(
                            k=request.rrf_k,
                            weights=list(request.weights) if request.weights else None,
                        )
                    )
                ),
                limit=request.limit,
                query_filter=flt,
                with_payload=True,
            )
        return [
            Hit(
                chunk_id=str(p.id),
                score=float(p.score),
                document_id=int((p.payload or {}).get("document_id", -1)),
                source=str((p.payload or {}).get("source", "")),
                ordinal=int((p.payload or {}).get("ordinal", -1)),
            )
            for p in res.points
        ]

    def optimize(self, name: str) -> None:
        """The server's own optimizers index in the background; nothing to do."""

    def close(self) -> None:
        self.client.close()
