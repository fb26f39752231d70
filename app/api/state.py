"""What one running service holds: the stores, the retriever, the model manager.

Built once at start-up by ``create_app`` (no globals), reached by routers through deps.py.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.api.metrics import Metrics
from app.api.ratelimit import RateLimits
from app.api.reindex_job import ReindexJob
from app.core.config import Settings
from app.core.index_versions import active_collection
from app.core.runtime import Runtime, open_runtime
from app.core.vectorstore import SearchFilter
from app.generation.answer import Answer, Answerer, CpuGate
from app.generation.hotswap import ModelManager
from app.generation.registry import active_model, mark_active, register_bundled
from app.retrieval import Retriever
from ingest.pipeline import IngestPipeline

log = logging.getLogger("factvault.service")


@dataclass
class ServiceState:
    settings: Settings
    runtime: Runtime
    retriever: Retriever
    models: ModelManager
    answerer: Answerer
    cpu_gate: CpuGate
    limits: RateLimits
    metrics: Metrics = field(default_factory=Metrics)
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    reindex: ReindexJob = field(init=False)
    # One model activation at a time, whether asked through the API or followed from SQL.
    activation_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.reindex = ReindexJob(self.runtime, self.cpu_gate)

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
                return False
            self.models.activate(record)
            log.info("followed the active model to %s", record.name)
            return True

    def start_model_follower(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.follow_active_model()
                except Exception:  # noqa: BLE001 - logged; the current model keeps serving
                    log.exception("could not follow the active model")

        threading.Thread(target=loop, name="model-follower", daemon=True).start()

    def collection(self) -> str | None:
        return active_collection(self.runtime)

    def ask(
        self,
        caller_key: int | None,
        question: str,
        top_k: int | None = None,
        filter: SearchFilter | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> Answer:
        """One grounded answer for a caller (an API key's id, None with auth off), within
        the server's bounds: the reply cap and the key's generated-token rate."""
        cap = self.settings.answer_max_tokens  # a server-side bound: no client asks for more
        rate_key = None if caller_key is None else str(caller_key)
        if rate_key is not None:
            self.limits.check_tokens(rate_key)
        answer = self.answerer.answer(
            question,
            top_k or self.settings.answer_top_k,
            filter,
            min(max_tokens or cap, cap),
            temperature,
            on_token=on_token,
            cancelled=cancelled,
            on_start=on_start,
        )
        if rate_key is not None:
            self.limits.spend_tokens(rate_key, answer.completion_tokens)
        for stage, seconds in answer.timings.items():
            self.metrics.stage(stage, seconds)
        self.metrics.generated(answer.completion_tokens, answer.timings.get("generate", 0.0))
        return answer

    def close(self) -> None:
        self._stop.set()
        self.models.close()
        self.runtime.close()


def build_state(settings: Settings, runtime: Runtime | None = None) -> ServiceState:
    """Open the stores, register bundled models, and load the active (or default) model."""
    rt = runtime or open_runtime(settings)
    cpu_gate = CpuGate()
    models = ModelManager(
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        max_queue=settings.llm_max_queue,
    )
    retriever = Retriever(rt)
    answerer = Answerer(
        retriever,
        models,
        cpu_gate,
        lambda: active_collection(rt),
        allowed_link_hosts=settings.answer_link_hosts,
        time_limit=settings.generation_time_limit,
    )
    state = ServiceState(
        settings=settings,
        runtime=rt,
        retriever=retriever,
        models=models,
        answerer=answerer,
        cpu_gate=cpu_gate,
        limits=RateLimits(settings.rate_requests_per_minute, settings.rate_tokens_per_minute),
    )
    # Spooled uploads of a run that crashed mid-upload are never going to be ingested.
    shutil.rmtree(settings.upload_spool_dir, ignore_errors=True)
    with rt.db.session() as s:
        added = register_bundled(s, settings.models_dir)
        if added:
            log.info("registered bundled models: %s", ", ".join(added))
        record = active_model(s)
        if record is None:
            record = mark_active(s, settings.default_model)
        s.expunge(record)
    if active_collection(rt) is not None:
        # A crash (kill -9 during an upload) can leave SQL and the index apart: repair first.
        repair = IngestPipeline(rt).reconcile()
        if repair.repaired_orphans or repair.repaired_missing:
            log.warning(
                "repaired the index at start-up: %d orphan points removed, %d re-embedded",
                repair.repaired_orphans, repair.repaired_missing,
            )  # fmt: skip
    rt.embedder.warm_up()  # the first question should not pay for the embedder load
    models.activate(record)
    log.info("active model: %s (%s)", record.name, record.sha256[:12])
    if settings.model_follow_seconds > 0:
        state.start_model_follower(settings.model_follow_seconds)
    return state
