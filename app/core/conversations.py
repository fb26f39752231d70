"""Conversations in SQL: every read and write is filtered by the owner.

An owner is the API key's id, an OpenID Connect token's "oidc:<subject>", or None (auth
off). A conversation of another owner is indistinguishable from one that does not exist:
both are None here and 404 at the edges.
Nothing here logs a question or an answer (they may hold sensitive data).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core.db import Conversation, ConversationTurn, Database, utcnow

TITLE_CHARS = 120


@dataclass(frozen=True)
class Summary:
    """A conversation in a list: no turn text beyond the title (its first question)."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    turns: int


Owner = int | str | None  # an API key's id, a token's "oidc:<subject>", or None (auth off)


def _owned(owner: Owner) -> Any:
    if isinstance(owner, str):
        return Conversation.owner_subject == owner
    if owner is None:
        return Conversation.owner_key_id.is_(None) & Conversation.owner_subject.is_(None)
    return Conversation.owner_key_id == owner


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, owner: Owner) -> Conversation:
        with self.db.session() as s:
            key_id, subject = (None, owner) if isinstance(owner, str) else (owner, None)
            conv = Conversation(
                id=secrets.token_hex(16), owner_key_id=key_id, owner_subject=subject, title=""
            )
            s.add(conv)
            s.flush()
            s.refresh(conv, ["turns"])
            s.expunge_all()
        return conv

    def list(self, owner: Owner, limit: int = 100) -> list[Summary]:
        counts = (
            select(ConversationTurn.conversation_id, func.count().label("n"))
            .group_by(ConversationTurn.conversation_id)
            .subquery()
        )
        query = (
            select(Conversation, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(_owned(owner))
            .order_by(Conversation.updated_at.desc(), Conversation.id)
            .limit(limit)
        )
        with self.db.session() as s:
            return [
                Summary(c.id, c.title, c.created_at, c.updated_at, int(n))
                for c, n in s.execute(query)
            ]

    def get(self, owner: Owner, conversation_id: str) -> Conversation | None:
        """The conversation with its turns in order, or None (unknown, or not the owner's)."""
        query = (
            select(Conversation)
            .where(Conversation.id == conversation_id, _owned(owner))
            .options(selectinload(Conversation.turns))
        )
        with self.db.session() as s:
            conv = s.scalar(query)
            if conv is not None:
                s.expunge_all()
            return conv

    def delete(self, owner: Owner, conversation_id: str) -> bool:
        """Deletes the conversation and its turns; False if there was none to delete."""
        with self.db.session() as s:
            ids = select(Conversation.id).where(Conversation.id == conversation_id, _owned(owner))
            if s.scalar(ids) is None:
                return False
            # Turns first: SQLite enforces ON DELETE CASCADE only with its pragma on, and a
            # database restored elsewhere may not have it.
            s.execute(
                delete(ConversationTurn).where(ConversationTurn.conversation_id == conversation_id)
            )
            s.execute(delete(Conversation).where(Conversation.id == conversation_id))
        return True

    def add_turn(
        self, owner: Owner, conversation_id: str, **fields: Any
    ) -> ConversationTurn | None:
        """Appends a turn (the next position); None if the conversation is gone meanwhile.
        Two turns sent at once both land, one after the other."""
        for _ in range(3):
            try:
                with self.db.session() as s:
                    conv = s.scalar(
                        select(Conversation).where(
                            Conversation.id == conversation_id, _owned(owner)
                        )
                    )
                    if conv is None:
                        return None
                    last = s.scalar(
                        select(func.max(ConversationTurn.position)).where(
                            ConversationTurn.conversation_id == conversation_id
                        )
                    )
                    turn = ConversationTurn(
                        conversation_id=conversation_id, position=(last or 0) + 1, **fields
                    )
                    s.add(turn)
                    conv.updated_at = utcnow()
                    if not conv.title:
                        conv.title = " ".join(fields.get("question", "").split())[:TITLE_CHARS]
                    s.flush()
                    s.expunge(turn)
                return turn
            except IntegrityError:  # another turn took that position: take the next one
                continue
        raise RuntimeError(f"conversation {conversation_id}: could not append a turn")

    def purge(self, older_than: timedelta) -> int:
        """Deletes every conversation (any owner) not updated for ``older_than``."""
        cutoff = utcnow() - older_than
        with self.db.session() as s:
            old = select(Conversation.id).where(Conversation.updated_at < cutoff)
            ids = list(s.scalars(old))
            if not ids:
                return 0
            s.execute(delete(ConversationTurn).where(ConversationTurn.conversation_id.in_(ids)))
            s.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        return len(ids)
