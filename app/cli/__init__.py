"""The ``factvault`` command: db, ingest, sync, docs, retrieve, query, serve, models, keys, backup,
restore, reindex, contexts, eval, chat, conversations, tune.

Each command group is a module here. Most drive the application (app/service/) in this
process, or the running service over HTTP (app/client.py) when a server owns the store;
keys, models, contexts and tune still open the stores themselves.
Errors are printed plainly (file and reason) and the exit code says whether anything failed.
"""

from __future__ import annotations

import logging
import sys

import typer

from app.cli import (
    chat,
    contexts,
    db,
    documents,
    evaluate,
    keys,
    maintenance,
    models,
    query,
    serve,
    sync,
    tune,
)
from app.cli.common import fail

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="factvault: your documents in your store, cited answers from a frozen local model.",
)
for group in (
    db,
    documents,
    sync,
    query,
    chat,
    serve,
    models,
    keys,
    maintenance,
    contexts,
    evaluate,
    tune,
):
    group.register(app)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "alembic", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from app.core.vectorstore.edge import StoreLocked

    try:
        app()
    except StoreLocked as exc:
        fail(str(exc))
        raise SystemExit(2) from exc
