"""The running service over HTTP: what the CLI uses when a server owns the store.

The embedded vector store belongs to one process; while ``factvault serve`` runs, the CLI's
ingest, query, model activation and reindex go through the service's API. A problem+json
answer comes back as the same ``ServiceError`` (status, stable code, detail) the service
raises in-process, so a command handles both paths alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings
from app.core.serving_address import recorded_address
from app.errors import ServiceError
from app.service.interface import (
    AskRequest,
    Progress,
    Receipt,
    RegisteredModel,
    ReindexStatus,
    Rollback,
    Said,
    StoredDocument,
    follow_reindex,
)


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
            return self._call(
                "POST", "/v1/documents", params=params, files={"files": (path.name, fh)}
            )

    def documents(self, under: str | None = None) -> list[StoredDocument]:
        params = {"under": under} if under else None
        return [
            StoredDocument.from_json(d) for d in self._call("GET", "/v1/documents", params=params)
        ]

    def remove_document(self, doc_id: int) -> Receipt:
        return Receipt(**self._call("DELETE", f"/v1/documents/{doc_id}"))

    def ask(self, request: AskRequest) -> Said:
        if request.filter is not None or request.history:
            raise ValueError("filters and history are not sent by this client yet")
        body = {
            "question": request.question,
            "top_k": request.top_k,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        return Said.from_json(self._call("POST", "/v1/query", json=body))

    def new_conversation(self) -> str:
        return self._call("POST", "/v1/conversations")["id"]

    def say(self, conversation_id: str, question: str) -> Said:
        path = f"/v1/conversations/{conversation_id}/messages"
        return Said.from_json(self._call("POST", path, json={"question": question}))

    def endpoint(self, model: str, url: str, action: str, wait: float = 30) -> dict:
        """Add (``add``) or drain (``drain``) one of a model's inference endpoints."""
        path = f"/v1/models/{model}/endpoints" + ("/drain" if action == "drain" else "")
        return self._call("POST", path, json={"url": url, "wait_seconds": wait})

    def rollback_index(self, on_progress: Progress | None = None) -> Rollback:
        """(A server does not report a rollback's rebuild as it goes: ``on_progress`` is
        not called.)"""
        return Rollback(**self._call("POST", "/v1/index/rollback")["rollback"])

    def models(self) -> list[RegisteredModel]:
        return [RegisteredModel.from_json(m) for m in self._call("GET", "/v1/models")["data"]]

    def activate_model(self, name: str) -> bool:
        self._call("PUT", "/v1/models/active", json={"name": name})
        return True

    def reindex(self, embedder: str, gate: bool, on_progress: Progress | None) -> ReindexStatus:
        """Start a reindex in the service and wait for it; returns its final status."""
        self._call("POST", "/v1/index/reindex", json={"embedder": embedder, "gate": gate})
        return follow_reindex(
            lambda: ReindexStatus(**self._call("GET", "/v1/index")["reindex"]), on_progress
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
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
