"""Deleting a document so that the service forgets it, and a receipt that says what went.

A document leaves more behind than its row: its chunks, their dense and BM25 points in
every index version still on disk (the active one, and a retired or half-built one a
reindex left), the LLM-written contexts cached for its content, answers cached from its
chunks, and conversation turns that showed or cited it. ``forget`` removes or redacts all
of them and returns a :class:`Receipt` with the document's sha256 and a count per store,
so the deletion can be checked. SQLite is opened with ``secure_delete`` (app/core/db.py),
so the freed pages are overwritten, and its write-ahead log is truncated afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, select, text

from app.core.backup_log import holding
from app.core.db import (
    AnswerCacheEntry,
    Chunk,
    ChunkContextCache,
    ConversationTurn,
    Document,
    IndexVersion,
    SyntheticQuestions,
)
from app.core.runtime import Runtime
from app.core.text import source_name

REDACTED = "[removed: the document this came from was deleted]"


@dataclass
class Receipt:
    document_id: int
    source: str
    sha256: str
    chunks: int = 0
    vectors: dict[str, int] | None = None  # per index version (vector store collection)
    context_cache: int = 0
    synthetic_questions: int = 0  # chunks whose tuning questions were deleted
    answer_cache: int = 0
    conversation_turns_redacted: int = 0
    attachments: int = 0  # documents that came out of it (an e-mail's), counted in the above
    backups: list[str] = field(default_factory=list)  # logged backups on disk holding it

    def add(self, other: Receipt) -> None:
        """Fold an attachment's receipt into its mail's."""
        self.attachments += 1 + other.attachments
        self.chunks += other.chunks
        for collection, n in (other.vectors or {}).items():
            self.vectors = self.vectors or {}
            self.vectors[collection] = self.vectors.get(collection, 0) + n
        self.context_cache += other.context_cache
        self.synthetic_questions += other.synthetic_questions
        self.answer_cache += other.answer_cache
        self.conversation_turns_redacted += other.conversation_turns_redacted

    def as_dict(self) -> dict:
        return asdict(self)


def _cites(answer_json: str, doc_id: int) -> bool:
    try:
        data = json.loads(answer_json)
    except ValueError:
        return True  # unreadable: dropping a cache entry costs one regeneration at most
    shown = data.get("sources", []) + data.get("citations", [])
    return any(c.get("document_id") == doc_id for c in shown)


def _source_blocks(source: str) -> re.Pattern[str]:
    """The deleted document's source blocks in a turn's user message (prompts.py): headed by
    its name (text.source_name), or by its whole path in turns stored before prompts named
    it so. Another document of the same name in another share's folder of that name loses
    its quote in old turns too: more is redacted, never less."""
    titles = {s.replace('"', "'") for s in (source, source_name(source))}
    title = "(?:" + "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True)) + ")"
    return re.compile(
        r'(<source n="\d+" title="' + title + r'(?: > [^"]*)?">\n)(.*?)(\n</source>)',
        re.DOTALL,
    )


def forget(runtime: Runtime, doc_id: int) -> Receipt | None:
    """Delete the document and everything derived from it; None if there is no such
    document. SQL goes first, so search stops returning it at once; then the points.
    Documents that came out of it (an e-mail's attachments) are forgotten first, with it."""
    with runtime.db.session() as s:
        children = list(s.scalars(select(Document.id).where(Document.parent_id == doc_id)))
    parts = [r for r in (forget(runtime, child) for child in children) if r is not None]
    with runtime.db.session() as s:
        doc = s.get(Document, doc_id)
        if doc is None:
            return None
        receipt = Receipt(doc.id, doc.source, doc.sha256, vectors={})
        receipt.backups = holding(s, doc.sha256)
        chunk_ids = list(s.scalars(select(Chunk.id).where(Chunk.document_id == doc_id)))
        receipt.chunks = len(chunk_ids)
        # Contexts are keyed by content: keep them if another document has the same bytes.
        twin = s.scalar(
            select(Document.id).where(Document.sha256 == doc.sha256, Document.id != doc_id)
        )
        if twin is None:
            receipt.context_cache = (
                s.execute(
                    delete(ChunkContextCache).where(ChunkContextCache.document_sha256 == doc.sha256)
                ).rowcount
                or 0
            )
            receipt.synthetic_questions = (
                s.execute(
                    delete(SyntheticQuestions).where(
                        SyntheticQuestions.document_sha256 == doc.sha256
                    )
                ).rowcount
                or 0
            )
        stale = [
            key
            for key, answer in s.execute(select(AnswerCacheEntry.key, AnswerCacheEntry.answer))
            if _cites(answer, doc_id)
        ]
        if stale:
            s.execute(delete(AnswerCacheEntry).where(AnswerCacheEntry.key.in_(stale)))
        receipt.answer_cache = len(stale)
        blocks = _source_blocks(doc.source)  # compiled once, matched against every turn
        for turn in s.scalars(select(ConversationTurn)):
            cited = any(c.get("document_id") == doc_id for c in turn.citations)
            prompt = blocks.sub(lambda m: m.group(1) + REDACTED + m.group(3), turn.prompt)
            if cited or prompt != turn.prompt:
                turn.prompt = prompt
                if cited:
                    turn.answer = REDACTED
                    turn.citations = [c for c in turn.citations if c.get("document_id") != doc_id]
                receipt.conversation_turns_redacted += 1
        s.execute(delete(Chunk).where(Chunk.document_id == doc_id))
        s.delete(doc)
        versions = [v.collection for v in s.scalars(select(IndexVersion))]
    for collection in versions:
        if runtime.store.has_collection(collection):
            before = runtime.store.count(collection)
            runtime.store.delete(collection, chunk_ids)
            receipt.vectors[collection] = before - runtime.store.count(collection)
    if runtime.db.url.startswith("sqlite"):
        with runtime.db.engine.connect() as conn:  # deleted rows out of the WAL too
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    for part in parts:
        receipt.add(part)
    return receipt


def remove_documents(runtime: Runtime, doc_ids: Sequence[int]) -> int:
    """Delete documents and everything derived from them; returns how many."""
    return sum(forget(runtime, doc_id) is not None for doc_id in doc_ids)
