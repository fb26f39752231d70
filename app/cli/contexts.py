"""`factvault contexts export|import`: the LLM context cache (SQL) to and from files.

SQL alone: works while a server holds the embedded vector store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.connect import open_installation
from app.cli.output import plain_errors, say

contexts_app = typer.Typer(no_args_is_help=True, help="LLM context cache (SQL) to and from files.")


@contexts_app.command("export")
def contexts_export(
    file: Annotated[Path, typer.Argument(help="gzip JSONL to write (replaced).")],
    model: Annotated[str | None, typer.Option(help="Only this context model's.")] = None,
) -> None:
    """Write cached LLM contexts to a file, e.g. to carry a long context run's work to CI or
    another machine (an eval stopped by a signal it cannot catch never writes its file)."""
    with plain_errors(), open_installation() as installation:
        n = installation.export_contexts(file, model)
    say(f"{n} context(s) written to {file}")


@contexts_app.command("import")
def contexts_import(
    file: Annotated[Path, typer.Argument(help="A file written by `contexts export`.")],
) -> None:
    """Add a context file's entries to the SQL cache (same key: the file's text wins)."""
    with plain_errors(), open_installation() as installation:
        n = installation.import_contexts(file)
    say(f"{n} context(s) imported from {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(contexts_app, name="contexts")
