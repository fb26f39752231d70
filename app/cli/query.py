"""`factvault retrieve` (ranked chunks, no model) and `factvault query` (a cited answer)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.connect import open_vault
from app.cli.output import fail, out, plain_errors, say


def retrieve(
    question: str,
    top_k: Annotated[
        int | None, typer.Option("--top-k", "-k", help="Default: FACTVAULT_SEARCH_TOP_K (5).")
    ] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or sparse")] = "hybrid",
    source_prefix: Annotated[str | None, typer.Option(help="Only sources under this path.")] = None,
) -> None:
    """Print the chunks hybrid search ranks highest for a question.

    Loads no model and starts nothing in the background: only the stores and the embedder
    are opened."""
    from app.service.interface import SEARCH_MODES

    if mode not in SEARCH_MODES:
        raise fail("--mode must be hybrid, dense or sparse")
    with plain_errors(), open_vault() as vault:
        hits = vault.retrieve(question, top_k, mode, source_prefix)
    say(question)
    for n, h in enumerate(hits, start=1):
        where = f"{h.source}  chars {h.span[0]}-{h.span[1]}"
        if h.page is not None:
            where += f"  page {h.page}"
        heading = f"[{n}] score {h.score:.3f}  {where}"
        if out.is_terminal:
            out.rule(heading, align="left", style="dim")
        else:
            say(f"\n{heading}")
        if h.context:
            out.print(h.context, markup=False, style="dim")
        say(h.text if len(h.text) <= 600 else h.text[:600] + " …")


def query(
    question: str,
    top_k: Annotated[
        int | None, typer.Option("--top-k", "-k", help="Default: FACTVAULT_ANSWER_TOP_K (4).")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Answer a question from the knowledge base, with citations."""
    from app.service.interface import AskRequest

    with plain_errors(), open_vault() as vault:
        said = vault.ask(AskRequest(question, top_k, max_tokens=max_tokens))
    say(f"{question}\n")
    say(said.answer)
    if said.cut_note:
        say(said.cut_note)
    say(f"\nmodel: {said.model}")
    for c in said.citations:
        say(f"[{c.n}] {c.source} chars {c.span[0]}-{c.span[1]}")


def register(app: typer.Typer) -> None:
    app.command()(retrieve)
    app.command()(query)
