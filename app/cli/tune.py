"""`factvault tune`: synthetic questions for a retriever tuned on the corpus.

SQL alone: works beside a running service (the questions are written from the chunks in
SQL; the vector store is not opened).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, say, settings, sql_database, warn

tune_app = typer.Typer(no_args_is_help=True, help="Tune retrieval on your own corpus.")


def every(seconds: float, line: Callable[..., str]) -> Callable[..., None]:
    """Progress for a long job without flooding the terminal: ``line(*args)`` is printed
    at most once per ``seconds``, the first call and any marked ``final`` always."""
    last = {"at": -float("inf")}

    def report(*args: object, final: bool = False) -> None:
        if final or time.monotonic() - last["at"] >= seconds:
            last["at"] = time.monotonic()
            warn(line(*args))

    return report


@tune_app.command("queries")
def tune_queries(
    model: Annotated[
        str | None, typer.Option(help="Model writing them (default FACTVAULT_TUNE_QUESTION_MODEL).")
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of chunks (default FACTVAULT_TUNE_SAMPLE)."),
    ] = None,
    collection: Annotated[
        list[str] | None, typer.Option(help="Only these collections (repeatable).")
    ] = None,
    export: Annotated[
        Path | None, typer.Option(help="Also write every cached question to this gzip JSONL.")
    ] = None,
) -> None:
    """Have a local model write a few questions each sampled chunk answers. Cached in SQL
    by content hash: a stopped run resumes, a second run writes nothing new."""

    from app.models.bundled import BundledModelMissing
    from app.tuning.questions import QuestionCache, synthesize
    from ingest.contextualize.llm import resolve_context_model

    s = settings()
    fraction = sample if sample is not None else s.tune_sample
    if fraction <= 0:
        raise fail("--sample must be above 0")
    db = sql_database()
    try:
        chosen = resolve_context_model(s, db, model or s.tune_question_model)
    except (ValueError, BundledModelMissing) as exc:
        raise fail(str(exc)) from exc

    def line(r) -> str:
        rate = r.seconds / max(r.written, 1)
        return (
            f"questions: {r.written} chunk(s) written ({rate:.1f} s each), "
            f"{r.cached} cached, so far {r.questions} question(s)"
        )

    progress = every(30, line)
    try:
        report = synthesize(
            db, lambda: str(chosen.path()), chosen.sha256, fraction,
            threads=s.llm_threads, collections=collection or None, progress=progress,
        )  # fmt: skip
    except BundledModelMissing as exc:
        raise fail(str(exc)) from exc
    for source, questions in report.samples[:3]:
        say(f"e.g. {source}: {' | '.join(questions)}")
    say(
        f"{report.chunks} chunk(s) sampled: {report.written} written in {report.seconds:.0f} s "
        f"({report.cpu_seconds:.0f} CPU s), {report.cached} cached; "
        f"{report.questions} question(s) by {chosen.name}"
    )
    if export is not None:
        n = QuestionCache(db).export(export, chosen.sha256)
        say(f"{n} chunk(s) of questions written to {export}")


@tune_app.command("embedder")
def tune_embedder(
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Passes over the pairs.")] = 1,
    batch_size: Annotated[int, typer.Option(min=4, max=256, help="Pairs per step.")] = 32,
    mini_batch: Annotated[
        int,
        typer.Option(
            min=0,
            max=256,
            help="Texts embedded at once (GradCache: bounds memory, same loss); "
            "0: the whole batch at once (~5% faster, ~4x the memory).",
        ),
    ] = 8,
) -> None:
    """Fine-tune a copy of MiniLM on the synthetic questions' train split (CPU). Then
    `factvault reindex --embedder tuned --gate` indexes with it if it scores no worse."""
    from app.tuning.train_embedder import TrainSettings, train_embedder

    report = _train(
        train_embedder,
        TrainSettings(epochs=epochs, batch_size=batch_size, mini_batch_size=mini_batch),
    )
    say(f"in {report.path}\nnext: factvault reindex --embedder tuned --gate")


@tune_app.command("reranker")
def tune_reranker(
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Passes over the rows.")] = 1,
    batch_size: Annotated[int, typer.Option(min=4, max=256, help="Rows per step.")] = 32,
) -> None:
    """Train a cross-encoder (from MiniLM's weights) on the synthetic questions' train split,
    against hybrid retrieval's near misses (CPU). Use it with FACTVAULT_RERANKER=tuned;
    `factvault eval --self` with it set scores the difference."""
    from app.tuning.train_reranker import RerankerSettings, train_reranker

    report = _train(train_reranker, RerankerSettings(epochs=epochs, batch_size=batch_size))
    say(f"in {report.path}\nnext: FACTVAULT_RERANKER=tuned factvault eval --self")


def _step_line(step: int, total: int, loss: float | None) -> str:
    return f"training: step {step}/{total}" + (f", loss {loss:.3f}" if loss else "")


def _train(train, settings):
    """Open the stores, build the question set, train with progress on stderr."""

    from app.cli.common import open_runtime
    from app.evaluation.selfeval import NoQuestions, questions_for
    from app.retrieval.search import NoIndex
    from app.tuning.train_embedder import TrainingFailed

    rt = open_runtime()
    try:
        questions = questions_for(rt)
        say(
            f"{len(questions.train)} training question(s), {len(questions.held_out)} held out, "
            f"{questions.dropped} dropped by the round trip"
        )
        step_line = every(15, _step_line)

        def on_step(step: int, total: int, loss: float | None) -> None:
            step_line(step, total, loss, final=step == total)

        report = train(rt, questions, settings, on_step=on_step)
    except (NoQuestions, NoIndex, TrainingFailed) as exc:
        raise fail(str(exc)) from exc
    finally:
        rt.close()
    say(f"{report.name}: {report.steps} steps, {report.seconds:.0f} s")
    return report


@tune_app.command("export")
def tune_export(
    file: Annotated[Path, typer.Argument(help="gzip JSONL to write (replaced).")],
) -> None:
    """Write every cached synthetic question to a file (to carry a long run elsewhere)."""
    from app.tuning.questions import QuestionCache

    n = QuestionCache(sql_database()).export(file)
    say(f"{n} chunk(s) of questions written to {file}")


@tune_app.command("import")
def tune_import(
    file: Annotated[Path, typer.Argument(help="A file written by `tune export`.")],
) -> None:
    """Add a question file's entries to the SQL cache (same key: the file's questions win)."""
    from app.tuning.questions import QuestionCache

    if not file.is_file():
        raise fail(f"{file}: no such file")
    try:
        n = QuestionCache(sql_database()).import_file(file)
    except (ValueError, OSError, EOFError) as exc:
        raise fail(str(exc)) from exc
    say(f"{n} chunk(s) of questions imported from {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(tune_app, name="tune")
