"""The running service over HTTP: what the CLI uses when a server owns the store.

The embedded vector store belongs to one process; while ``factvault serve`` runs, the CLI's
ingest, query, model activation and reindex go through the service's API. A problem+json
answer comes back as the same ``ServiceError`` (status, stable code, detail) the service
raises in-process, so a command handles both paths alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings
from app.core.serving_address import recorded_address
from app.errors import ServiceError
from app.service import folders
from app.service.folders import checked_collection
from app.service.interface import (
    AskRequest,
    EndpointState,
    Passage,
    Progress,
    Receipt,
    RegisteredModel,
    ReindexStatus,
    Rollback,
    Said,
    StoredDocument,
    Watch,
    follow_reindex,
)
from ingest.folder_sync import Stored, SyncReport
from ingest.report import IngestReport
from ingest.sources import discover


class ServiceClient:
    """A running service's API, as the same use cases (app/service/interface.py's ``Vault``)
    the service offers in-process, plus what only a server does (uploads, endpoints)."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 600) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    @classmethod
    def running(cls, settings: Settings) -> ServiceClient | None:
        """A client of the service that owns this data dir, if one answers: at the address
        it recorded there (`factvault serve --port N`), else at the configured host and
        port (a server on another machine, or one started before addresses were recorded)."""
        candidates = [recorded_address(settings.data_dir), settings.server_url]
        for url in dict.fromkeys(u for u in candidates if u):
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    return cls(url, settings.api_key)
            except httpx.HTTPError:
                continue
        return None

    def close(self) -> None:
        self._http.close()

    def upload(self, path: Path, collection: str = "default", source: str | None = None) -> dict:
        """Send one file; ``source`` stores it under that absolute path (a folder sync)."""
        params = {"collection": collection} | ({"source": source} if source else {})
        with path.open("rb") as fh:
            return self.call(
                "POST", "/v1/documents", params=params, files={"files": (path.name, fh)}
            )

    def ingest(
        self, paths: Sequence[Path], collection: str, prune: bool, on_progress: Progress | None
    ) -> IngestReport:
        """Each file sent under its absolute path (the same document as when this process
        ingests it, or a folder sync sends it), one at a time; with ``prune``, the stored
        documents under these folders whose files are gone are removed."""
        checked_collection(collection)
        started = time.perf_counter()
        files, bad = discover(paths)
        report = IngestReport(files_seen=len(files), errors=list(bad))
        for done, f in enumerate(files, start=1):
            body, failed = self.send(f.path, collection)
            report.new += body.get("new", 0)
            report.changed += body.get("changed", 0)
            report.unchanged += body.get("unchanged", 0)
            report.chunks_written += body.get("chunks_written", 0)
            report.errors += failed
            if on_progress is not None:
                on_progress(done, len(files))
        if prune:
            report.pruned = self._prune(paths)
        report.failed = len(report.errors)
        report.elapsed = time.perf_counter() - started
        return report

    def send(self, path: Path, collection: str) -> tuple[dict, list[tuple[str, str]]]:
        """One file stored under its absolute path: the upload's counts ({} if it was
        refused) and its failures as (source, reason). A service that is away (5xx) raises:
        a sync retries the whole pass."""
        source = path.as_posix()
        try:
            body = self.upload(path, collection, source=source)
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            return {}, [(source, exc.detail)]
        return body, [(source, e["reason"]) for e in body["failed"]]

    def _prune(self, paths: Sequence[Path]) -> int:
        """Documents stored from under these folders whose files are gone, removed."""
        roots = [p.expanduser().resolve() for p in paths if p.expanduser().is_dir()]
        target = ApiTarget(self)
        stored = target.stored([r.as_posix() for r in roots])
        gone = [d.id for source, d in stored.items() if not Path(source).is_file()]
        return target.forget(gone)

    def sync(self, paths: Sequence[Path], collection: str) -> SyncReport:
        return folders.sync_once(ApiTarget(self), paths, collection)

    def watch(self, paths: Sequence[Path], collection: str, watch: Watch) -> None:
        folders.watch(ApiTarget(self), paths, collection, watch)

    def documents(self, under: str | None = None) -> list[StoredDocument]:
        params = {"under": under} if under else None
        return [
            StoredDocument.from_json(d) for d in self.call("GET", "/v1/documents", params=params)
        ]

    def remove_document(self, doc_id: int) -> Receipt:
        return Receipt(**self.call("DELETE", f"/v1/documents/{doc_id}"))

    def ask(self, request: AskRequest) -> Said:
        if request.filter is not None or request.history:
            raise ValueError("filters and history are not sent by this client yet")
        body = {
            "question": request.question,
            "top_k": request.top_k,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        return Said.from_json(self.call("POST", "/v1/query", json=body))

    def retrieve(
        self, question: str, top_k: int | None, mode: str, source_prefix: str | None
    ) -> list[Passage]:
        body = {"question": question, "top_k": top_k, "mode": mode,
                "filters": {"source_prefix": source_prefix}}  # fmt: skip
        return [
            Passage.from_json(c) for c in self.call("POST", "/v1/retrieve", json=body)["chunks"]
        ]

    def new_conversation(self) -> str:
        return self.call("POST", "/v1/conversations")["id"]

    def say(self, conversation_id: str, question: str) -> Said:
        path = f"/v1/conversations/{conversation_id}/messages"
        return Said.from_json(self.call("POST", path, json={"question": question}))

    def change_endpoint(self, model: str, url: str, action: str, wait: float) -> EndpointState:
        if action not in ("add", "drain"):
            raise ServiceError(400, "invalid", "the action is add or drain")
        path = f"/v1/models/{model}/endpoints" + ("/drain" if action == "drain" else "")
        body = self.call("POST", path, json={"url": url, "wait_seconds": wait})
        return EndpointState(body["url"], body["state"], body["reason"] or "")

    def rollback_index(self, on_progress: Progress | None = None) -> Rollback:
        """(A server does not report a rollback's rebuild as it goes: ``on_progress`` is
        not called.)"""
        return Rollback(**self.call("POST", "/v1/index/rollback")["rollback"])

    def models(self) -> list[RegisteredModel]:
        return [RegisteredModel.from_json(m) for m in self.call("GET", "/v1/models")["data"]]

    def activate_model(self, name: str) -> bool:
        self.call("PUT", "/v1/models/active", json={"name": name})
        return True

    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        """Start a reindex in the service and wait for it; returns its final status."""
        self.call("POST", "/v1/index/reindex", json={"embedder": embedder, "gate": gate})
        return follow_reindex(
            lambda: ReindexStatus(**self.call("GET", "/v1/index")["reindex"]), on_progress
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request to the API, its JSON body back (a problem+json answer raised as the
        ServiceError it carries)."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(503, "unreachable", f"{self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                code, detail = body.get("code", "http_error"), body.get("detail", response.text)
            except ValueError:
                code, detail = "http_error", response.text
            raise ServiceError(response.status_code, code, detail)
        return response.json()


class ApiTarget:
    """A folder sync through the running service's documents API (ingest/folder_sync.py's
    SyncTarget): files are sent under their absolute path, gone ones deleted by id."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def stored(self, scopes: Sequence[str]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        for scope in scopes:
            for d in self.client.documents(under=scope):
                if d.parent_id is None:  # an attachment follows its mail
                    found[d.source] = Stored(d.id, d.sha256, d.collection, d.loader_version)
        return found

    def put(self, files: Sequence[Path], collection: str) -> list[tuple[str, str]]:
        return [failure for path in files for failure in self.client.send(path, collection)[1]]

    def forget(self, doc_ids: Sequence[int]) -> int:
        gone = 0
        for doc_id in doc_ids:
            try:
                self.client.remove_document(doc_id)
            except ServiceError as exc:
                if exc.status != 404:  # already gone is what was wanted
                    raise
            else:
                gone += 1
        return gone
