"""Swap the answering model while the service runs, without failing a request.

``lease()`` hands a request the model that is active when it starts; the request keeps it
to the end even if a swap happens meanwhile. ``activate()`` verifies and loads the new model
beside the old one (the old keeps answering), then switches the pointer atomically. The old
model's memory is released when its last lease ends. A model that fails to load or whose
file no longer matches its sha256 leaves the old one active.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from app.models import fingerprint
from app.models.kv_states import KVStates
from app.models.registry import verify_weights
from app.models.remote import PoolSettings, RemoteModel
from app.models.runner import (
    ChatTemplate,
    LoadedModel,
    ModelLoadError,
    load_llama,
    load_vocabulary,
)


class NoActiveModel(RuntimeError):
    pass


@dataclass
class SwapStatus:
    """The latest activation, for anyone watching it (the web console shows its phase).

    ``phase`` goes verifying -> loading -> switching -> done, or ends in failed (the old
    model still serves); ``idle`` until the first activation."""

    phase: str = "idle"
    target: str | None = None
    previous: str | None = None
    started_at: float | None = None  # epoch seconds
    seconds: float | None = None  # elapsed so far, or the total once finished
    error: str | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        if self.phase not in ("done", "failed", "idle") and self.started_at is not None:
            out["seconds"] = round(time.time() - self.started_at, 2)
        return out


class ModelManager:
    def __init__(
        self,
        n_ctx: int = 4096,
        n_threads: int = 2,
        max_queue: int = 8,
        state_bytes: int = 0,
        loader: Callable[..., Any] = load_llama,
        pool: PoolSettings | None = None,
        gpu_layers: int = 0,
    ) -> None:
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_queue = max_queue
        self.state_bytes = state_bytes  # per model, for saved conversation contexts
        self._loader = loader
        self.gpu_layers = gpu_layers  # layers offloaded to a GPU (llama.cpp built with one)
        self.pool = pool or PoolSettings()  # for models served by inference endpoints
        self._current: LoadedModel | RemoteModel | None = None
        self._lock = threading.Lock()
        self._swap_lock = threading.Lock()  # one activation at a time
        self.swap = SwapStatus()

    @property
    def current(self) -> LoadedModel | RemoteModel | None:
        return self._current

    @contextmanager
    def lease(self) -> Iterator[LoadedModel | RemoteModel]:
        with self._lock:
            model = self._current
            if model is None:
                raise NoActiveModel("no model is active: `factvault models activate NAME`")
            model.inflight += 1
        try:
            yield model
        finally:
            with self._lock:
                model.inflight -= 1
                release = model.retired and model.inflight == 0
            if release:
                model.close()

    def activate(self, record: Any) -> LoadedModel | RemoteModel:
        """Load ``record`` (a ModelRecord) and make it current; raises and changes nothing
        if the file fails verification or llama.cpp cannot load it. A model served by
        endpoints becomes a pool of them, attested first (pool A -> pool B is a swap like
        any other; the index is untouched)."""
        with self._swap_lock:
            started = time.perf_counter()
            current = self._current
            if (
                current is not None
                and (current.name, current.sha256) == (record.name, record.sha256)
                and not current.closed
            ):
                return current
            self.swap = SwapStatus(
                "verifying", record.name, current.name if current else None, time.time()
            )
            try:
                verify_weights(record)
                self.swap.phase = "loading"
                n_ctx = min(self.n_ctx, record.context_length or self.n_ctx)
                if record.endpoints:
                    new: LoadedModel | RemoteModel = self._pool(record, n_ctx)
                else:
                    new = LoadedModel(
                        name=record.name,
                        sha256=record.sha256,
                        path=record.path,
                        llama=self._loader(
                            record.path, n_ctx, self.n_threads, n_gpu_layers=self.gpu_layers
                        ),
                        max_queue=self.max_queue,
                        states=KVStates(self.state_bytes) if self.state_bytes > 0 else None,
                    )
            except Exception as exc:
                self.swap.phase, self.swap.error = "failed", str(exc)
                self.swap.seconds = round(time.perf_counter() - started, 3)
                raise
            self.swap.phase = "switching"
            with self._lock:
                old, self._current = self._current, new
                release_old = False
                if old is not None:
                    old.retired = True
                    release_old = old.inflight == 0
            if release_old and old is not None:
                old.close()
            self.swap.phase = "done"
            self.swap.seconds = round(time.perf_counter() - started, 3)
            return new

    def _pool(self, record: Any, n_ctx: int) -> RemoteModel:
        if not record.fingerprint:
            raise ModelLoadError(f"model {record.name!r} has endpoints but no fingerprint")
        return RemoteModel(
            name=record.name,
            sha256=record.sha256,
            expected=fingerprint.from_json(record.fingerprint),
            urls=list(record.endpoints),
            context=n_ctx,
            template=ChatTemplate(load_vocabulary(record.path)) if record.path else None,
            settings=self.pool,
            max_queue=self.max_queue,
        ).start()

    def close(self) -> None:
        with self._lock:
            model, self._current = self._current, None
        if model is not None:
            model.retired = True
            if model.inflight == 0:
                model.close()
