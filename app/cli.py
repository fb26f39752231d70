"""The ``factvault`` command: db, ingest, docs, retrieve.

Errors are printed plainly (file and reason) and the exit code says whether anything failed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.core.config import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic).")
docs_app = typer.Typer(no_args_is_help=True, help="Ingested documents.")
app.add_typer(db_app, name="db")
app.add_typer(docs_app, name="docs")

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    return typer.Exit(code)


def _runtime():  # noqa: ANN202
    from app.core.runtime import SchemaOutOfDate, open_runtime

    try:
        return open_runtime(get_settings())
    except SchemaOutOfDate as exc:
        raise _fail(str(exc)) from exc
    except RuntimeError as exc:  # e.g. the embedded store is locked by a running server
        raise _fail(f"cannot open the stores: {exc}") from exc


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations (SQLite in the data dir, or FACTVAULT_DATABASE_URL)."""
    from app.core.migrate import current_revision, upgrade

    settings = get_settings()
    settings.ensure_dirs()
    upgrade(settings.sql_url, revision)
    out.print(f"database at revision {current_revision(settings.sql_url)}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    prune: Annotated[
        bool, typer.Option(help="Remove documents whose files are gone from these folders.")
    ] = False,
) -> None:
    """Ingest files and folders; unchanged files are skipped, changed ones replaced."""
    from app.core.index_versions import IndexMismatch
    from ingest.pipeline import IngestPipeline
    from ingest.progress import terminal_progress

    rt = _runtime()
    try:
        report = IngestPipeline(rt, progress=terminal_progress()).ingest_paths(paths, prune=prune)
    except IndexMismatch as exc:
        raise _fail(str(exc)) from exc
    finally:
        rt.close()
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report) -> None:  # noqa: ANN001
    table = Table(title=f"ingest run {report.run_id}", show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in [
        ("files seen", report.files_seen),
        ("new", report.new),
        ("changed", report.changed),
        ("unchanged", report.unchanged),
        ("failed", report.failed),
        ("pruned", report.pruned),
        ("chunks written", report.chunks_written),
    ]:
        table.add_row(label, str(value))
    if report.repaired_orphans or report.repaired_missing:
        table.add_row(
            "repaired", f"{report.repaired_orphans} orphan, {report.repaired_missing} missing"
        )
    for stage, seconds in report.stage_seconds.items():
        table.add_row(f"{stage} s", f"{seconds:.2f}")
    table.add_row("total s", f"{report.elapsed:.2f}")
    if report.chunks_written and report.elapsed > 0:
        table.add_row("chunks/s", f"{report.chunks_written / report.elapsed:.1f}")
    out.print(table)
    for source, reason in report.errors:
        err.print(f"[red]failed:[/red] {source}: {reason}", highlight=False)
    if report.errors:
        err.print(f"{len(report.errors)} file(s) failed; the others were ingested.")


@docs_app.command("list")
def docs_list() -> None:
    """List ingested documents."""
    from sqlalchemy import select

    from app.core.db import Document

    rt = _runtime()
    try:
        with rt.db.session() as s:
            docs = s.scalars(select(Document).order_by(Document.id)).all()
    finally:
        rt.close()
    table = Table(show_header=True)
    for col in ("id", "source", "title", "type", "chunks", "status", "updated"):
        table.add_column(col)
    for d in docs:
        table.add_row(
            str(d.id),
            d.source,
            d.title or "",
            d.media_type,
            str(d.chunk_count),
            d.status.value,
            d.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    out.print(table)
    out.print(f"{len(docs)} document(s)")


@docs_app.command("rm")
def docs_rm(doc_ids: Annotated[list[int], typer.Argument(help="Document ids.")]) -> None:
    """Remove documents and their chunks from SQL and the vector store."""
    from app.core.index_versions import active_index
    from ingest.pipeline import remove_documents

    rt = _runtime()
    try:
        with rt.db.session() as s:
            index = active_index(s)
            if index is None:
                raise _fail("nothing ingested yet")
            s.expunge(index)
        removed = remove_documents(rt, doc_ids, index)
    finally:
        rt.close()
    out.print(f"removed {removed} document(s)")
    if removed < len(doc_ids):
        raise _fail(f"{len(doc_ids) - removed} id(s) not found", code=1)


@app.command()
def retrieve(
    question: str,
    top_k: Annotated[int, typer.Option("--top-k", "-k")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or sparse")] = "hybrid",
    source_prefix: Annotated[str | None, typer.Option(help="Only sources under this path.")] = None,
) -> None:
    """Print the chunks hybrid search ranks highest for a question."""
    from app.core.vectorstore import SearchFilter
    from app.retrieval import Retriever
    from app.retrieval.search import NoIndex

    if mode not in ("hybrid", "dense", "sparse"):
        raise _fail("--mode must be hybrid, dense or sparse")
    rt = _runtime()
    try:
        hits = Retriever(rt).retrieve(
            question,
            top_k,
            mode,
            SearchFilter(source_prefix=source_prefix),  # type: ignore[arg-type]
        )
    except NoIndex as exc:
        raise _fail(str(exc)) from exc
    finally:
        rt.close()
    out.print(f"[bold]{question}[/bold]")
    for n, h in enumerate(hits, start=1):
        where = f"{h.source}  chars {h.char_start}-{h.char_end}"
        if h.page is not None:
            where += f"  page {h.page}"
        out.rule(f"[{n}] score {h.score:.3f}  {where}", align="left")
        if h.context:
            out.print(f"[dim]{h.context}[/dim]", highlight=False)
        text = h.text if len(h.text) <= 600 else h.text[:600] + " …"
        out.print(text, highlight=False, markup=False)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "alembic", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
