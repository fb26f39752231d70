"""`factvault ingest`, `docs list`, `docs rm`: what is stored, and putting files in.

Each goes through the running service when one owns the data dir (files are sent to it
under their absolute paths), else through a service in this process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.connect import open_vault
from app.cli.output import fail, plain_errors, progress_bar, say, table, warn
from app.errors import ServiceError

if TYPE_CHECKING:
    from app.service.interface import IngestReport

docs_app = typer.Typer(no_args_is_help=True, help="Ingested documents.")


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    prune: Annotated[
        bool, typer.Option(help="Remove documents whose files are gone from these folders.")
    ] = False,
    collection: Annotated[
        str, typer.Option(help="The collection the files go into (API keys name theirs).")
    ] = "default",
) -> None:
    """Ingest files and folders; unchanged files are skipped, changed ones replaced.

    When the service is running it owns the embedded stores, so the files are sent to it.
    """
    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if missing:
        raise fail(f"no such file or directory: {', '.join(missing)}")
    with plain_errors(), open_vault() as vault, progress_bar("upload") as advance:
        report = vault.ingest(paths, collection, prune, advance)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: IngestReport) -> None:
    rows: list[tuple[str, object]] = [
        ("files seen", report.files_seen),
        ("new", report.new),
        ("changed", report.changed),
        ("unchanged", report.unchanged),
        ("failed", report.failed),
        ("pruned", report.pruned),
        ("chunks written", report.chunks_written),
    ]
    if report.repaired_orphans or report.repaired_missing:
        rows.append(
            ("repaired", f"{report.repaired_orphans} orphan, {report.repaired_missing} missing")
        )
    rows += [(f"{stage} s", f"{seconds:.2f}") for stage, seconds in report.stage_seconds.items()]
    rows.append(("total s", f"{report.elapsed:.2f}"))
    if report.chunks_written and report.elapsed > 0:
        rows.append(("chunks/s", f"{report.chunks_written / report.elapsed:.1f}"))
    table(("what", "value"), rows, title=f"ingest run {report.run_id}" if report.run_id else "")
    for source, reason in report.errors:
        warn(f"failed: {source}: {reason}")
    if report.errors:
        warn(f"{len(report.errors)} file(s) failed; the others were ingested.")


@docs_app.command("list")
def docs_list() -> None:
    """List ingested documents."""
    with plain_errors(), open_vault() as vault:
        docs = vault.documents()
    table(
        ("id", "source", "collection", "title", "type", "chunks", "status", "updated"),
        [
            (d.id, d.source, d.collection, d.title, d.media_type, d.chunk_count, d.status,
             d.updated_at[:19].replace("T", " "))
            for d in docs
        ],
    )  # fmt: skip
    say(f"{len(docs)} document(s)")


@docs_app.command("rm")
def docs_rm(doc_ids: Annotated[list[int], typer.Argument(help="Document ids.")]) -> None:
    """Remove documents and their chunks from SQL and the vector store."""
    missing = []
    with open_vault() as vault:
        for doc_id in doc_ids:
            try:
                r = vault.remove_document(doc_id)
            except ServiceError as exc:
                if exc.status != 404:
                    raise fail(exc.detail) from exc
                missing.append(doc_id)
            else:  # the receipt: what went from each store
                vectors = sum((r.vectors or {}).values())
                say(
                    f"{r.document_id}\t{r.source}\tsha256 {r.sha256}\tchunks {r.chunks}\t"
                    f"vectors {vectors}\tcontext cache {r.context_cache}\t"
                    f"synthetic questions {r.synthetic_questions}\t"
                    f"answer cache {r.answer_cache}\t"
                    f"conversation turns redacted {r.conversation_turns_redacted}\t"
                    f"attachments {r.attachments}"
                )
                for path in r.backups:  # a backup is a copy the owner keeps: not changed
                    warn(f"{r.source}: still held by the backup {path}")
    say(f"removed {len(doc_ids) - len(missing)} document(s)")
    if missing:
        raise fail(f"{len(missing)} id(s) not found: {', '.join(map(str, missing))}", code=1)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.add_typer(docs_app, name="docs")
