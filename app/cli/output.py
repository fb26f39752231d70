"""What a command shows: the two output streams, tables, progress, and failing plainly.

On a terminal the commands print rich tables and progress bars; on a pipe or in a log they
print plain lines: no markup, no colour, no wrapping at 80 columns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from app.errors import ServiceError

out = Console(soft_wrap=not sys.stdout.isatty(), highlight=False)
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    warn(f"error: {message}")
    return typer.Exit(code)


# The option a service error is about, by its code.
OPTIONS = {
    "invalid_collection": "--collection",
    "invalid_collections": "--collections",
    "invalid_scope": "--scope",
    "invalid_mode": "--mode",
}


def option_error(exc: ServiceError) -> str:
    """A service error's detail, naming the command's option it is about, if any."""
    option = OPTIONS.get(exc.code)
    return f"{option}: {exc.detail}" if option else exc.detail


@contextmanager
def plain_errors(code: int = 2) -> Iterator[None]:
    """A ServiceError from inside (either way the service was reached) ends the command
    with its detail on one line, naming the option it is about, and exit ``code``."""
    try:
        yield
    except ServiceError as exc:
        raise fail(option_error(exc), code) from exc


def say(message: str) -> None:
    """A line of output, exactly as given (rich only on a terminal: no markup either way)."""
    if out.is_terminal:
        out.print(message, markup=False)
    else:
        print(message, flush=True)


def warn(message: str) -> None:
    """A line on stderr: failures, progress in a log."""
    if err.is_terminal:
        err.print(message, markup=False)
    else:
        print(message, file=sys.stderr, flush=True)


def table(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> None:
    """A table on a terminal; tab-separated lines, a header line first, anywhere else."""
    if out.is_terminal:
        shown = Table(title=title or None, show_header=True)
        for column in columns:
            shown.add_column(column)
        for row in rows:
            shown.add_row(*(str(v) for v in row))
        out.print(shown)
        return
    if title:
        say(title)
    say("\t".join(columns))
    for row in rows:
        say("\t".join(str(v) for v in row))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A callback (done, total) drawn as a bar on a terminal, logged every 10 % elsewhere."""
    if not err.is_terminal:
        last = {"tenth": -1}

        def log_line(done: int, total: int) -> None:
            tenth = 10 * done // max(total, 1)
            if tenth != last["tenth"]:
                last["tenth"] = tenth
                warn(f"{label}: {done}/{total}")

        yield log_line
        return
    from rich.progress import Progress

    progress = Progress(console=err, transient=True)
    task: list = []  # started at the first report: a caller that reports nothing shows nothing

    def advance(done: int, total: int) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task(label, total=None))
        progress.update(task[0], completed=done, total=total)

    try:
        yield advance
    finally:
        if task:
            progress.stop()
