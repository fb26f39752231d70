"""The ingest pipeline end to end on real components (MiniLM, Qdrant Edge, SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import Chunk, Document, IngestionRun, RunStatus
from app.core.index_versions import active_index
from app.core.vectorstore import SearchFilter
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline
from ingest.sources import SourceFile
from tests.fixtures import assert_consistent, sql_chunk_ids

pytestmark = pytest.mark.slow


def docs_by_name(rt) -> dict[str, Document]:
    with rt.db.session() as s:
        return {Path(d.source).name: d for d in s.scalars(select(Document))}


def test_ingest_samples_then_retrieve(runtime, corpus: Path) -> None:
    report = IngestPipeline(runtime).ingest_paths([corpus])
    assert report.ok, report.errors
    assert report.new == 5 and report.failed == 0
    assert report.chunks_written == len(sql_chunk_ids(runtime)) > 6
    assert_consistent(runtime)

    docs = docs_by_name(runtime)
    assert docs["security-policy.pdf"].media_type == "application/pdf"
    assert docs["office-guide.html"].title == "Larkspur Instruments - Office Guide"

    # Two chunks can tie exactly under RRF (first in one list, second in the other), and
    # Qdrant breaks ties by storage order: ask for the fact within the top two.
    hits = Retriever(runtime).retrieve("How many days of annual leave do employees get?", 3)
    leave = next(h for h in hits[:2] if "27 days" in h.text)
    assert leave.source.endswith("employee-handbook.md")
    # The structural prefix is stored apart from the cited text.
    assert leave.context.startswith("Document: Larkspur Instruments Employee Handbook")
    assert "Document:" not in leave.text

    pdf_hit = Retriever(runtime).retrieve("deadline to report a security incident", 1)[0]
    assert pdf_hit.page == 2 and "one hour" in pdf_hit.text

    with runtime.db.session() as s:
        run = s.get(IngestionRun, report.run_id)
        assert run.status == RunStatus.completed and run.files_new == 5


def test_reingest_is_a_noop(runtime, corpus: Path) -> None:
    pipeline = IngestPipeline(runtime)
    pipeline.ingest_paths([corpus])
    before = sql_chunk_ids(runtime)
    again = pipeline.ingest_paths([corpus])
    assert (again.new, again.changed, again.unchanged, again.chunks_written) == (0, 0, 5, 0)
    assert "embed" not in again.stage_seconds  # nothing was embedded
    assert sql_chunk_ids(runtime) == before


def test_a_newer_loader_reads_an_unchanged_file_again(runtime, corpus: Path, monkeypatch) -> None:
    """Same bytes, better loader: the stored document is re-read once, then unchanged."""
    from ingest import loaders

    pipeline = IngestPipeline(runtime)
    pipeline.ingest_paths([corpus])
    newer = {**loaders.LOADER_VERSIONS, loaders.load_html: 99}
    monkeypatch.setattr(loaders, "LOADER_VERSIONS", newer)
    again = pipeline.ingest_paths([corpus])
    assert (again.new, again.changed, again.unchanged) == (0, 1, 4)  # the one HTML file
    third = pipeline.ingest_paths([corpus])
    assert (third.changed, third.unchanged) == (0, 5)


def test_changed_file_replaces_its_chunks(runtime, corpus: Path) -> None:
    pipeline = IngestPipeline(runtime)
    pipeline.ingest_paths([corpus])
    handbook = corpus / "handbook" / "employee-handbook.md"
    old_ids = {c for c in sql_chunk_ids(runtime)}
    handbook.write_text(handbook.read_text().replace("27 days", "31 days"))
    report = pipeline.ingest_paths([corpus])
    assert (report.new, report.changed, report.unchanged) == (0, 1, 4)
    assert_consistent(runtime)
    doc = docs_by_name(runtime)["employee-handbook.md"]
    with runtime.db.session() as s:
        texts = " ".join(s.scalars(select(Chunk.text).where(Chunk.document_id == doc.id)))
    assert "31 days" in texts and "27 days" not in texts
    assert sql_chunk_ids(runtime) - old_ids  # new ids for the new version
    hits = Retriever(runtime).retrieve("annual leave days per year", 2)
    assert any("31 days" in h.text for h in hits)


def test_prune_removes_deleted_files_only_under_given_roots(runtime, corpus: Path, tmp_path):
    pipeline = IngestPipeline(runtime)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("A file outside the pruned folder.\n")
    pipeline.ingest_paths([corpus, elsewhere])
    (corpus / "code" / "rate_limiter.py").unlink()
    no_prune = pipeline.ingest_paths([corpus])
    assert no_prune.pruned == 0 and "rate_limiter.py" in docs_by_name(runtime)
    report = pipeline.ingest_paths([corpus], prune=True)
    assert report.pruned == 1
    names = docs_by_name(runtime)
    assert "rate_limiter.py" not in names and "keep.txt" in names
    assert_consistent(runtime)


def test_bad_files_fail_alone(runtime, corpus: Path) -> None:
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    (bad / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (bad / "latin1.md").write_bytes("r\xe9sum\xe9".encode("latin-1"))
    (bad / "empty.txt").write_bytes(b"")
    (bad / ".hidden.txt").write_text("hidden files are skipped")
    report = IngestPipeline(runtime).ingest_paths([corpus, corpus / "missing-folder"])
    failed = {Path(f).name: reason for f, reason in report.errors}
    assert set(failed) == {"broken.pdf", "blob.txt", "latin1.md", "empty.txt", "missing-folder"}
    assert "corrupt" in failed["broken.pdf"] and "binary" in failed["blob.txt"]
    assert report.new == 5 and report.failed == 5 and not report.ok
    assert_consistent(runtime)
    with runtime.db.session() as s:
        run = s.get(IngestionRun, report.run_id)
        assert {Path(e["file"]).name for e in run.errors} == set(failed)


def test_bad_version_of_a_good_file_keeps_the_old_one(runtime, corpus: Path) -> None:
    pipeline = IngestPipeline(runtime)
    pipeline.ingest_paths([corpus])
    before = sql_chunk_ids(runtime)
    (corpus / "handbook" / "employee-handbook.md").write_bytes(b"\xff\xfe broken \x00")
    report = pipeline.ingest_paths([corpus])
    assert report.failed == 1
    assert sql_chunk_ids(runtime) == before  # nothing stored before was lost
    question = "How many days of annual leave do employees get?"
    assert any("27 days" in h.text for h in Retriever(runtime).retrieve(question, 2))


def test_uploaded_bytes_use_the_same_pipeline(runtime) -> None:
    item = SourceFile(
        "upload/notes.md", Path("notes.md"), data=b"# Notes\n\nThe vault code is 4412.\n"
    )
    report = IngestPipeline(runtime).run([item])
    assert report.new == 1
    hit = Retriever(runtime).retrieve("what is the vault code", 1)[0]
    assert hit.source == "upload/notes.md" and "4412" in hit.text


def test_source_prefix_filter(runtime, corpus: Path) -> None:
    IngestPipeline(runtime).ingest_paths([corpus])
    prefix = (corpus / "code").as_posix()
    hits = Retriever(runtime).retrieve("leave", 5, filter=SearchFilter(source_prefix=prefix))
    assert hits and all(h.source.startswith(prefix + "/") for h in hits)


def test_index_version_records_the_embedder(runtime, corpus: Path, minilm) -> None:
    IngestPipeline(runtime).ingest_paths([corpus])
    with runtime.db.session() as s:
        index = active_index(s)
    assert index.embedding_model == minilm.name
    assert index.embedding_sha256 == minilm.weights_sha256 and len(index.embedding_sha256) == 64
    assert index.dimension == 384
    assert index.bm25_config["tokenizer"] == "code"
