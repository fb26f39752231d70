"""Conversations: follow-up questions answered with their earlier turns, stored per caller."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from app.answering.history import Exchange
from app.answering.request import QUIET, AskRequest, Stream
from app.answering.types import Answer, Citation
from app.core.conversations import ConversationStore, Summary
from app.core.db import Conversation, ConversationTurn
from app.errors import ServiceError
from app.service.asking import Asking


@dataclass
class Reply:
    """A conversation turn: the answer, and the turn as stored."""

    conversation_id: str
    turn: ConversationTurn
    answer: Answer


class Conversations(Asking):
    """A caller's conversations: each turn answered with the earlier ones, then stored."""

    @property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.runtime.db)

    def new_conversation(self, caller_key: int | str | None) -> Conversation:
        return self.conversations.create(caller_key)

    def list_conversations(self, caller_key: int | str | None) -> list[Summary]:
        return self.conversations.list(caller_key)

    def get_conversation(self, caller_key: int | str | None, conversation_id: str) -> Conversation:
        conv = self.conversations.get(caller_key, conversation_id)
        if conv is None:  # unknown and someone else's look the same
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")
        return conv

    def delete_conversation(self, caller_key: int | str | None, conversation_id: str) -> None:
        if not self.conversations.delete(caller_key, conversation_id):
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")

    def say(
        self,
        caller_key: int | str | None,
        conversation_id: str,
        request: AskRequest,
        stream: Stream = QUIET,
    ) -> Reply:
        """The next turn of a caller's conversation: answered with its earlier turns (a
        follow-up rewritten to stand alone for retrieval), then stored. Whichever model is
        active answers; the history is text, so a swap between turns loses nothing. The
        request's own history is replaced by the stored one."""
        conv = self.get_conversation(caller_key, conversation_id)
        history = tuple(Exchange(t.standalone, t.prompt, t.answer) for t in conv.turns)
        turn_request = replace(request, history=history, keep_state=True)
        answer = self.ask(caller_key, turn_request, stream)
        turn = self.conversations.add_turn(
            caller_key,
            conversation_id,
            question=request.question,
            standalone=answer.standalone,
            prompt=answer.prompt_message,
            answer=answer.answer,
            citations=[_turn_citation(c) for c in answer.citations],
            grounded=answer.grounded,
            model_name=answer.model_name,
            model_sha256=answer.model_sha256,
            model_endpoint=answer.endpoint,
            index_version=answer.index_version,
            timings={k: round(v, 4) for k, v in answer.timings.items()},
            prompt_tokens=answer.prompt_tokens,
            prompt_reused=answer.prompt_reused,
            completion_tokens=answer.completion_tokens,
        )
        if turn is None:  # deleted while it was being answered
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")
        return Reply(conversation_id, turn, answer)

    def purge_conversations(self, older_than_days: float | None = None) -> int:
        """Deletes conversations untouched for longer than the given age (default: the
        retention setting); returns how many. Without either, keeps everything."""
        days = older_than_days or self.settings.conversation_retention_days
        if days is None:
            return 0
        return self.conversations.purge(timedelta(days=days))


def _turn_citation(c: Citation) -> dict:
    """What a stored turn keeps of a citation: where it points, not the text shown."""
    return {
        "n": c.n,
        "document_id": c.document_id,
        "chunk_id": c.chunk_id,
        "source": c.source,
        "title": c.title,
        "span": list(c.span),
        "page": c.page,
    }
