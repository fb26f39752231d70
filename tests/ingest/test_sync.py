"""`factvault sync`: a pass keeps a collection in step with folders (new, changed, gone), a
later pass (a restart) finds only what changed meanwhile, and event-named paths (renames,
folder moves) are applied alone. On SQLite and on PostgreSQL (the documents table is the
sync's record), with the real embedder and the embedded Qdrant store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import Document
from app.core.migrate import upgrade
from app.core.runtime import Runtime, open_runtime
from app.retrieval.search import Retriever
from ingest.folder_sync import LocalTarget, Syncer
from ingest.pipeline import IngestPipeline
from tests.fixtures import assert_consistent

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def sql_runtime(request: pytest.FixtureRequest, tmp_path: Path, minilm) -> Iterator[Runtime]:
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    settings = get_settings(data_dir=tmp_path / "data", database_url=url, qdrant_url=None)
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    rt = open_runtime(settings, embedder=minilm)
    yield rt
    rt.close()


def stored(rt: Runtime) -> dict[str, str]:
    """source -> collection of every document."""
    with rt.db.session() as s:
        return dict(s.execute(select(Document.source, Document.collection)).all())


def top_sources(rt: Runtime, question: str) -> list[str]:
    return [c.source for c in Retriever(rt).retrieve(question, top_k=3)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_pass_ingests_new_and_changed_and_forgets_gone(
    sql_runtime: Runtime, tmp_path: Path
) -> None:
    rt = sql_runtime
    docs = tmp_path / "docs"
    a = write(docs / "a.md", "# Kites\n\nThe red kite nests at Wexcombe Hollow.\n")
    b = write(docs / "sub" / "b.txt", "The blue tractor is parked in barn number 14.\n")
    write(docs / ".draft.md", "hidden drafts are never synced\n")
    other = write(tmp_path / "other" / "c.md", "The other folder holds the orchard map.\n")
    IngestPipeline(rt).ingest_paths([other.parent])  # not under the synced folder

    report = Syncer(LocalTarget(rt), [docs], "eng").full_pass()
    assert report.actions == [("new", a.as_posix()), ("new", b.as_posix())]
    assert report.failed == []
    assert stored(rt) == {a.as_posix(): "eng", b.as_posix(): "eng", other.as_posix(): "default"}

    # While nothing watched: a edited, b deleted, d added. A new syncer (a restart) sees it.
    write(a, "# Kites\n\nThe red kite now nests at Brackenfold Ridge.\n")
    b.unlink()
    d = write(docs / "d.md", "Deliveries arrive on Thursdays at gate 3.\n")
    report = Syncer(LocalTarget(rt), [docs], "eng").full_pass()
    assert report.actions == [
        ("changed", a.as_posix()),
        ("new", d.as_posix()),
        ("forgotten", b.as_posix()),
    ]
    assert set(stored(rt)) == {a.as_posix(), d.as_posix(), other.as_posix()}
    assert top_sources(rt, "Where does the red kite nest? Brackenfold")[0] == a.as_posix()
    assert b.as_posix() not in top_sources(rt, "blue tractor barn 14")

    again = Syncer(LocalTarget(rt), [docs], "eng").full_pass()
    assert again.actions == [] and again.unchanged == 2
    # The same folder synced into another collection moves its documents there.
    moved = Syncer(LocalTarget(rt), [docs], "ops").full_pass()
    assert sorted(a for a, _ in moved.actions) == ["changed", "changed"]
    assert stored(rt)[a.as_posix()] == "ops"
    assert_consistent(rt)


def test_event_paths_apply_renames_and_folder_moves_alone(runtime: Runtime, tmp_path: Path):
    docs = tmp_path / "docs"
    a = write(docs / "a.md", "Alpha notes about the quarterly kiln inspection.\n")
    b = write(docs / "team" / "b.md", "Bravo notes about the forklift licence renewals.\n")
    c = write(docs / "team" / "c.md", "Charlie notes about the canteen menu rotation.\n")
    syncer = Syncer(LocalTarget(runtime), [docs], "default")
    syncer.full_pass()

    a2 = docs / "a-renamed.md"
    a.rename(a2)
    report = syncer.paths_changed([a, a2, tmp_path / "elsewhere.md", docs / ".a.md.swp"])
    assert report.actions == [("new", a2.as_posix()), ("forgotten", a.as_posix())]

    team2 = docs / "people"
    (docs / "team").rename(team2)
    report = syncer.paths_changed([docs / "team", team2])
    assert sorted(report.actions) == [
        ("forgotten", b.as_posix()),
        ("forgotten", c.as_posix()),
        ("new", (team2 / "b.md").as_posix()),
        ("new", (team2 / "c.md").as_posix()),
    ]
    # An event for a file that did not change costs a hash, not an ingest.
    report = syncer.paths_changed([a2])
    assert report.actions == [] and report.unchanged == 1
    assert top_sources(runtime, "forklift licence renewals")[0] == (team2 / "b.md").as_posix()
    assert_consistent(runtime)


def test_a_file_that_fails_is_named_and_the_others_go_in(runtime: Runtime, tmp_path: Path):
    docs = tmp_path / "docs"
    good = write(docs / "good.md", "The library opens at nine on weekdays.\n")
    bad = docs / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    report = Syncer(LocalTarget(runtime), [docs], "default").full_pass()
    assert report.actions == [("new", good.as_posix())]
    assert [s for s, _ in report.failed] == [bad.as_posix()]
    assert "zip" in report.failed[0][1]


class _DeletesWhileListed(LocalTarget):
    """A user deleting the files between the listing and the reading of a pass."""

    def __init__(self, runtime: Runtime, doomed: list[Path]) -> None:
        super().__init__(runtime)
        self.doomed = doomed

    def stored(self, scopes):
        found = super().stored(scopes)
        for path in self.doomed:
            path.unlink(missing_ok=True)
        return found


def test_a_file_deleted_during_a_pass_is_gone_not_failed(runtime: Runtime, tmp_path: Path):
    """A watcher's batch can name a file that vanishes before it is read: the pass treats
    it as deleted (forgotten if it was stored), never as a broken file."""
    docs = tmp_path / "docs"
    kept = write(docs / "kept.md", "The archive room key hangs by the east door.\n")
    brief = write(docs / "brief.md", "The fire drill is on the first Monday of March.\n")
    assert Syncer(LocalTarget(runtime), [docs], "default").full_pass().count("new") == 2
    write(brief, "The fire drill moved to the second Monday of March.\n")  # changed, then gone
    fresh = write(docs / "fresh.md", "Visitors sign in at the north desk.\n")  # new, then gone
    target = _DeletesWhileListed(runtime, [brief, fresh])
    report = Syncer(target, [docs], "default").paths_changed([brief, fresh])
    assert report.failed == []
    assert report.actions == [("forgotten", brief.as_posix())]
    assert set(stored(runtime)) == {kept.as_posix()}


def test_the_watcher_in_this_process_follows_events(runtime: Runtime, tmp_path: Path) -> None:
    """The local path of --watch (the CLI's, when no service runs): events, debounce, pass."""
    import threading
    import time

    from ingest.folder_sync import Watcher

    docs = tmp_path / "docs"
    docs.mkdir()
    reports = []
    stop = threading.Event()
    watcher = Watcher(Syncer(LocalTarget(runtime), [docs], "default"), 0.3, reports.append)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        f = write(docs / "rota.md", "The night shift rota is posted on Fridays by Imelda Quist.\n")
        deadline = time.monotonic() + 30
        while f.as_posix() not in stored(runtime):
            assert time.monotonic() < deadline, reports
            time.sleep(0.1)
        f.unlink()
        while f.as_posix() in stored(runtime):
            assert time.monotonic() < deadline, reports
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert [r.actions for r in reports] == [[("new", f.as_posix())], [("forgotten", f.as_posix())]]
