"""The service's parts: settings, stores, retriever, answerer, model manager, gates."""

from __future__ import annotations

import threading

from app.answering.answerer import Answerer, AnswerSettings
from app.answering.cache import AnswerCache
from app.core.config import Settings
from app.core.cpu_gate import CpuGate
from app.core.embedder import Embedder
from app.core.index_versions import active_collection
from app.core.oidc import OidcVerifier
from app.core.runtime import Runtime, open_runtime
from app.maintenance.background_reindex import ReindexJob
from app.metrics import Metrics
from app.models.manager import ModelManager
from app.models.remote import PoolSettings
from app.ratelimit import RateLimits
from app.retrieval import Retriever
from ingest.parse_worker import ParseWorker


class ServiceParts:
    """The components every use case shares, built from Settings and owned here.

    Constructing one is cheap and has no side effects: the stores open on first use, and
    nothing loads a model. The subject classes (asking, conversations, documents, index,
    model_admin) inherit these parts; FactVault puts them together."""

    def __init__(
        self, settings: Settings, runtime: Runtime | None = None, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self._runtime = runtime
        self._embedder = embedder
        self.metrics = Metrics()
        self.limits = RateLimits(settings.rate_requests_per_minute, settings.rate_tokens_per_minute)
        # OpenID Connect access tokens beside API keys (None: not configured). Its settings
        # are checked here, so a bad one stops the service at start, naming the setting.
        self.oidc = OidcVerifier.from_settings(settings)
        self.cpu_gate = CpuGate()
        self.models = ModelManager(
            n_ctx=settings.llm_context,
            n_threads=settings.llm_threads,
            max_queue=settings.llm_max_queue,
            state_bytes=settings.conversation_state_mib * 2**20,
            gpu_layers=settings.llm_gpu_layers,
            pool=PoolSettings(
                connect_timeout=settings.inference_connect_timeout,
                read_timeout=settings.inference_read_timeout,
                health_seconds=settings.inference_health_seconds,
                attest_seconds=settings.inference_attest_seconds,
                logprob_tolerance=settings.inference_logprob_tolerance,
                per_endpoint=settings.inference_endpoint_concurrency,
                fresh_context=settings.inference_fresh_context,
            ),
        )
        self.ingest_lock = threading.Lock()
        # One model activation at a time, whether asked through the API or followed from SQL.
        self.activation_lock = threading.Lock()
        self._open_lock = threading.RLock()  # the parts below are made once, whoever asks first
        self._retriever: Retriever | None = None
        self._answerer: Answerer | None = None
        self._reindex: ReindexJob | None = None
        self._stop = threading.Event()
        # Uploads are parsed here, in one worker process kept for the service's life.
        self.parser = ParseWorker(settings.loader_memory_mib)

    @property
    def runtime(self) -> Runtime:
        with self._open_lock:
            if self._runtime is None:
                self._runtime = open_runtime(self.settings, embedder=self._embedder)
            return self._runtime

    @property
    def retriever(self) -> Retriever:
        with self._open_lock:
            if self._retriever is None:
                self._retriever = Retriever(self.runtime)
            return self._retriever

    @property
    def answerer(self) -> Answerer:
        with self._open_lock:
            return self._answerer or self._make_answerer()

    def _make_answerer(self) -> Answerer:
        s = self.settings
        embedder = self.runtime.embedder
        self._answerer = Answerer(
            self.retriever,
            self.models,
            self.cpu_gate,
            self.collection,
            allowed_link_hosts=s.answer_link_hosts,
            time_limit=s.generation_time_limit,
            config=AnswerSettings(
                evidence=s.answer_evidence,
                evidence_tokens=s.answer_evidence_tokens,
                prompt=s.answer_prompt,
                citations=s.answer_citations,
                cache=s.answer_cache,
                second_chance=s.answer_second_chance,
                arithmetic=s.answer_arithmetic,
                two_hops=s.answer_two_hops,
                press=s.answer_press,
                press_lost=s.answer_press_lost,
                early_release=s.answer_early_release,
                history_tokens=s.conversation_history_tokens,
                rewrite=s.conversation_rewrite,
            ),
            cache=AnswerCache(self.runtime.db),
            embed=embedder.embed_documents,
        )
        return self._answerer

    @property
    def reindex(self) -> ReindexJob:
        with self._open_lock:
            if self._reindex is None:
                self._reindex = ReindexJob(self.runtime, self.cpu_gate)
            return self._reindex

    def collection(self) -> str | None:
        return active_collection(self.runtime)
