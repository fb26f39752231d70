"""The use cases a command drives, whichever way the service is reached.

A command calls a :class:`Vault`. Two implement it: ``app.service.local.LocalVault``,
when this process opens the stores itself (no server owns the data dir), and
``app.client.ServiceClient``, when a running server owns them (the embedded vector store
belongs to one process). Both return the plain dataclasses below and raise the same
``ServiceError``, so a command parses its arguments, makes one call and prints one shape of
result, and the same CLI test runs against either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.answering.request import AskRequest
from app.core.vectorstore.base import SEARCH_MODES  # noqa: F401 (for the CLI)
from app.maintenance.background_reindex import ReindexStatus
from app.service.index import Rollback
from ingest.forget import Receipt

if TYPE_CHECKING:
    from app.answering.types import Answer
    from app.core.db import ModelRecord
    from ingest.folder_sync import SyncReport
    from ingest.report import IngestReport


@dataclass(frozen=True)
class Cited:
    """A citation as a command shows it: its number, the source and the characters."""

    n: int
    source: str
    span: tuple[int, int]


# Why a reply stopped before the model ended it, in a reader's words.
CUT_REASONS = {
    "length": "the reply's token cap",
    "time_limit": "the generation time limit",
    "cancelled": "a cancel",
}


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
    finish_reason: str = "stop"  # stop | length | time_limit | cancelled

    @classmethod
    def of(cls, a: Answer) -> Said:
        cites = [Cited(c.n, c.source, (c.span[0], c.span[1])) for c in a.citations]
        return cls(a.answer, a.model_name, cites, a.standalone, a.rewritten,
                   a.prompt_tokens, a.prompt_reused, a.finish_reason)  # fmt: skip

    @property
    def cut_note(self) -> str:
        """What a reader is told when the reply was cut short ("" when it was not)."""
        why = CUT_REASONS.get(self.finish_reason)
        return (
            f"(the answer was cut short by {why}: only its finished sentences are shown)"
            if why
            else ""
        )

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
            body.get("finish_reason", "stop"),
        )  # fmt: skip


@dataclass(frozen=True)
class Passage:
    """A chunk retrieval ranked: where it is, its score, its text and contextual prefix."""

    source: str
    span: tuple[int, int]
    page: int | None
    score: float
    text: str
    context: str = ""

    @classmethod
    def from_json(cls, c: dict) -> Passage:
        """From /v1/retrieve's ``chunks`` items."""
        return cls(c["source"], (c["span"][0], c["span"][1]), c["page"], c["score"], c["text"],
                   c.get("context") or "")  # fmt: skip


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
    architecture: str = ""
    endpoints: tuple[str, ...] = ()  # the inference endpoints serving it (None seen: ())

    @classmethod
    def of(cls, m: ModelRecord) -> RegisteredModel:
        return cls(m.name, m.is_active, m.size_bytes, m.context_length, m.sha256, m.path,
                   m.architecture, tuple(m.endpoints or ()))  # fmt: skip

    @classmethod
    def from_json(cls, m: dict) -> RegisteredModel:
        """From /v1/models' ``data`` items."""
        urls = tuple(e["url"] for e in m.get("endpoints") or ())
        return cls(m["name"], m["active"], m["size_bytes"], m["context_length"], m["sha256"],
                   m["path"], m["architecture"], urls)  # fmt: skip


@dataclass(frozen=True)
class EndpointState:
    """An inference endpoint of a model's pool: joining, serving, down, draining, drained,
    registered (no pool is loaded: it joins at the next start) or removed."""

    url: str
    state: str
    reason: str = ""


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


@dataclass
class Watch:
    """How ``Vault.watch`` follows folders: until ``stop`` is set, a pass after ``debounce``
    seconds of quiet; each pass's report, and each failed pass (retried), told back."""

    stop: threading.Event
    debounce: float
    on_start: Callable[[list[Path]], None] = lambda roots: None  # the folders it follows
    on_report: Callable[[SyncReport], None] = lambda report: None
    on_error: Callable[[Exception], None] = lambda exc: None


class Vault(Protocol):
    """What the CLI asks of factvault: asking, conversations, documents and folders, models
    and endpoints, index versions. (What touches SQL alone, such as keys, is
    ``app.service.installation``'s: it works the same whether or not a server runs.)"""

    def ask(self, request: AskRequest) -> Said: ...

    def retrieve(
        self, question: str, top_k: int | None, mode: str, source_prefix: str | None
    ) -> list[Passage]:
        """The chunks ranked highest for a question (no model is loaded for this)."""

    def new_conversation(self) -> str: ...

    def say(self, conversation_id: str, question: str) -> Said: ...

    def documents(self, under: str | None = None) -> list[StoredDocument]: ...

    def ingest(
        self, paths: Sequence[Path], collection: str, prune: bool, on_progress: Progress | None
    ) -> IngestReport:
        """Files and folders stored (unchanged ones skipped, changed ones replaced); with
        ``prune``, documents whose files are gone from these folders forgotten."""

    def sync(self, paths: Sequence[Path], collection: str) -> SyncReport:
        """One pass keeping a collection in step with folders: new and changed files
        stored, documents whose files are gone forgotten."""

    def watch(self, paths: Sequence[Path], collection: str, watch: Watch) -> None:
        """A first pass, then a pass for each batch of file events, until stopped."""

    def remove_document(self, doc_id: int) -> Receipt: ...

    def models(self) -> list[RegisteredModel]: ...

    def activate_model(self, name: str) -> bool:
        """True: a running service switched to it (a hot swap). False: its weights were
        verified and it is marked for the next start."""

    def change_endpoint(self, model: str, url: str, action: str, wait: float) -> EndpointState:
        """``add`` an inference endpoint to a model's pool (attested before it serves) or
        ``drain`` one (nothing new goes to it; its running requests finish, up to ``wait``
        seconds; then it leaves)."""

    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        """A new index version built and switched to (unless the gate keeps the active
        one); the current version serves meanwhile. Returns the finished job's status."""

    def rollback_index(self, on_progress: Progress | None) -> Rollback: ...

    def close(self) -> None: ...
