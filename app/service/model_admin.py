"""Models and endpoints: the registry as the service exposes it, activation and hot swap,
endpoint pools and following another replica's swap."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from app.core.db import ModelRecord
from app.core.netpolicy import endpoint_host, matches
from app.errors import ServiceError
from app.models import fingerprint
from app.models.fingerprint import FingerprintError
from app.models.registry import (
    ModelNotFound,
    RegistryError,
    active_model,
    check_endpoint,
    checked_model_path,
    get_model,
    list_models,
    mark_active,
    register_bundled,
    register_model,
    register_remote,
    set_endpoints,
    verify_weights,
)
from app.models.remote import RemoteModel
from app.service.parts import ServiceParts

log = logging.getLogger("factvault.service")


class ModelAdmin(ServiceParts):
    """Answering models and their inference endpoints: register, activate, pool, follow."""

    def list_models(self) -> list[ModelRecord]:
        """Every registered model (the bundled ones are registered on first use)."""
        with self.runtime.db.session() as s:
            register_bundled(s, self.settings.models_dir)
            records = list_models(s)
            s.expunge_all()
        return records

    def register_model(self, path: Path, name: str) -> ModelRecord:
        """Register a GGUF file from inside the model directories (``models add`` on the
        CLI is the operator's own, works on SQL alone and may register any file)."""
        with self.runtime.db.session() as s:
            record = register_model(
                s, path, name, provenance="added through the API",
                allowed_dirs=self.settings.model_source_dirs,
            )  # fmt: skip
            s.expunge(record)
        return record

    def register_remote_model(
        self,
        name: str,
        endpoints: Sequence[str],
        path: Path | None = None,
        context_length: int | None = None,
        allowed_dirs: Sequence[Path] | None = None,
    ) -> ModelRecord:
        """Register a model served by inference endpoints. Its fingerprint is computed here
        from the GGUF when ``path`` is given, else taken from the first endpoint (trusted);
        every endpoint is checked against it when the model is activated."""
        urls = [self._allowed_endpoint(u) for u in endpoints]
        if not urls:
            raise RegistryError("at least one endpoint is needed")
        if path is not None:  # checked before llama.cpp reads it for the fingerprint
            path = checked_model_path(path, allowed_dirs)
        try:
            taken = fingerprint.take(
                path, urls[0], self.settings.llm_threads, self.settings.inference_read_timeout
            )
        except FingerprintError as exc:
            # Which of refused, timed out or answered-wrongly is for the server's log only:
            # told to the caller it would map the network behind the service.
            log.warning("registering %s: no fingerprint from %s: %s", name, urls[0], exc)
            raise RegistryError(
                f"endpoint {urls[0]}: not reachable or not an inference server"
            ) from exc
        with self.runtime.db.session() as s:
            record = register_remote(s, name, urls, taken, path=path, context_length=context_length)
            s.expunge(record)
        return record

    def add_endpoint(self, name: str, url: str) -> dict:
        """Add an endpoint to a model's pool (and to the live pool: attested before it
        serves). Returns its state."""
        url = self._allowed_endpoint(url)
        with self.activation_lock:
            with self.runtime.db.session() as s:
                record = get_model(s, name)
                set_endpoints(s, name, list(dict.fromkeys([*(record.endpoints or []), url])))
            pool = self._pool(name)
            if pool is None:
                return {"url": url, "state": "registered", "reason": ""}
            state = pool.add(url).as_dict()
            if state["state"] in ("down", "joining") and state["reason"]:
                log.warning("endpoint %s of %s: %s", url, name, state["reason"])
                state["reason"] = "not reachable or not an inference server"
            return state

    def _allowed_endpoint(self, url: str) -> str:
        """An endpoint URL the service may reach (FACTVAULT_INFERENCE_ENDPOINT_HOSTS); what
        the API registers goes through here. The operator's CLI on the server's machine
        writes the registry itself and is not bound by the list."""
        url = check_endpoint(url)
        if not matches(endpoint_host(url), self.settings.inference_endpoint_hosts):
            raise ServiceError(
                403, "endpoint_not_allowed", f"endpoint {url}: its host is not in "
                "FACTVAULT_INFERENCE_ENDPOINT_HOSTS (empty by default: register inference "
                "endpoints with `factvault models add --endpoint` on the server's machine)",
            )  # fmt: skip
        return url

    def drain_endpoint(self, name: str, url: str, wait: float = 30.0) -> dict:
        """Take an endpoint out of a model's pool: it gets no new request; its running ones
        finish (waiting up to ``wait`` seconds); then it has left. Other replicas drain it
        when they next follow SQL (``FACTVAULT_MODEL_FOLLOW_SECONDS``)."""
        url = check_endpoint(url)
        with self.activation_lock, self.runtime.db.session() as s:
            record = get_model(s, name)
            kept = [u for u in record.endpoints or [] if u != url]
            if len(kept) == len(record.endpoints or []):
                raise ModelNotFound(f"model {name!r} has no endpoint {url}")
            if not kept:
                raise RegistryError(
                    f"{url} is model {name!r}'s last endpoint: add another before draining it"
                )
            set_endpoints(s, name, kept)
        pool = self._pool(name)
        left = pool.drain(url, wait) if pool is not None else True
        return {"url": url, "state": "drained" if left else "draining", "reason": ""}

    def endpoint_states(self, record: ModelRecord) -> list[dict] | None:
        """Live states for the loaded pool; the registered URLs otherwise."""
        if not record.endpoints:
            return None
        pool = self._pool(record.name)
        if pool is not None:
            return pool.describe()
        return [{"url": u, "state": "registered", "reason": ""} for u in record.endpoints]

    def _pool(self, name: str) -> RemoteModel | None:
        current = self.models.current
        if isinstance(current, RemoteModel) and current.name == name and not current.closed:
            return current
        return None

    def activate_model(self, name: str) -> ModelRecord:
        """Make ``name`` the active model. A started service loads it beside the current one
        and switches (requests keep being served; a file that fails its sha256 or does not
        load changes nothing); otherwise its weights are verified and SQL marks it active
        for the service that starts next, or the replicas that follow SQL."""
        with self.activation_lock:
            with self.runtime.db.session() as s:
                record = get_model(s, name)
                s.expunge(record)
            if self.models.current is not None:
                self.models.activate(record)  # raises, and changes nothing, if it cannot load
            else:
                verify_weights(record)
            with self.runtime.db.session() as s:
                record = mark_active(s, name)
                s.expunge(record)
        return record

    def follow_active_model(self) -> bool:
        """Load the model SQL marks active if this process serves another one.

        Several API replicas share one database: a swap through any of them marks the new
        model active in SQL, and every other replica follows it here (each loads it beside
        its current one, so no request fails). Returns True if it switched.
        """
        with self.activation_lock:
            with self.runtime.db.session() as s:
                record = active_model(s)
                if record is None:
                    return False
                s.expunge(record)
            current = self.models.current
            if current is not None and current.name == record.name:
                if isinstance(current, RemoteModel) and not current.closed:
                    added, gone = current.follow(list(record.endpoints or []))
                    if added or gone:
                        log.info(
                            "followed %s's endpoints: added %s, drained %s",
                            record.name, added or "none", gone or "none",
                        )  # fmt: skip
                return False
            self.models.activate(record)
            log.info("followed the active model to %s", record.name)
            return True
