"""FactVault: the application. One object holds the use cases every edge drives.

The REST API, the CLI and the tests all call these methods; none of them assembles the
system its own way. Constructing a FactVault is cheap and has no side effects: the stores
open on first use, and nothing loads a model. ``start()`` is what a server does once
(register the bundled models, repair the index after a crash, warm the embedder, load the
active model, follow swaps made by other replicas); a one-shot command skips it and pays
only for what it uses. ``close()`` releases everything. Settings are built once by the
caller and passed in.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from app.answering.answerer import Answer, Answerer, AnswerSettings, Citation
from app.answering.cache import AnswerCache
from app.answering.history import Exchange
from app.core.config import Settings
from app.core.conversations import ConversationStore, Summary
from app.core.cpu_gate import CpuGate
from app.core.db import (
    DEFAULT_COLLECTION,
    Chunk,
    Conversation,
    ConversationTurn,
    Document,
    IndexVersion,
    ModelRecord,
    source_under,
)
from app.core.embedder import Embedder, EmbedderUnavailable
from app.core.embedders import check_embedder_name, embedder_from_settings
from app.core.index_versions import active_collection, active_index
from app.core.netpolicy import endpoint_host, matches
from app.core.runtime import Runtime, open_runtime
from app.core.vectorstore import SearchFilter
from app.errors import ServiceError
from app.evaluation.selfeval import NoQuestions, quality_gate, questions_for
from app.evaluation.summary import load_summary
from app.maintenance.backup import BackupReport, backup, restore
from app.maintenance.reindex_job import ReindexJob
from app.metrics import Metrics
from app.models import fingerprint
from app.models.fingerprint import FingerprintError
from app.models.manager import ModelManager
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
from app.models.remote import PoolSettings, RemoteModel
from app.ratelimit import RateLimits
from app.retrieval import RetrievedChunk, Retriever
from app.retrieval.search import NoIndex
from ingest.forget import Receipt, forget
from ingest.parse_worker import ParseWorker
from ingest.pipeline import IngestPipeline
from ingest.reindex import RollbackImpossible, drop_retired, rollback
from ingest.report import IngestReport
from ingest.sources import SourceFile

log = logging.getLogger("factvault.service")
PURGE_EVERY_SECONDS = 3600.0  # conversations past retention are looked for hourly
RETIRE_CHECK_SECONDS = 30.0  # how often retired index versions are looked at, if not following


@dataclass
class Reply:
    """A conversation turn: the answer, and the turn as stored."""

    conversation_id: str
    turn: ConversationTurn
    answer: Answer


@dataclass
class Ingested:
    """What an ingest of named files did: the pipeline's report and the documents it names."""

    report: IngestReport
    documents: list[Document]


