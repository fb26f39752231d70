"""The use cases a command drives, whichever way the service is reached.

A command calls a :class:`Vault`. Two implement it: :class:`LocalVault`, when this process
opens the stores itself (no server owns the data dir), and ``app.client.ServiceClient``,
when a running server owns them (the embedded vector store belongs to one process). Both
return the plain dataclasses below, so a command parses its arguments, makes one call and
prints one shape of result, and the same CLI test runs against either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from app.answering.request import AskRequest
from app.maintenance.background_reindex import ReindexStatus
from app.service.index import Rollback
from ingest.forget import Receipt

if TYPE_CHECKING:
    from app.answering.types import Answer
    from app.service.vault import FactVault


@dataclass(frozen=True)
class Cited:
    """A citation as a command shows it: its number, the source and the characters."""

    n: int
    source: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Said:
    """An answer (to a question, or a conversation's turn) as a command shows it."""

    answer: str
    model: str
    citations: list[Cited] = field(default_factory=list)
    standalone: str = ""  # the question retrieval ran on (a follow-up rewritten)
    rewritten: bool = False
    prompt_tokens: int = 0
    prompt_reused: int = 0

    @classmethod
    def of(cls, a: Answer) -> Said:
        cites = [Cited(c.n, c.source, (c.span[0], c.span[1])) for c in a.citations]
        return cls(a.answer, a.model_name, cites, a.standalone, a.rewritten,
                   a.prompt_tokens, a.prompt_reused)  # fmt: skip

    @classmethod
    def from_json(cls, body: dict) -> Said:
        """From /v1/query's or a conversation message's response body."""
        cites = [
            Cited(c["n"], c["source"], (c["span"][0], c["span"][1])) for c in body["citations"]
        ]
        return cls(
            body["answer"], body["model"]["name"], cites,
            body.get("standalone_question", ""), body.get("rewritten", False),
            body.get("prompt_tokens", 0), body.get("prompt_tokens_reused", 0),
        )  # fmt: skip


@dataclass(frozen=True)
class StoredDocument:
    """A stored document: a row of ``docs list``, and what a folder sync compares."""

    id: int
    source: str
    collection: str
    title: str
    media_type: str
    chunk_count: int
    status: str
    updated_at: str  # ISO 8601, UTC
    sha256: str
    loader_version: str
    parent_id: int | None = None  # the mail an attachment came out of

    @classmethod
    def from_json(cls, d: dict) -> StoredDocument:
        """From /v1/documents' body (the same fields the service's rows have)."""
        return cls(
            d["id"], d["source"], d["collection"], d["title"] or "", d["media_type"],
            d["chunk_count"], d["status"], d["updated_at"], d["sha256"], d["loader_version"],
            d["parent_id"],
        )  # fmt: skip


@dataclass(frozen=True)
class RegisteredModel:
    """A row of ``models list``. ``path``: None when the caller may not see it."""

    name: str
    active: bool
    size_bytes: int
    context_length: int | None
    sha256: str
    path: str | None

    @classmethod
    def from_json(cls, m: dict) -> RegisteredModel:
        """From /v1/models' ``data`` items."""
        return cls(m["name"], m["active"], m["size_bytes"], m["context_length"], m["sha256"],
                   m["path"])  # fmt: skip


Progress = Callable[[int, int], None]  # (done, total)
POLL_SECONDS = 0.5  # how often a running reindex is looked at


def follow_reindex(
    status: Callable[[], ReindexStatus], on_progress: Progress | None
) -> ReindexStatus:
    """Waits for a started reindex to finish, reporting its progress."""
    while True:
        now = status()
        if on_progress is not None and now.total:
            on_progress(now.done, now.total)
        if now.state in ("done", "failed"):
            return now
        time.sleep(POLL_SECONDS)


class Vault(Protocol):
    """What the CLI asks of factvault (a slice so far: asking, conversations, documents,
    models)."""

    def ask(self, request: AskRequest) -> Said: ...

    def new_conversation(self) -> str: ...

    def say(self, conversation_id: str, question: str) -> Said: ...

    def documents(self, under: str | None = None) -> list[StoredDocument]: ...

    def remove_document(self, doc_id: int) -> Receipt: ...

    def models(self) -> list[RegisteredModel]: ...

    def activate_model(self, name: str) -> bool:
        """True: a running service switched to it (a hot swap). False: its weights were
        verified and it is marked for the next start."""

    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        """A new index version built and switched to (unless the gate keeps the active
        one); the current version serves meanwhile. Returns the finished job's status."""

    def rollback_index(self, on_progress: Progress | None) -> Rollback: ...

    def close(self) -> None: ...


class LocalVault:
    """The service in this process, for a caller with every right (the owner of the data
    dir at a terminal). It starts the model only when a question needs one."""

    def __init__(self, service: FactVault) -> None:
        self.service = service

    def _answering(self) -> FactVault:
        if self.service.models.current is None:  # not started: no model loaded yet
            self.service.start(background=False)
        return self.service

    def ask(self, request: AskRequest) -> Said:
        return Said.of(self._answering().ask(None, request))

    def new_conversation(self) -> str:
        return self.service.new_conversation(None).id

    def say(self, conversation_id: str, question: str) -> Said:
        reply = self._answering().say(None, conversation_id, AskRequest(question))
        return Said.of(reply.answer)

    def documents(self, under: str | None = None) -> list[StoredDocument]:
        return [
            StoredDocument(
                d.id,
                d.source,
                d.collection,
                d.title or "",
                d.media_type,
                d.chunk_count,
                d.status.value,
                d.updated_at.isoformat(),
                d.sha256,
                d.loader_version,
                d.parent_id,
            )  # fmt: skip
            for d in self.service.list_documents(under=under)
        ]

    def remove_document(self, doc_id: int) -> Receipt:
        return self.service.remove_document(doc_id)

    def models(self) -> list[RegisteredModel]:
        return [
            RegisteredModel(m.name, m.is_active, m.size_bytes, m.context_length, m.sha256, m.path)
            for m in self.service.list_models()
        ]

    def activate_model(self, name: str) -> bool:
        self.service.activate_model(name)
        return self.service.models.current is not None

    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        self.service.start_reindex(embedder, gate)  # the same background job a server runs
        return follow_reindex(lambda: self.service.reindex.status, on_progress)

    def rollback_index(self, on_progress: Progress | None) -> Rollback:
        return self.service.rollback_index(on_progress)

    def close(self) -> None:
        self.service.close()
