"""`factvault chat` (a conversation in the terminal) and `factvault conversations purge`.

``chat`` goes through the running service when there is one (its conversations are then
the API key's, visible in the console), else answers in this process. Each answer shows its
citations and the model that wrote it; a rewritten follow-up shows what was searched for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.connect import open_installation, open_vault, settings
from app.cli.output import fail, out, plain_errors, say
from app.errors import ServiceError

if TYPE_CHECKING:
    from app.service.interface import Said, Vault

HELP = "Ask a question; /new starts a new conversation, /quit (or Ctrl-D) leaves."


def _show(said: Said) -> None:
    out.print(said.answer, markup=False)
    if said.cut_note:
        out.print(said.cut_note, markup=False, style="dim")
    if said.rewritten:
        out.print(f"(searched for: {said.standalone})", markup=False, style="dim")
    for c in said.citations:
        out.print(f"[{c.n}] {c.source} chars {c.span[0]}-{c.span[1]}", markup=False, style="dim")
    out.print(
        f"model: {said.model} · prompt tokens {said.prompt_tokens}, {said.prompt_reused} reused",
        markup=False,
        style="dim",
    )


def chat() -> None:
    """Talk with the knowledge base: follow-up questions use the conversation so far."""
    with plain_errors(), open_vault() as vault:
        _converse(vault)


def _converse(vault: Vault) -> None:
    conversation = vault.new_conversation()
    say(HELP)
    while True:
        try:
            question = out.input("[bold]you>[/bold] ").strip()
        except (EOFError, KeyboardInterrupt):
            say("")
            return
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return
        if question == "/new":
            conversation = vault.new_conversation()
            say("(new conversation)")
            continue
        try:
            _show(vault.say(conversation, question))
        except ServiceError as exc:
            out.print(f"error: {exc.detail}", markup=False, style="red")


conversations = typer.Typer(no_args_is_help=True, help="Stored conversations.")


@conversations.command()
def purge(
    older_than_days: Annotated[
        float | None,
        typer.Option(help="Default: FACTVAULT_CONVERSATION_RETENTION_DAYS.", min=0.0),
    ] = None,
) -> None:
    """Delete conversations (every key's) untouched for longer than the given age."""
    if older_than_days is None and settings().conversation_retention_days is None:
        raise fail("give --older-than-days, or set FACTVAULT_CONVERSATION_RETENTION_DAYS")
    with plain_errors(), open_installation() as installation:
        deleted = installation.purge_conversations(older_than_days)
    say(f"deleted {deleted} conversations")


def register(app: typer.Typer) -> None:
    app.command()(chat)
    app.add_typer(conversations, name="conversations")