class FactVault:
    def __init__(
        self, settings: Settings, runtime: Runtime | None = None, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self._runtime = runtime
        self._embedder = embedder
        self.metrics = Metrics()
        self.limits = RateLimits(settings.rate_requests_per_minute, settings.rate_tokens_per_minute)
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

    # -- the parts, opened on first use -------------------------------------------------

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

    # -- lifecycle --------------------------------------------------------------------

    def start(self, background: bool = True) -> FactVault:
        """What a server does once: bundled models registered, the index repaired after a
        crash, the embedder warm, the active (or default) model loaded; with ``background``
        (a server, not a one-shot command) swaps followed and retired indexes dropped."""
        rt = self.runtime
        # Spooled uploads of a run that crashed mid-upload are never going to be ingested.
        shutil.rmtree(self.settings.upload_spool_dir, ignore_errors=True)
        with rt.db.session() as s:
            added = register_bundled(s, self.settings.models_dir)
            if added:
                log.info("registered bundled models: %s", ", ".join(added))
            record = active_model(s) or mark_active(s, self.settings.default_model)
            s.expunge(record)
        if active_collection(rt) is not None:
            # A crash (kill -9 during an upload) can leave SQL and the index apart.
            repair = IngestPipeline(rt).reconcile()
            if repair.repaired_orphans or repair.repaired_missing:
                log.warning(
                    "repaired the index at start-up: %d orphan points removed, %d re-embedded",
                    repair.repaired_orphans, repair.repaired_missing,
                )  # fmt: skip
        rt.embedder.warm_up()  # the first question should not pay for the embedder load
        self.retriever.reranker.warm_up()
        self.models.activate(record)
        log.info("active model: %s (%s)", record.name, record.sha256[:12])
        if background:
            self._start_background(self.settings.model_follow_seconds or RETIRE_CHECK_SECONDS)
        return self

    def stopping(self) -> None:
        """The server was told to stop (SIGTERM): background work and an ingest end between
        two steps now, the file being parsed is refused; questions may still finish."""
        self._stop.set()
        self.parser.close()

    def close(self) -> None:
        self.stopping()
        self.models.close()
        if self._retriever is not None:
            self._retriever.reranker.close()
        if self._runtime is not None:
            self._runtime.close()

    def readiness(self) -> tuple[bool, dict[str, str]]:
        """Whether this service can answer: a model loaded, SQL and the vector store
        reachable; each check's outcome in words (a probe reports, it does not raise)."""
        checks: dict[str, str] = {}
        current = self.models.current
        checks["model"] = f"loaded: {current.name}" if current else "no model loaded"
        try:
            with self.runtime.db.session() as s:
                s.execute(text("SELECT 1"))
            checks["sql"] = "ok"
        except Exception as exc:
            checks["sql"] = f"error: {exc}"
        try:
            collection = self.collection()
            if collection:
                self.runtime.store.count(collection)
            checks["vector_store"] = "ok" if collection else "ok (nothing ingested yet)"
        except Exception as exc:
            checks["vector_store"] = f"error: {exc}"
        ready = current is not None and all(not v.startswith("error") for v in checks.values())
        return ready, checks

    # -- asking -----------------------------------------------------------------------

    def collection(self) -> str | None:
        return active_collection(self.runtime)

    def retrieve(
        self,
        question: str,
        top_k: int,
        mode: str = "hybrid",
        filter: SearchFilter | None = None,
    ) -> list[RetrievedChunk]:
        return self.retriever.retrieve(question, top_k, mode, filter)

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
        history: Sequence[Exchange] = (),
        keep_state: bool = False,
    ) -> Answer:
        """One grounded answer for a caller (an API key's id, None with auth off), within
        the server's bounds: the reply cap and the key's generated-token rate. ``history``:
        earlier turns of a conversation (the OpenAI endpoint's messages, or ``say``)."""
        cap = self.settings.answer_max_tokens  # a server-side bound: no client asks for more
        limit = min(max_tokens or cap, cap)
        rate_key = None if caller_key is None else str(caller_key)
        if rate_key is not None:  # charged before generating; what is not used comes back
            limit = self.limits.reserve_tokens(rate_key, limit)
        used = 0
        try:
            answer = self.answerer.answer(
                question,
                top_k or self.settings.answer_top_k,
                filter,
                limit,
                temperature,
                on_token=on_token,
                cancelled=cancelled,
                on_start=on_start,
                history=history,
                keep_state=keep_state,
            )
            used = answer.completion_tokens
        finally:
            if rate_key is not None:
                self.limits.refund_tokens(rate_key, limit - used)
        for stage, seconds in answer.timings.items():
            self.metrics.stage(stage, seconds)
        self.metrics.generated(answer.completion_tokens, answer.timings.get("generate", 0.0))
        return answer

    # -- conversations ----------------------------------------------------------------

    @property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.runtime.db)

    def new_conversation(self, caller_key: int | None) -> Conversation:
        return self.conversations.create(caller_key)

    def list_conversations(self, caller_key: int | None) -> list[Summary]:
        return self.conversations.list(caller_key)

    def get_conversation(self, caller_key: int | None, conversation_id: str) -> Conversation:
        conv = self.conversations.get(caller_key, conversation_id)
        if conv is None:  # unknown and someone else's look the same
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")
        return conv

    def delete_conversation(self, caller_key: int | None, conversation_id: str) -> None:
        if not self.conversations.delete(caller_key, conversation_id):
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")

    def say(
        self,
        caller_key: int | None,
        conversation_id: str,
        question: str,
        top_k: int | None = None,
        filter: SearchFilter | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> Reply:
        """The next turn of a caller's conversation: answered with its earlier turns (a
        follow-up rewritten to stand alone for retrieval), then stored. Whichever model is
        active answers; the history is text, so a swap between turns loses nothing."""
        conv = self.get_conversation(caller_key, conversation_id)
        history = [Exchange(t.standalone, t.prompt, t.answer) for t in conv.turns]
        answer = self.ask(
            caller_key, question, top_k, filter, max_tokens, temperature,
            on_token=on_token, cancelled=cancelled, on_start=on_start,
            history=history, keep_state=True,
        )  # fmt: skip
        turn = self.conversations.add_turn(
            caller_key,
            conversation_id,
            question=question,
            standalone=answer.standalone,
            prompt=answer.prompt_message,
            answer=answer.answer,
            citations=[_turn_citation(c) for c in answer.citations],
            grounded=answer.grounded,
            model_name=answer.model_name,
            model_sha256=answer.model_sha256,
            model_endpoint=answer.endpoint,
            index_version=answer.index_version,
            timings={k: round(v, 4) for k, v in answer.timings.items()},
            prompt_tokens=answer.prompt_tokens,
            prompt_reused=answer.prompt_reused,
            completion_tokens=answer.completion_tokens,
        )
        if turn is None:  # deleted while it was being answered
            raise ServiceError(404, "not_found", f"no conversation {conversation_id}")
        return Reply(conversation_id, turn, answer)

    def purge_conversations(self, older_than_days: float | None = None) -> int:
        """Deletes conversations untouched for longer than the given age (default: the
        retention setting); returns how many. Without either, keeps everything."""
        days = older_than_days or self.settings.conversation_retention_days
        if days is None:
            return 0
        return self.conversations.purge(timedelta(days=days))

    # -- documents --------------------------------------------------------------------

    def ingest_files(
        self, files: Sequence[tuple[str, Path]], collection: str = DEFAULT_COLLECTION
    ) -> Ingested:
        """Ingest (source name, path on disk) pairs into a collection through the one
        pipeline, one at a time."""
        items = [SourceFile(source, path, collection=collection) for source, path in files]
        with self.ingest_lock:
            report = IngestPipeline(
                self.runtime, cpu_gate=self.cpu_gate, parser=self.parser,
                stopping=self._stop.is_set,
            ).run(items)  # fmt: skip
        with self.runtime.db.session() as s:
            docs = s.scalars(select(Document).where(Document.id.in_(report.documents))).all()
            s.expunge_all()
        return Ingested(report, list(docs))

    def list_documents(
        self, collections: Sequence[str] | None = None, under: str | None = None
    ) -> list[Document]:
        """Every document, or those in ``collections`` (a limited key's), or those whose
        source is ``under`` a path (what a folder sync compares with)."""
        query = select(Document).order_by(Document.id)
        if collections is not None:
            query = query.where(Document.collection.in_(list(collections)))
        if under is not None:
            query = query.where(source_under(under))
        with self.runtime.db.session() as s:
            docs = list(s.scalars(query))
            s.expunge_all()
        return docs

    def document_collection(self, source: str) -> str | None:
        """The collection a source is stored in, if it is."""
        with self.runtime.db.session() as s:
            return s.scalar(select(Document.collection).where(Document.source == source))

    def remove_document(self, doc_id: int, collections: Sequence[str] | None = None) -> Receipt:
        """Delete a document and everything derived from it; the receipt says what went.
        (404 as well when it is in a collection the caller lacks.)"""
        with self.runtime.db.session() as s:
            doc = s.get(Document, doc_id)
            hidden = (
                doc is not None and collections is not None and doc.collection not in collections
            )
            if active_index(s) is None or doc is None or hidden:
                raise ServiceError(404, "not_found", f"no document {doc_id}")
        with self.ingest_lock:
            receipt = forget(self.runtime, doc_id)
        if receipt is None:  # deleted meanwhile
            raise ServiceError(404, "not_found", f"no document {doc_id}")
        return receipt

    # -- the index --------------------------------------------------------------------

    def index_status(self, collections: Sequence[str] | None = None) -> dict:
        """What serves now, its size as SQL and the vector store see it, the running
        reindex, and the latest `factvault eval` figures of this data dir (None if none).

        For a caller limited to ``collections`` the sizes are those of its collections, and
        the store-wide ones (points, each version's chunks) are null: a total would tell it
        how much it cannot see."""
        documents = select(func.count()).select_from(Document)
        chunks = select(func.count()).select_from(Chunk)
        if collections is not None:
            documents = documents.where(Document.collection.in_(list(collections)))
            chunks = chunks.join(Document, Chunk.document_id == Document.id).where(
                Document.collection.in_(list(collections))
            )
        with self.runtime.db.session() as s:
            versions = [
                _version_out(r) for r in s.scalars(select(IndexVersion).order_by(IndexVersion.id))
            ]
            counts = {"documents": s.scalar(documents) or 0, "chunks": s.scalar(chunks) or 0}
        active = next((v for v in versions if v["status"] == "active"), None)
        if collections is not None:
            counts["points"] = None
            for version in versions:
                version["chunk_count"] = None
        else:
            counts["points"] = self.runtime.store.count(active["collection"]) if active else 0
        return {
            "active": active,
            "versions": versions,
            "counts": counts,
            "reindex": asdict(self.reindex.status),
            "eval": load_summary(self.settings.data_dir),
        }

    def start_reindex(self, embedder: str, gate: bool = False) -> dict:
        """Build a new index version in the background. With ``gate``, it is switched to
        only if it scores no worse than the active one on the held-out synthetic questions
        (``FACTVAULT_INDEX_GATE_MARGIN``); there must be such questions to start."""
        try:  # light constructors: a missing package or tuned folder is refused here
            embedder_from_settings(check_embedder_name(embedder), self.settings)
        except (ValueError, EmbedderUnavailable) as exc:
            raise ServiceError(422, "unknown_embedder", str(exc)) from exc
        judge = None
        if gate:
            try:  # refused now, not after an hour of embedding
                questions = questions_for(self.runtime)
            except (NoQuestions, NoIndex) as exc:
                raise ServiceError(409, "no_self_eval", str(exc)) from exc
            judge = quality_gate(self.runtime, questions, self.settings.index_gate_margin)
        if not self.reindex.start(embedder, judge):
            raise ServiceError(409, "reindex_running", "a reindex is already running")
        return asdict(self.reindex.status)

    def rollback_index(self) -> dict:
        """The previous index version serves again (rebuilt from SQL if it was dropped)."""
        if self.reindex.status.state == "running":
            raise ServiceError(409, "reindex_running", "a reindex is running: wait for it")
        try:
            active, replaced, rebuilt = rollback(self.runtime)
        except RollbackImpossible as exc:
            raise ServiceError(409, "no_previous_index", str(exc)) from exc
        return {"active": active, "replaced": replaced, "rebuilt": rebuilt}

    # -- the whole store --------------------------------------------------------------

    def backup(self, directory: Path) -> BackupReport:
        """A consistent copy of SQL and the live vector index into a new directory."""
        return backup(self.runtime, directory)

    def restore(self, directory: Path) -> BackupReport:
        """A backup onto this service's fresh data dir and database (before any use: the
        restore writes the stores itself, so this service must not have opened them)."""
        if self._runtime is not None:
            raise ServiceError(409, "stores_open", "restore needs stores nobody has opened")
        return restore(self.settings, directory)

    # -- models -----------------------------------------------------------------------

    def list_models(self) -> list[ModelRecord]:
        with self.runtime.db.session() as s:
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

    def _start_background(self, interval: float) -> None:
        """Every ``interval`` seconds: follow a swap made by another replica (if following
        is on), and drop index versions retired longer ago than their grace period; hourly,
        delete conversations past their retention."""

        def loop() -> None:
            purged_at = 0.0
            while not self._stop.wait(interval):
                try:
                    if self.settings.model_follow_seconds > 0:
                        self.follow_active_model()
                    dropped = drop_retired(self.runtime)
                    if dropped:
                        log.info("dropped retired index versions: %s", ", ".join(dropped))
                    if time.monotonic() - purged_at > PURGE_EVERY_SECONDS:
                        purged_at = time.monotonic()
                        purged = self.purge_conversations()
                        if purged:  # a count only: conversation text never goes to logs
                            log.info("deleted %d conversations past retention", purged)
                except Exception:  # logged; the service keeps serving
                    log.exception("background maintenance failed")

        threading.Thread(target=loop, name="maintenance", daemon=True).start()


def _turn_citation(c: Citation) -> dict:
    """What a stored turn keeps of a citation: where it points, not the text shown."""
    return {
        "n": c.n,
        "document_id": c.document_id,
        "chunk_id": c.chunk_id,
        "source": c.source,
        "title": c.title,
        "span": list(c.span),
        "page": c.page,
    }


def _version_out(r: IndexVersion) -> dict:
    return {
        "id": r.id,
        "collection": r.collection,
        "status": str(r.status),
        "embedding_model": r.embedding_model,
        "embedding_sha256": r.embedding_sha256,
        "dimension": r.dimension,
        "chunk_count": r.chunk_count,
        "created_at": r.created_at.isoformat(),
        "retired_at": r.retired_at.isoformat() if r.retired_at else None,
    }
