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

from sqlalchemy import text

from app.core.index_versions import active_collection
from app.models.registry import active_model, mark_active, register_bundled
from app.service.conversations import Conversations
from app.service.documents import Documents
from app.service.index import IndexAndStore
from app.service.model_admin import ModelAdmin
from ingest.pipeline import IngestPipeline
from ingest.reindex import drop_retired

log = logging.getLogger("factvault.service")
PURGE_EVERY_SECONDS = 3600.0  # conversations past retention are looked for hourly
RETIRE_CHECK_SECONDS = 30.0  # how often retired index versions are looked at, if not following


class FactVault(Conversations, Documents, IndexAndStore, ModelAdmin):
    """The application: the parts (parts.py), each subject's use cases (asking,
    conversations, documents, index, model_admin), and the lifecycle a server goes through.

    The subjects are classes this one inherits rather than objects it holds, so the use
    cases stay one flat set of methods, the shape the API routes and the CLI call."""

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
