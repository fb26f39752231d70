"""SQL metadata: what was ingested, how it was chunked, which index holds it.

The schema changes only through Alembic revisions in ``migrations/``; these models are the
source those revisions are checked against (tests compare the migrated schema to them).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
    or_,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.sql.elements import ColumnElement

DEFAULT_COLLECTION = "default"  # where a document goes when no collection is named


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class DocumentStatus(enum.StrEnum):
    pending = "pending"  # row exists, chunks not yet committed (a crash leaves this)
    active = "active"
    failed = "failed"


class IndexStatus(enum.StrEnum):
    building = "building"
    active = "active"
    retired = "retired"


class RunStatus(enum.StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, the same on SQLite and PostgreSQL.
    return Enum(cls, name=name, native_enum=False, length=16, validate_strings=True)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1024), unique=True)
    # Who may read it: API keys name the collections they may see (app/core/auth.py).
    collection: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_COLLECTION, server_default=DEFAULT_COLLECTION, index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The loader version that read it (ingest/loaders): a newer one reads the file again.
    loader_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The document it came out of (an e-mail's attachment: its mail), forgotten with it.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE", name="fk_documents_parent_id"),
        index=True,
    )
    title: Mapped[str | None] = mapped_column(String(512))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, "document_status"))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


def source_under(path: str) -> ColumnElement[bool]:
    """Documents whose source is ``path`` or lies under it (a folder a sync follows)."""
    return or_(
        Document.source == path,
        Document.source.startswith(path.rstrip("/") + "/", autoescape=True),
    )


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    # A UUID derived from (document, content sha, ordinal): it is also the point id in Qdrant.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text, default="")
    token_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="chunks")


class IndexVersion(Base):
    __tablename__ = "index_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedding_model: Mapped[str] = mapped_column(String(256))
    embedding_sha256: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int] = mapped_column(Integer)
    bm25_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    collection: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[IndexStatus] = mapped_column(_enum(IndexStatus, "index_status"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When it stopped serving; its collection is dropped once the grace period has passed.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IngestionRun(Base):
    __tablename__ = "ingestion_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    files_seen: Mapped[int] = mapped_column(Integer, default=0)
    files_new: Mapped[int] = mapped_column(Integer, default=0)
    files_changed: Mapped[int] = mapped_column(Integer, default=0)
    files_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    files_failed: Mapped[int] = mapped_column(Integer, default=0)
    documents_pruned: Mapped[int] = mapped_column(Integer, default=0)
    chunks_written: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class ModelRecord(Base):
    """A registered model. Weights are frozen: a GGUF's sha256 is checked before activation;
    an endpoint's answers are checked against the fingerprint."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    architecture: Mapped[str] = mapped_column(String(64))
    context_length: Mapped[int | None] = mapped_column(Integer)
    chat_template: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[str | None] = mapped_column(String(512))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    # Served by these OpenAI-compatible inference endpoints instead of in-process (None:
    # in-process), and what its weights answer to the probe prompts (app/models/fingerprint.py).
    endpoints: Mapped[list[str] | None] = mapped_column(JSON)
    fingerprint: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """Only a hash of the key is stored; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    # The collections this key may read (and, for admin keys, write); None: all of them.
    collections: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChunkContextCache(Base):
    """LLM-written chunk contexts, keyed by what they depend on and nothing else.

    Keyed by content hashes, not chunk ids, so re-ingesting an unchanged document, moving it,
    rebuilding an index or swapping the answering model reuses a context already paid for.
    """

    __tablename__ = "chunk_context_cache"

    document_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    chunk_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    prompt_version: Mapped[str] = mapped_column(String(32), primary_key=True)
    context: Mapped[str] = mapped_column(Text)
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyntheticQuestions(Base):
    """Questions a local model wrote for a chunk (app/tuning/questions.py): the training and
    self-evaluation queries of a retriever tuned on the corpus. Keyed by content hashes like
    the context cache, so they survive re-ingest and re-index."""

    __tablename__ = "synthetic_questions"

    document_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    chunk_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    prompt_version: Mapped[str] = mapped_column(String(32), primary_key=True)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerCacheEntry(Base):
    """A greedy answer, keyed by everything that determines it (app/answering/cache.py).

    The key hashes the question, the retrieved chunks' text, the model's sha256, the prompt
    version and the decoding settings, so a changed document, a swapped model or a new
    prompt never finds an old entry: nothing needs invalidating.
    """

    __tablename__ = "answer_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64), index=True)
    prompt_version: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(Text)  # the Answer as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Base):
    """A conversation of one caller (an API key; none with auth off) with the service.

    The id is random (not a counter) so ids say nothing about other callers' conversations;
    every read is filtered by owner anyway, and a foreign id answers 404 like an unknown one.
    """

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    # An OpenID Connect caller's "oidc:<subject>" (app/core/oidc.py); None for a key's.
    owner_subject: Mapped[str | None] = mapped_column(String(300), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    turns: Mapped[list[ConversationTurn]] = relationship(
        back_populates="conversation",
        order_by="ConversationTurn.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ConversationTurn(Base):
    """One question and its answer, with everything needed to replay or audit it: the
    standalone question retrieval ran on, the user message the model was sent (the next
    turn's prompt repeats it, see app/answering/history.py), the citations' chunk ids, the
    model and index that answered, and what the prompt cost."""

    __tablename__ = "conversation_turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the conversation
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    grounded: Mapped[bool] = mapped_column(Boolean, default=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_sha256: Mapped[str] = mapped_column(String(64))
    # The inference endpoint that wrote the answer when a pool served it (remote.py).
    model_endpoint: Mapped[str | None] = mapped_column(String(500))
    index_version: Mapped[str | None] = mapped_column(String(128))
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    prompt_reused: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="turns")


class BackupRecord(Base):
    """A backup this installation wrote (or was restored from): where, and when. A deletion
    receipt names the ones still on disk that hold the deleted document (core/backup_log.py).
    """

    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    documents: Mapped[int] = mapped_column(Integer, default=0)


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does, whatever the umask: it
    holds document text and key hashes. SQLite gives its -wal/-shm files the same mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


def make_engine(url: str) -> Engine:
    """An engine with the pragmas factvault relies on (WAL + foreign keys on SQLite)."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten, not left in free pages: a deleted document is
            # gone from the file (ingest/forget.py), not only from the tables.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Owns the engine and hands out sessions; one per process and data dir."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
