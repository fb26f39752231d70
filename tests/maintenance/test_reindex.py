"""Re-index without downtime on real components: MiniLM -> e5-small while queries run,
resuming an interrupted build, and dropping the old collection only after the grace period."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import IndexStatus, IndexVersion
from app.core.embedder import E5SmallEmbedder
from app.core.index_versions import active_index
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline
from ingest.reindex import drop_retired, reindex
from tests.fixtures import assert_consistent

pytestmark = pytest.mark.slow
QUESTION = "How many days of paid annual leave does an employee get?"


def top_sources(rt, question: str = QUESTION) -> list[str]:
    return [Path(h.source).name for h in Retriever(rt).retrieve(question, top_k=3)]


def versions(rt) -> list[tuple[str, str, str]]:
    with rt.db.session() as s:
        rows = s.scalars(select(IndexVersion).order_by(IndexVersion.id))
        return [(r.collection, r.embedding_model, str(r.status)) for r in rows]


def test_reindex_switches_embedder_while_queries_keep_working(runtime, corpus: Path) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    assert "employee-handbook.md" in top_sources(runtime)
    old_collection = versions(runtime)[0][0]

    results: list[list[str]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def build() -> None:
        try:
            reindex(runtime, "e5")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=build)
    thread.start()
    while not done.is_set():
        try:
            results.append(top_sources(runtime))
        except BaseException as exc:
            errors.append(exc)
    thread.join()
    results.append(top_sources(runtime))
    assert errors == []
    assert len(results) >= 3 and all(r and "employee-handbook.md" in r for r in results)

    (old, new) = versions(runtime)
    assert old == (old_collection, "sentence-transformers/all-MiniLM-L6-v2", "retired")
    assert new[1] == E5SmallEmbedder.name and new[2] == "active"
    assert_consistent(runtime)  # the new collection holds exactly the chunks in SQL
    # Queries are now embedded with e5 (the index, not the setting, decides) ...
    with runtime.db.session() as s:
        index = active_index(s)
        assert runtime.embedder_for(index).name == E5SmallEmbedder.name
    # ... and a new document goes into the new version, embedded the same way.
    (corpus / "parking.md").write_text("# Parking\n\nVisitors park in bay C, behind the lab.\n")
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok
    assert_consistent(runtime)
    assert top_sources(runtime, "Where do visitors park?")[0] == "parking.md"

    # The old collection outlives the switch for the grace period, then goes.
    assert runtime.store.has_collection(old_collection)
    assert drop_retired(runtime) == []  # default grace: 600 s
    assert drop_retired(runtime, grace_seconds=0) == [old_collection]
    assert not runtime.store.has_collection(old_collection)


def test_interrupted_reindex_is_resumed(runtime, corpus: Path) -> None:
    assert IngestPipeline(runtime).ingest_paths([corpus]).ok

    class Crash(Exception):
        pass

    def crash(done: int, total: int) -> None:
        raise Crash  # the process dies after the first batch reached the new collection

    with pytest.raises(Crash):
        reindex(runtime, "minilm", on_progress=crash)
    statuses = [v[2] for v in versions(runtime)]
    assert statuses == ["active", "building"]  # still serving the old version
    assert "employee-handbook.md" in top_sources(runtime)

    report = reindex(runtime, "minilm")
    assert report.resumed and report.chunks > 0
    assert [v[2] for v in versions(runtime)] == ["retired", "active"]
    assert_consistent(runtime)
    assert "employee-handbook.md" in top_sources(runtime)
    with runtime.db.session() as s:
        assert (
            s.scalars(select(IndexVersion).where(IndexVersion.status == IndexStatus.building)).all()
            == []
        )
