"""The service in this process as a ``Vault``: what a command uses when no server owns the
data dir (the embedded vector store belongs to one process).

The caller is the owner of the data dir at a terminal, so it has every right. Domain
exceptions leave as the same ``ServiceError`` the HTTP client raises for a problem
response, so a command handles both ways alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from app.answering.request import AskRequest
from app.core.config import Settings
from app.core.vectorstore import SearchFilter
from app.core.vectorstore.base import SEARCH_MODES
from app.errors import ServiceError
from app.maintenance.background_reindex import ReindexStatus
from app.service import folders
from app.service.error_map import as_service_errors
from app.service.index import Rollback
from app.service.installation import Installation, open_stores
from app.service.interface import (
    EndpointState,
    Passage,
    Progress,
    RegisteredModel,
    Said,
    StoredDocument,
    Watch,
    follow_reindex,
)
from ingest.forget import Receipt

if TYPE_CHECKING:
    from app.service.vault import FactVault
    from ingest.folder_sync import SyncReport
    from ingest.report import IngestReport

P = ParamSpec("P")
R = TypeVar("R")


def _mapped(method: Callable[P, R]) -> Callable[P, R]:
    @wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with as_service_errors():
            return method(*args, **kwargs)

    return call


class LocalVault:
    """The service in this process. It starts the model only when a question needs one."""

    def __init__(self, service: FactVault) -> None:
        self.service = service

    @classmethod
    def open(cls, settings: Settings) -> LocalVault:
        """A service on this process's own stores (a clear 409 if a server holds them)."""
        from app.service.vault import FactVault

        return cls(FactVault(settings, runtime=open_stores(settings)))

    def _answering(self) -> FactVault:
        if self.service.models.current is None:  # not started: no model loaded yet
            self.service.start(background=False)
        return self.service

    @_mapped
    def ask(self, request: AskRequest) -> Said:
        return Said.of(self._answering().ask(None, request))

    @_mapped
    def retrieve(
        self, question: str, top_k: int | None, mode: str, source_prefix: str | None
    ) -> list[Passage]:
        if mode not in SEARCH_MODES:
            raise ServiceError(400, "invalid_mode", "the mode is hybrid, dense or sparse")
        hits = self.service.retrieve(
            question, top_k, mode, SearchFilter(source_prefix=source_prefix)
        )
        return [
            Passage(h.source, (h.char_start, h.char_end), h.page, h.score, h.text, h.context)
            for h in hits
        ]

    @_mapped
    def new_conversation(self) -> str:
        return self.service.new_conversation(None).id

    @_mapped
    def say(self, conversation_id: str, question: str) -> Said:
        reply = self._answering().say(None, conversation_id, AskRequest(question))
        return Said.of(reply.answer)

    @_mapped
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

    @_mapped
    def remove_document(self, doc_id: int) -> Receipt:
        return self.service.remove_document(doc_id)

    @_mapped
    def ingest(
        self, paths: Sequence[Path], collection: str, prune: bool, on_progress: Progress | None
    ) -> IngestReport:
        """The pipeline shows its own progress per stage on stderr (bars on a terminal,
        log lines elsewhere); ``on_progress`` is for a transport that sees only files."""
        from ingest.pipeline import IngestPipeline
        from ingest.progress import terminal_progress

        collection = folders.checked_collection(collection)
        pipeline = IngestPipeline(self.service.runtime, progress=terminal_progress())
        return pipeline.ingest_paths(list(paths), prune=prune, collection=collection)

    @_mapped
    def sync(self, paths: Sequence[Path], collection: str) -> SyncReport:
        return folders.sync_once(self._target(), paths, collection)

    @_mapped
    def watch(self, paths: Sequence[Path], collection: str, watch: Watch) -> None:
        folders.watch(self._target(), paths, collection, watch)

    def _target(self):
        from ingest.folder_sync import LocalTarget
        from ingest.progress import terminal_progress

        return LocalTarget(self.service.runtime, progress=terminal_progress)

    @_mapped
    def models(self) -> list[RegisteredModel]:
        return [RegisteredModel.of(m) for m in self.service.list_models()]

    @_mapped
    def activate_model(self, name: str) -> bool:
        self.service.activate_model(name)
        return self.service.models.current is not None

    @_mapped
    def change_endpoint(self, model: str, url: str, action: str, wait: float) -> EndpointState:
        """No pool runs here: the registry changes for the next start (the operator's own
        registry, not bound by FACTVAULT_INFERENCE_ENDPOINT_HOSTS)."""
        installation = Installation(self.service.settings, self.service.runtime.db)
        url = installation.change_endpoints(model, url, action)
        return EndpointState(url, "registered" if action == "add" else "removed")

    @_mapped
    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        self.service.start_reindex(embedder, gate)  # the same background job a server runs
        return follow_reindex(lambda: self.service.reindex.status, on_progress)

    @_mapped
    def rollback_index(self, on_progress: Progress | None) -> Rollback:
        return self.service.rollback_index(on_progress)

    def close(self) -> None:
        self.service.close()
