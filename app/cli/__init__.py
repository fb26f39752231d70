"""The ``factvault`` command: db, ingest, sync, docs, retrieve, query, serve, models, keys, backup,
restore, reindex, contexts, eval, chat, conversations, tune, mcp.

Each command group is a module here: it parses its options, makes one call and prints the
result. The calls go to the service's interface: a ``Vault`` (app/service/interface.py),
either the service in this process (app/service/local.py) or the running service over HTTP
(app/client.py) when a server owns the store; the ``Installation`` for what touches SQL
alone (keys, the model registry, caches, schema, backup); the ``Lab`` for benchmarks and
tuning. An import-linter contract keeps the CLI from reaching past them.
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
    mcp,
    models,
    query,
    serve,
    sync,
    tune,
)
from app.cli.connect import settings
from app.cli.output import fail

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="factvault: your documents in your store, cited answers from a frozen local model.",
)


@app.callback()
def _each_run() -> None:
    """Settings are read once per command run, from the environment of that run (a process
    that runs several commands, such as a test, gets each one's own)."""
    settings.cache_clear()


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
    mcp,
):
    group.register(app)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from app.core import tracing

    tracing.configure_from_env()  # an ingest traced like the service's, when OTEL_* says so
    for noisy in ("httpx", "alembic", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from app.core.vectorstore.edge import StoreLocked

    try:
        app()
    except StoreLocked as exc:
        fail(str(exc))
        raise SystemExit(2) from exc
