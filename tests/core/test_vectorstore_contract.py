"""One contract, every VectorStore: embedded Qdrant Edge, qdrant-client's in-process engine,
and a real Qdrant server when FACTVAULT_QDRANT_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from app.core.sparse import Bm25Encoder
from app.core.vectorstore import (
    CollectionMissing,
    PointRecord,
    SearchFilter,
    SearchRequest,
    VectorStore,
)
from app.core.vectorstore.base import source_prefixes
from app.core.vectorstore.edge import EdgeVectorStore
from app.core.vectorstore.server import ServerVectorStore

DIM = 8
BM25 = Bm25Encoder()
TEXTS = [
    "def parseConfigFile(path): read the yaml configuration",
    "the annual leave policy grants 27 days",
    "TokenBucket refills at a fixed rate per second",
    "fire assembly point is the north car park",
    "snake_case_identifier appears only here",
]
SOURCES = ["/srv/code/a.py", "/srv/hr/leave.md", "/srv/code/b.py", "/srv/hr/office.html", "/x/y.py"]


def backends() -> list[str]:
    names = ["edge", "client-memory"]
    if os.environ.get("FACTVAULT_QDRANT_URL"):
        names.append("server")
    return names


@pytest.fixture(params=backends())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "edge":
        s: VectorStore = EdgeVectorStore(tmp_path / "qdrant")
    elif request.param == "client-memory":
        s = ServerVectorStore(QdrantClient(":memory:"))
    else:
        s = ServerVectorStore.connect(os.environ["FACTVAULT_QDRANT_URL"])
    yield s
    s.close()


def unit(i: int) -> list[float]:
    rng = np.random.default_rng(i)
    v = rng.normal(size=DIM)
    return list(v / np.linalg.norm(v))


def make_points() -> list[PointRecord]:
    sparse = BM25.encode_documents(TEXTS)
    return [
        PointRecord(str(uuid.uuid4()), unit(i), sparse[i], document_id=i, ordinal=0, source=src)
        for i, src in enumerate(SOURCES)
    ]


@pytest.fixture
def filled(store: VectorStore) -> tuple[VectorStore, str, list[PointRecord]]:
    name = f"c-{uuid.uuid4().hex[:8]}"
    store.create_collection(name, DIM)
    points = make_points()
    store.upsert(name, points)
    return store, name, points


def test_create_is_idempotent(store: VectorStore) -> None:
    store.create_collection("twice", DIM)
    store.create_collection("twice", DIM)
    assert store.has_collection("twice")
    assert store.count("twice") == 0


def test_upsert_count_and_ids(filled) -> None:
    store, name, points = filled
    assert store.count(name) == len(points)
    assert store.point_ids(name) == {p.id for p in points}


def test_upsert_same_id_overwrites(filled) -> None:
    store, name, points = filled
    store.upsert(name, [points[0]])
    assert store.count(name) == len(points)


def test_delete(filled) -> None:
    store, name, points = filled
    store.delete(name, [points[0].id, points[1].id])
    store.delete(name, [])
    assert store.point_ids(name) == {p.id for p in points[2:]}


def test_dense_search_finds_the_exact_vector(filled) -> None:
    store, name, points = filled
    hits = store.search(name, SearchRequest(dense=unit(3), sparse=None, limit=2, mode="dense"))
    assert hits[0].chunk_id == points[3].id
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert (hits[0].document_id, hits[0].source, hits[0].ordinal) == (3, SOURCES[3], 0)


def test_sparse_search_matches_identifier_parts(filled) -> None:
    store, name, points = filled
    for query, expected in [("parse config file", 0), ("snake case identifier", 4)]:
        hits = store.search(
            name, SearchRequest(dense=None, sparse=BM25.encode_query(query), mode="sparse")
        )
        assert hits and hits[0].chunk_id == points[expected].id


def test_hybrid_fuses_dense_and_sparse(filled) -> None:
    store, name, points = filled
    # The dense vector points at doc 2, the words at doc 1: both must be at the top.
    hits = store.search(
        name,
        SearchRequest(dense=unit(2), sparse=BM25.encode_query("annual leave days"), limit=3),
    )
    top2 = {h.chunk_id for h in hits[:2]}
    assert top2 == {points[1].id, points[2].id}


def test_filters(filled) -> None:
    store, name, points = filled
    req = dict(dense=unit(0), sparse=BM25.encode_query("policy"), limit=10)
    by_prefix = store.search(
        name, SearchRequest(**req, filter=SearchFilter(source_prefix="/srv/hr/"))
    )
    assert {h.source for h in by_prefix} == {"/srv/hr/leave.md", "/srv/hr/office.html"}
    by_doc = store.search(name, SearchRequest(**req, filter=SearchFilter(document_ids=(0, 4))))
    assert {h.document_id for h in by_doc} == {0, 4}
    none = store.search(name, SearchRequest(**req, filter=SearchFilter(source_prefix="/srv/h")))
    assert none == []  # a prefix is a path prefix, not a string prefix


def test_collection_filter_is_applied_inside_the_search(store: VectorStore) -> None:
    """Chunks of other collections never come back; points written before collections
    existed (no ``collection`` in their payload) count as "default"."""
    store.create_collection("c", DIM)
    sparse = BM25.encode_documents(TEXTS[:4])
    points = [
        PointRecord(str(uuid.uuid4()), unit(i), sparse[i], i, 0, f"/d/{i}", coll)
        for i, coll in enumerate(["hr", "eng", "default", "hr"])
    ]
    store.upsert("c", points)
    legacy = PointRecord(str(uuid.uuid4()), unit(9), sparse[0], 9, 0, "/d/old")
    old_payload = {k: v for k, v in legacy.payload().items() if k != "collection"}
    if isinstance(store, EdgeVectorStore):
        import qdrant_edge as qe

        point = qe.Point(legacy.id, {"dense": list(legacy.dense)}, old_payload)
        store._shard("c").update(qe.UpdateOperation.upsert_points([point]))
    else:
        from qdrant_client import models as qm

        store.client.upsert(
            "c",
            [
                qm.PointStruct(
                    id=legacy.id, vector={"dense": list(legacy.dense)}, payload=old_payload
                )
            ],
        )
    req = dict(dense=unit(0), sparse=BM25.encode_query("policy"), limit=10)

    def docs(collections: tuple[str, ...] | None) -> set[int]:
        flt = SearchFilter(collections=collections)
        return {h.document_id for h in store.search("c", SearchRequest(**req, filter=flt))}

    assert docs(("hr",)) == {0, 3}
    assert docs(("eng",)) == {1}
    assert docs(("default",)) == {2, 9}
    assert docs(("eng", "default")) == {1, 2, 9}
    assert docs(None) == {0, 1, 2, 3, 9}
    assert docs(("nobody",)) == set()


def test_missing_collection(store: VectorStore) -> None:
    with pytest.raises(CollectionMissing):
        store.count("never-created")
    assert not store.has_collection("never-created")


def test_drop_collection(filled) -> None:
    store, name, _ = filled
    store.drop_collection(name)
    assert not store.has_collection(name)


def test_edge_store_persists_across_reopen(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path / "q")
    first.create_collection("c", DIM)
    points = make_points()
    first.upsert("c", points)
    first.close()
    again = EdgeVectorStore(tmp_path / "q")
    assert again.point_ids("c") == {p.id for p in points}
    again.close()


def test_source_prefixes() -> None:
    assert source_prefixes("/srv/docs/a.md") == ["/srv", "/srv/docs", "/srv/docs/a.md"]
    assert source_prefixes("repo/x/y.py") == ["repo", "repo/x", "repo/x/y.py"]


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
def test_fusion_methods_and_weights(filled, fusion: str) -> None:
    store, name, points = filled
    base = dict(dense=unit(2), sparse=BM25.encode_query("annual leave days"), limit=5)
    hits = store.search(name, SearchRequest(**base, fusion=fusion))
    assert {h.chunk_id for h in hits[:2]} == {points[1].id, points[2].id}
    if fusion == "rrf":
        # Point 3 is found only by the dense prefetch: weighting dense up must raise it.
        def score_of_3(weights: tuple[float, float] | None) -> float:
            found = store.search(name, SearchRequest(**base, weights=weights))
            return next(h.score for h in found if h.chunk_id == points[3].id)

        assert score_of_3((50.0, 1.0)) > score_of_3(None) >= score_of_3((1.0, 50.0))


def test_optimize_keeps_every_point_searchable(store: VectorStore) -> None:
    store.create_collection("opt", DIM)
    points = make_points()
    store.upsert("opt", points)
    store.optimize("opt")
    assert store.point_ids("opt") == {p.id for p in points}
    hits = store.search("opt", SearchRequest(dense=unit(3), sparse=None, mode="dense", limit=1))
    assert hits[0].chunk_id == points[3].id


def test_a_second_process_gets_a_clear_lock_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    owner = EdgeVectorStore(tmp_path / "q")
    owner.create_collection("c", DIM)
    code = (
        "import sys; from app.core.vectorstore.edge import EdgeVectorStore, StoreLocked\n"
        "try:\n    EdgeVectorStore(sys.argv[1]).count('c')\n"
        "except StoreLocked as e:\n    print('LOCKED', e); sys.exit(3)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "q")], capture_output=True, text=True
    )
    owner.close()
    assert run.returncode == 3 and "in use by another process" in run.stdout, run.stderr


def test_export_points_round_trips_vectors_and_payload(filled) -> None:
    store, name, points = filled
    exported = {p.id: p for p in store.export_points(name, batch=2)}  # several pages
    assert set(exported) == {p.id for p in points}
    for p in points:
        e = exported[p.id]
        assert np.allclose(e.dense, p.dense, atol=1e-6)
        assert dict(zip(e.sparse.indices, e.sparse.values, strict=True)) == pytest.approx(
            dict(zip(p.sparse.indices, p.sparse.values, strict=True))
        )
        assert (e.document_id, e.ordinal, e.source) == (p.document_id, p.ordinal, p.source)
    store.create_collection("copy", DIM)
    store.upsert("copy", list(exported.values()))
    query = SearchRequest(dense=points[1].dense, sparse=None, limit=3, mode="dense")
    assert [h.chunk_id for h in store.search("copy", query)] == [
        h.chunk_id for h in store.search(name, query)
    ]
