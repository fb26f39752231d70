"""`factvault tune`: synthetic questions for a retriever tuned on the corpus.

SQL alone: works beside a running service (the questions are written from the chunks in
SQL; the vector store is not opened).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.connect import open_installation, require_own_stores, settings
from app.cli.output import plain_errors, say, warn

if TYPE_CHECKING:
    from app.service.lab import Trained

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

    def line(r) -> str:
        rate = r.seconds / max(r.written, 1)
        return (
            f"questions: {r.written} chunk(s) written ({rate:.1f} s each), "
            f"{r.cached} cached, so far {r.questions} question(s)"
        )

    with plain_errors(), open_installation() as installation:
        name, report = installation.write_questions(model, sample, collection, every(30, line))
        for source, questions in report.samples[:3]:
            say(f"e.g. {source}: {' | '.join(questions)}")
        say(
            f"{report.chunks} chunk(s) sampled: {report.written} written in "
            f"{report.seconds:.0f} s ({report.cpu_seconds:.0f} CPU s), {report.cached} "
            f"cached; {report.questions} question(s) by {name}"
        )
        if export is not None:
            n = installation.export_questions(export, name)
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
    report = _train(
        "embedder", {"epochs": epochs, "batch_size": batch_size, "mini_batch_size": mini_batch}
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
    report = _train("reranker", {"epochs": epochs, "batch_size": batch_size})
    say(f"in {report.path}\nnext: FACTVAULT_RERANKER=tuned factvault eval --self")


def _step_line(step: int, total: int, loss: float | None) -> str:
    return f"training: step {step}/{total}" + (f", loss {loss:.3f}" if loss else "")


def _train(kind: str, options: dict) -> Trained:
    """Train with progress on stderr, on the installation's synthetic questions."""
    from app.service.lab import Lab

    require_own_stores()
    step_line = every(15, _step_line)

    def on_step(step: int, total: int, loss: float | None) -> None:
        step_line(step, total, loss, final=step == total)

    with plain_errors():
        report = Lab(settings(), say=say, warn=warn).train(kind, options, on_step)
    say(f"{report.name}: {report.steps} steps, {report.seconds:.0f} s")
    return report


@tune_app.command("export")
def tune_export(
    file: Annotated[Path, typer.Argument(help="gzip JSONL to write (replaced).")],
) -> None:
    """Write every cached synthetic question to a file (to carry a long run elsewhere)."""
    with plain_errors(), open_installation() as installation:
        n = installation.export_questions(file)
    say(f"{n} chunk(s) of questions written to {file}")


@tune_app.command("import")
def tune_import(
    file: Annotated[Path, typer.Argument(help="A file written by `tune export`.")],
) -> None:
    """Add a question file's entries to the SQL cache (same key: the file's questions win)."""
    with plain_errors(), open_installation() as installation:
        n = installation.import_questions(file)
    say(f"{n} chunk(s) of questions imported from {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(tune_app, name="tune")
