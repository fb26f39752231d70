"""Every loader has a budget (issue 29, item 4): rows, columns, cells, characters, nesting
depth and seconds per file, and the parse worker's memory. A file over one is refused with
the reason, the run goes on with the next file, and nothing of it is stored."""

from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app.core.db import Document
from app.core.runtime import Runtime
from ingest.loaders import LoaderBudget, LoaderError, load_bytes
from ingest.parse_worker import ParseWorker
from ingest.pipeline import IngestPipeline
from ingest.sources import SourceFile
from tests.fixtures import assert_consistent


def workbook(rows: int, columns: int = 4, sheets: int = 1) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    for n in range(sheets):
        sheet = book.create_sheet(f"S{n}")
        sheet.append([f"col{c}" for c in range(columns)])
        for r in range(rows):
            sheet.append([f"r{r}c{c}" if c else r for c in range(columns)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def nested_mail(depth: int) -> bytes:
    """A mail whose body is a multipart inside a multipart ... ``depth`` levels deep."""
    head = "Subject: Deep\r\nFrom: a@example.org\r\nTo: b@example.org\r\nMIME-Version: 1.0\r\n"
    parts = []
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n')
    inner = "Content-Type: text/plain\r\n\r\nthe bottom\r\n"
    tail = "".join(f"\r\n--b{level}--\r\n" for level in reversed(range(depth)))
    return (head + "".join(parts) + inner + tail).encode()


def test_a_workbook_over_the_row_budget_is_refused_naming_the_limit() -> None:
    data = workbook(1_500, sheets=2)  # 3,000 rows in all
    with pytest.raises(LoaderError) as refused:
        load_bytes(Path("big.xlsx"), data, LoaderBudget(rows=2_000))
    assert "more than 2,000 rows" in refused.value.reason
    assert "FACTVAULT_LOADER_MAX_ROWS" in refused.value.reason
    assert "Sheet: S1" in load_bytes(Path("ok.xlsx"), data, LoaderBudget(rows=5_000)).text


def test_too_many_columns_or_cells_are_refused() -> None:
    wide = ",".join(f"c{i}" for i in range(10_000)).encode() + b"\n" + b"1," * 9_999 + b"1\n"
    with pytest.raises(LoaderError, match="10,000 columns"):
        load_bytes(Path("wide.csv"), wide)  # the default budget: 1,000 columns
    with pytest.raises(LoaderError, match="more than 100 cells"):
        load_bytes(Path("cells.xlsx"), workbook(50, columns=4), LoaderBudget(cells=100))


def test_a_deeply_nested_mail_is_refused_not_a_crash() -> None:
    with pytest.raises(LoaderError, match="nested more than 20 deep"):
        load_bytes(Path("deep.eml"), nested_mail(1_000))
    with pytest.raises(LoaderError, match="nested more than 3 deep"):
        load_bytes(Path("deep.eml"), nested_mail(5), LoaderBudget(depth=3))
    assert "the bottom" in load_bytes(Path("ok.eml"), nested_mail(3)).text


def test_text_over_the_character_budget_is_refused() -> None:
    with pytest.raises(LoaderError, match="more than 1,000 characters"):
        load_bytes(
            Path("long.md"), b"# Long\n\n" + b"word " * 1_000, LoaderBudget(characters=1_000)
        )


def test_the_worker_stops_a_slow_parse_and_serves_the_next_file() -> None:
    worker = ParseWorker().warm_up()
    try:
        slow = workbook(40_000)
        started = time.monotonic()
        with pytest.raises(LoaderError, match="took longer than 0.3 s"):
            worker.load(Path("slow.xlsx"), slow, LoaderBudget(seconds=0.3))
        assert time.monotonic() - started < 3  # killed, not waited for
        doc = worker.load(Path("next.md"), b"# Next\n\nstill served\n")
        assert "still served" in doc.text
    finally:
        worker.close()


def test_the_worker_refuses_a_parse_over_its_memory_limit() -> None:
    """A 150 MB text file needs far more than 200 MiB to decode and split: a MemoryError
    in the worker, a refusal here, and the worker still serves."""
    worker = ParseWorker(memory_mib=200)
    try:
        with pytest.raises(LoaderError, match="more than 200 MiB|worker ended"):
            worker.load(Path("huge.txt"), b"abc def\n" * 20_000_000)
        assert "fine" in worker.load(Path("small.txt"), b"fine\n").text
    finally:
        worker.close()


def test_a_closed_worker_refuses_at_once() -> None:
    worker = ParseWorker().warm_up()
    worker.close()
    with pytest.raises(LoaderError, match="stopping"):
        worker.load(Path("late.md"), b"# Late\n")


@pytest.mark.slow
def test_the_pipeline_refuses_over_budget_files_and_keeps_the_rest(runtime: Runtime) -> None:
    runtime.settings.loader_max_rows = 1_000
    files = [
        SourceFile("rows.xlsx", Path("rows.xlsx"), data=workbook(2_000)),
        SourceFile("deep.eml", Path("deep.eml"), data=nested_mail(1_000)),
        SourceFile("fine.md", Path("fine.md"), data=b"# Fine\n\nThe lobby opens at 7.\n"),
    ]
    report = IngestPipeline(runtime).run(files)
    reasons = dict(report.errors)
    assert set(reasons) == {"rows.xlsx", "deep.eml"}
    assert "more than 1,000 rows" in reasons["rows.xlsx"]
    assert "nested more than" in reasons["deep.eml"]
    assert report.new == 1 and report.chunks_written >= 1
    assert_consistent(runtime)


@pytest.mark.slow
def test_a_stopping_pipeline_ends_between_steps(runtime: Runtime) -> None:
    """The service stops once the first document is in: the run ends there, the stores
    agree, and the next run reads the rest."""

    def stored() -> int:
        with runtime.db.session() as s:
            return s.scalar(select(func.count()).select_from(Document)) or 0

    files = [
        SourceFile(f"n{i}.md", Path(f"n{i}.md"), data=f"# Note {i}\n\nText {i}.\n".encode())
        for i in range(3)
    ]
    report = IngestPipeline(runtime, batch_chunks=1, stopping=lambda: stored() >= 1).run(files)
    assert report.new == 1 and not report.errors
    assert stored() == 1
    assert_consistent(runtime)
    assert IngestPipeline(runtime).run(files).new == 2  # the next run reads the rest
