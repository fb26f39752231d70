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
    """Ingest files and folders; unchanged files are skipped, changed ones replaced.

    When the service is running it owns the embedded stores, so the files are sent to it.
    """
    from app.core.index_versions import IndexMismatch
    from ingest.pipeline import IngestPipeline
    from ingest.progress import terminal_progress

    settings = get_settings()
    if _server_answers(settings):
        if prune:
            raise _fail("--prune is not available through the running service; stop it first")
        raise typer.Exit(_ingest_via_server(settings, paths))
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


def _server_answers(settings) -> bool:  # noqa: ANN001
    import httpx

    try:
        return httpx.get(f"{settings.server_url}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _api_headers() -> dict[str, str]:
    import os

    key = os.environ.get("FACTVAULT_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def _ingest_via_server(settings, paths: list[Path]) -> int:  # noqa: ANN001
    """Upload each file to the running service, one at a time, showing progress."""
    import httpx
    from rich.progress import Progress

    from ingest.pipeline import discover

    files, bad = discover(paths)
    failed = list(bad)
    counts = {"new": 0, "changed": 0, "unchanged": 0, "chunks_written": 0}
    out.print(f"service at {settings.server_url} is running: sending {len(files)} file(s) to it")
    with Progress(console=err, transient=True) as progress, httpx.Client(timeout=600) as client:
        task = progress.add_task("upload", total=len(files))
        for f in files:
            with f.path.open("rb") as fh:
                resp = client.post(
                    f"{settings.server_url}/v1/documents",
                    files={"files": (f.path.name, fh)},
                    headers=_api_headers(),
                )
            if resp.status_code >= 400:
                failed.append((f.source, resp.json().get("detail", resp.text)))
            else:
                body = resp.json()
                for k in counts:
                    counts[k] += body[k]
                failed += [(f.source, e["reason"]) for e in body["failed"]]
            progress.advance(task)
    out.print(", ".join(f"{k} {v}" for k, v in counts.items()) + f", failed {len(failed)}")
    for source, reason in failed:
        err.print(f"[red]failed:[/red] {source}: {reason}", highlight=False)
    return 1 if failed else 0


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


models_app = typer.Typer(no_args_is_help=True, help="Answering models (GGUF).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(models_app, name="models")
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the query service (FastAPI + the active model)."""
    import uvicorn

    from app.core.runtime import SchemaOutOfDate
    from app.main import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings(**overrides)
    try:
        application = create_app(settings)
        uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")
    except SchemaOutOfDate as exc:
        raise _fail(str(exc)) from exc


@app.command()
def query(
    question: str,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k")] = None,
    max_tokens: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Answer a question from the knowledge base, with citations."""
    import httpx

    settings = get_settings()
    if _server_answers(settings):
        resp = httpx.post(
            f"{settings.server_url}/v1/query",
            json={"question": question, "top_k": top_k, "max_tokens": max_tokens},
            headers=_api_headers(),
            timeout=600,
        )
        if resp.status_code >= 400:
            raise _fail(resp.json().get("detail", resp.text))
        body = resp.json()
        answer, cites, model = body["answer"], body["citations"], body["model"]["name"]
    else:
        from app.service import FactVault

        service = FactVault(settings, runtime=_runtime())
        try:
            result = service.start().ask(None, question, top_k, None, max_tokens)
        finally:
            service.close()
        answer, model = result.answer, result.model_name
        cites = [
            {"n": c.n, "source": c.source, "span": c.span, "text": c.text} for c in result.citations
        ]
    out.print(f"[bold]{question}[/bold]\n")
    out.print(answer, markup=False, highlight=False)
    out.print(f"\n[dim]model: {model}[/dim]")
    for c in cites:
        out.print(f"[{c['n']}] {c['source']} chars {c['span'][0]}-{c['span'][1]}", markup=False)


@models_app.command("list")
def models_list() -> None:
    """Registered models (bundled ones are registered on first use)."""
    from app.core.db import Database
    from app.generation.registry import list_models, register_bundled

    settings = get_settings()
    db = Database(settings.sql_url)
    try:
        with db.session() as s:
            register_bundled(s, settings.models_dir)
            rows = list_models(s)
            table = Table(show_header=True)
            for col in ("name", "active", "size MB", "ctx", "sha256", "path"):
                table.add_column(col)
            for m in rows:
                table.add_row(
                    m.name, "yes" if m.is_active else "", f"{m.size_bytes / 2**20:.0f}",
                    str(m.context_length or ""), m.sha256[:12], m.path,
                )  # fmt: skip
    finally:
        db.dispose()
    out.print(table)


@models_app.command("add")
def models_add(path: Path, name: Annotated[str, typer.Option("--name")]) -> None:
    """Register any GGUF file under a name."""
    from app.core.db import Database
    from app.generation.registry import RegistryError, register_model

    db = Database(get_settings().sql_url)
    try:
        with db.session() as s:
            record = register_model(s, path, name, provenance="added with `factvault models add`")
            out.print(f"registered {record.name} ({record.sha256[:12]}, {record.architecture})")
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    finally:
        db.dispose()


@models_app.command("activate")
def models_activate(name: str) -> None:
    """Make a model the active one (hot-swapped in the running service, if any)."""
    import httpx

    from app.generation.registry import RegistryError
    from app.service import FactVault

    settings = get_settings()
    if _server_answers(settings):
        resp = httpx.put(
            f"{settings.server_url}/v1/models/active",
            json={"name": name},
            headers=_api_headers(),
            timeout=600,
        )
        if resp.status_code >= 400:
            raise _fail(resp.json().get("detail", resp.text))
        out.print(f"the running service now answers with {name}")
        return
    service = FactVault(settings, runtime=_runtime())
    try:
        service.activate_model(name)  # verified and marked active; the next start loads it
    except RegistryError as exc:
        raise _fail(str(exc)) from exc
    finally:
        service.close()
    out.print(f"{name} is the active model")


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option(help="read or admin")] = "read",
    name: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from app.core.auth import SCOPES, create_key
    from app.core.db import Database

    if scope not in SCOPES:
        raise _fail(f"--scope must be one of {', '.join(SCOPES)}")
    db = Database(get_settings().sql_url)
    try:
        with db.session() as s:
            key = create_key(s, name, scope)
    finally:
        db.dispose()
    out.print(key, markup=False, highlight=False)


@keys_app.command("list")
def keys_list() -> None:
    """The API keys: id, name, prefix, scope, created, revoked (never the key itself)."""
    from app.core.auth import list_keys
    from app.core.db import Database

    db = Database(get_settings().sql_url)
    try:
        with db.session() as s:
            rows = [
                (str(k.id), k.name, k.prefix, k.scope, k.created_at.isoformat(timespec="seconds"),
                 k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")
                for k in list_keys(s)
            ]  # fmt: skip
    finally:
        db.dispose()
    table = Table(show_header=True)
    for col in ("id", "name", "prefix", "scope", "created", "revoked"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix, from `keys list`.")],
) -> None:
    """Revoke a key: every request with it gets 401 from the next one on."""
    from app.core.auth import revoke_key
    from app.core.db import Database

    db = Database(get_settings().sql_url)
    try:
        with db.session() as s:
            record = revoke_key(s, key)
            out.print(f"revoked key {record.id} ({record.name}, {record.prefix}…)", markup=False)
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    finally:
        db.dispose()


@app.command("backup")
def backup_cmd(
    directory: Annotated[Path, typer.Argument(help="A new directory to write the backup to.")],
) -> None:
    """A consistent copy of SQL and the live vector index, restorable anywhere."""
    from app.maintenance.backup import BackupError, backup

    settings = get_settings()
    if _server_answers(settings):
        raise _fail("the service is running and owns the stores: stop it first")
    rt = _runtime()
    try:
        report = backup(rt, directory)
    except BackupError as exc:
        raise _fail(str(exc)) from exc
    finally:
        rt.close()
    out.print(
        f"backup written to {report.path}: "
        + ", ".join(f"{n} {t}" for t, n in report.tables.items() if n)
        + "; "
        + ", ".join(f"{n} points of {c}" for c, n in report.points.items())
        + f" ({report.seconds:.1f} s)",
        markup=False,
        highlight=False,
    )


@app.command("restore")
def restore_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory written by `factvault backup`.")],
) -> None:
    """Restore a backup onto this (fresh) data dir and database."""
    from app.maintenance.backup import BackupError, restore

    settings = get_settings()
    if _server_answers(settings):
        raise _fail("the service is running: stop it before restoring")
    settings.ensure_dirs()
    try:
        report = restore(settings, directory)
    except BackupError as exc:
        raise _fail(str(exc)) from exc
    out.print(
        f"restored {sum(report.tables.values())} rows and "
        f"{sum(report.points.values())} points from {directory} ({report.seconds:.1f} s)",
        markup=False,
        highlight=False,
    )


@app.command("reindex")
def reindex_cmd(
    embedder: Annotated[str, typer.Option(help="Embedding model of the new index: minilm or e5.")],
) -> None:
    """Build a new index version from the chunks and contexts in SQL, then switch to it.

    The current version keeps serving meanwhile; through the running service when it answers.
    """
    settings = get_settings()
    if _server_answers(settings):
        raise typer.Exit(_reindex_via_server(settings, embedder))
    from ingest.reindex import reindex

    rt = _runtime()
    try:
        with _progress_bar("embedding chunks") as advance:
            report = reindex(rt, embedder, on_progress=advance)
    except (ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        rt.close()
    out.print(
        f"active index: {report.new_collection} ({report.embedder}), {report.chunks} chunks, "
        f"{report.seconds:.1f} s{' (resumed)' if report.resumed else ''}; "
        f"previous: {report.old_collection or 'none'}"
        + (f"; dropped {', '.join(report.dropped)}" if report.dropped else ""),
        markup=False,
        highlight=False,
    )


def _progress_bar(label: str):  # noqa: ANN202 - a context manager yielding a callback
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def bar():  # noqa: ANN202
        with Progress(transient=True) as progress:
            task = progress.add_task(label, total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            yield advance

    return bar()


def _reindex_via_server(settings, embedder: str) -> int:  # noqa: ANN001
    import time

    import httpx

    url = f"{settings.server_url}/v1/index"
    r = httpx.post(f"{url}/reindex", json={"embedder": embedder}, headers=_api_headers())
    if r.status_code != 202:
        out.print(f"reindex refused ({r.status_code}): {r.text}", markup=False)
        return 1
    while True:
        time.sleep(1.0)
        status = httpx.get(url, headers=_api_headers(), timeout=10).json()["reindex"]
        if status["state"] in ("done", "failed"):
            break
    if status["state"] == "failed":
        out.print(f"reindex failed: {status['error']}", markup=False)
        return 1
    rep = status["report"]
    out.print(
        f"active index: {rep['new_collection']} ({rep['embedder']}), {rep['chunks']} chunks, "
        f"{rep['seconds']:.1f} s (built by the running service)",
        markup=False,
        highlight=False,
    )
    return 0


contexts_app = typer.Typer(no_args_is_help=True, help="LLM context cache (SQL) to and from files.")
app.add_typer(contexts_app, name="contexts")


def _sql_database():  # noqa: ANN202
    """The SQL store alone: the context cache needs no vector store (which a server may hold)."""
    from app.core.db import Database
    from app.core.runtime import SchemaOutOfDate, require_current_schema

    settings = get_settings()
    settings.ensure_dirs()
    try:
        require_current_schema(settings.sql_url)
    except SchemaOutOfDate as exc:
        raise _fail(str(exc)) from exc
    return Database(settings.sql_url)


@contexts_app.command("export")
def contexts_export(
    file: Annotated[Path, typer.Argument(help="gzip JSONL to write (replaced).")],
    model: Annotated[str | None, typer.Option(help="Only this context model's.")] = None,
) -> None:
    """Write cached LLM contexts to a file, e.g. to carry a long context run's work to CI or
    another machine (an eval stopped by a signal it cannot catch never writes its file)."""
    from app.generation.bundled import BundledModelMissing
    from ingest.context_cache import ContextCache
    from ingest.contextualize.llm import resolve_context_model

    db = _sql_database()
    sha = None
    if model:
        try:
            sha = resolve_context_model(get_settings(), db, model).sha256
        except (ValueError, BundledModelMissing) as exc:
            raise _fail(str(exc)) from exc
    n = ContextCache(db).export(file, sha)
    out.print(f"{n} context(s) written to {file}")


@contexts_app.command("import")
def contexts_import(
    file: Annotated[Path, typer.Argument(help="A file written by `contexts export`.")],
) -> None:
    """Add a context file's entries to the SQL cache (same key: the file's text wins)."""
    from ingest.context_cache import ContextCache

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    try:
        n = ContextCache(_sql_database()).import_file(file)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(str(exc)) from exc
    out.print(f"{n} context(s) imported from {file}")


@app.command("eval")
def eval_cmd(
    corpus: Annotated[Path, typer.Option(help="Corpus JSON (documents with fixed chunks).")],
    queries: Annotated[Path, typer.Option(help="Queries JSONL with golden chunk ids.")],
    config: Annotated[
        list[str] | None,
        typer.Option(help="Preset name or key=value,... (repeatable). Default: the ablation set."),
    ] = None,
    out_file: Annotated[Path, typer.Option("--out")] = Path("bench/results/retrieval.md"),
    work_dir: Annotated[Path | None, typer.Option(help="Where eval indexes are kept.")] = None,
    contexts: Annotated[
        Path | None,
        typer.Option(
            help="LLM context cache file (gzip JSONL) read before and extended after an "
            "llm-context index is built. Default: bench/contexts/<corpus>.jsonl.gz."
        ),
    ] = None,
) -> None:
    """Evaluate retrieval configurations: Pass@5/10/20 and MRR per configuration."""
    from app.evaluation.dataset import load_corpus, load_queries
    from app.evaluation.report import context_cost_lines, markdown, previous_rows, write
    from app.evaluation.runner import DEFAULT_CONFIGS, Evaluator, parse_config

    try:
        configs = [parse_config(c) for c in (config or DEFAULT_CONFIGS)]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    for path in (corpus, queries):
        if not path.is_file():
            raise _fail(f"{path}: no such file")
    settings = get_settings()
    eval_corpus = load_corpus(corpus)
    evaluator = Evaluator(
        eval_corpus,
        load_queries(queries),
        work_dir or settings.data_dir / "eval",
        contexts_file=contexts or Path("bench/contexts") / f"{corpus.stem}.jsonl.gz",
    )
    results = []
    try:
        for cfg in configs:
            result = evaluator.run(cfg)
            results.append(result)
            out.print(f"== {cfg.name} ({cfg.describe()})", markup=False, highlight=False)
            for metric, value in result.metrics.items():
                out.print(f"{metric}: {value:.3f}", highlight=False)
            build = (
                "reused"
                if result.index_reused
                else ", ".join(f"{k} {v:.1f}" for k, v in result.index_seconds.items())
            )
            out.print(
                f"seconds: index ({build}), queries {result.query_seconds:.1f} "
                f"({result.ms_per_query:.0f} ms/query)",
                markup=False,
                highlight=False,
            )
            stats = evaluator.context_stats.pop(cfg.context_model, None) if cfg.uses_llm else None
            if stats is not None:
                per_1k = 1000 * stats.cpu_seconds / max(1, stats.written)
                out.print(
                    f"llm contexts ({cfg.context_model}): {stats.cached} cached, "
                    f"{stats.written} written in {stats.cpu_seconds:.0f} CPU s "
                    f"({per_1k:.0f} CPU s per 1k chunks)",
                    markup=False,
                    highlight=False,
                )
    finally:
        evaluator.close()
    from app.core.machine import describe
    from app.evaluation.plot import draw

    costs = context_cost_lines(evaluator.contexts_file, out_file.with_name("context-cost.json"))
    report = markdown(results, str(queries), describe(), previous_rows(out_file), costs)
    write(out_file, report)
    image = draw(out_file, out_file.with_suffix(".png"))
    from app.evaluation.summary import save_results

    save_results(settings.data_dir, str(queries), results)
    out.print(f"results written to {out_file} and {image}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "alembic", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from app.core.vectorstore.edge import StoreLocked

    try:
        app()
    except StoreLocked as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
