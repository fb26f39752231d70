"""`factvault chat` (a conversation in the terminal) and `factvault conversations purge`.

``chat`` goes through the running service when there is one (its conversations are then
the API key's, visible in the console), else answers in this process. Each answer shows its
citations and the model that wrote it; a rewritten follow-up shows what was searched for.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from app.cli.common import fail, open_runtime, out, running_service, say, settings
from app.errors import ServiceError

HELP = "Ask a question; /new starts a new conversation, /quit (or Ctrl-D) leaves."


class _Local:
    """The service in this process, shaped like the HTTP client's two calls."""

    def __init__(self) -> None:
        from app.service import FactVault

        self.service = FactVault(settings(), runtime=open_runtime()).start(background=False)

    def new_conversation(self) -> dict:
        return {"id": self.service.new_conversation(None).id}

    def say(self, conversation_id: str, question: str) -> dict:
        from app.service import AskRequest

        reply = self.service.say(None, conversation_id, AskRequest(question))
        a = reply.answer
        return {
            "answer": a.answer,
            "turn": reply.turn.position,
            "rewritten": a.rewritten,
            "standalone_question": a.standalone,
            "model": {"name": a.model_name},
            "citations": [{"n": c.n, "source": c.source, "span": c.span} for c in a.citations],
            "prompt_tokens": a.prompt_tokens,
            "prompt_tokens_reused": a.prompt_reused,
        }

    def close(self) -> None:
        self.service.close()


def _show(body: dict[str, Any]) -> None:
    out.print(body["answer"], markup=False)
    if body.get("rewritten"):
        out.print(f"(searched for: {body['standalone_question']})", markup=False, style="dim")
    for c in body["citations"]:
        out.print(
            f"[{c['n']}] {c['source']} chars {c['span'][0]}-{c['span'][1]}",
            markup=False,
            style="dim",
        )
    out.print(
        f"model: {body['model']['name']} · prompt tokens {body.get('prompt_tokens', 0)}, "
        f"{body.get('prompt_tokens_reused', 0)} reused",
        markup=False,
        style="dim",
    )


def chat() -> None:
    """Talk with the knowledge base: follow-up questions use the conversation so far."""
    client = running_service()
    backend: Any = client if client is not None else _Local()
    try:
        conversation = backend.new_conversation()["id"]
        say(HELP)
        while True:
            try:
                question = out.input("[bold]you>[/bold] ").strip()
            except (EOFError, KeyboardInterrupt):
                say("")
                break
            if not question:
                continue
            if question in ("/quit", "/exit"):
                break
            if question == "/new":
                conversation = backend.new_conversation()["id"]
                say("(new conversation)")
                continue
            try:
                _show(backend.say(conversation, question))
            except ServiceError as exc:
                out.print(f"error: {exc.detail}", markup=False, style="red")
    except ServiceError as exc:
        raise fail(exc.detail) from exc
    finally:
        backend.close()


conversations = typer.Typer(no_args_is_help=True, help="Stored conversations.")


@conversations.command()
def purge(
    older_than_days: Annotated[
        float | None,
        typer.Option(help="Default: FACTVAULT_CONVERSATION_RETENTION_DAYS.", min=0.0),
    ] = None,
) -> None:
    """Delete conversations (every key's) untouched for longer than the given age."""
    from app.service import FactVault

    if older_than_days is None and settings().conversation_retention_days is None:
        raise fail("give --older-than-days, or set FACTVAULT_CONVERSATION_RETENTION_DAYS")
    service = FactVault(settings(), runtime=open_runtime())
    try:
        deleted = service.purge_conversations(older_than_days)
    finally:
        service.close()
    say(f"deleted {deleted} conversations")


def register(app: typer.Typer) -> None:
    app.command()(chat)
    app.add_typer(conversations, name="conversations")
