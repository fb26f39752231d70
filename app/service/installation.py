"""What the operator changes in the installation's SQL store alone: API keys, the model
registry, old conversations, and the caches of LLM contexts and synthetic questions.

None of it needs the vector store, which a running server owns, so these use cases work
whether or not one runs (its next request reads what changed here: a revoked key is refused
from then on). They are the operator's own at the server's machine, so the API's limits on
registering models (the model directories, FACTVAULT_INFERENCE_ENDPOINT_HOSTS) do not apply.
Every failure is a ``ServiceError`` naming what was wrong, as from the rest of the service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.auth import SCOPES, create_key, list_keys, revoke_key
from app.core.config import Settings
from app.core.db import Database
from app.core.runtime import Runtime, SchemaOutOfDate, open_runtime, require_current_schema
from app.errors import ServiceError
from app.models import fingerprint
from app.models.bundled import BundledModelMissing
from app.models.registry import (
    ModelNotFound,
    RegistryError,
    check_endpoint,
    checked_model_path,
    get_model,
    register_model,
    register_remote,
    set_endpoints,
)
from app.service.error_map import as_service_error
from app.service.interface import RegisteredModel

if TYPE_CHECKING:
    from app.core.db import ApiKey
    from app.maintenance.backup import BackupReport
    from app.tuning.questions import SynthesisReport


@dataclass(frozen=True)
class KeyInfo:
    """A row of ``keys list``: never the key itself (only its hash is stored)."""

    id: int
    name: str
    prefix: str
    scope: str
    collections: tuple[str, ...] | None  # None: every collection
    created_at: str  # ISO 8601, seconds
    revoked_at: str  # "" while it is valid

    @classmethod
    def of(cls, k: ApiKey) -> KeyInfo:
        return cls(
            k.id, k.name, k.prefix, k.scope,
            tuple(k.collections) if k.collections is not None else None,
            _utc(k.created_at), _utc(k.revoked_at) if k.revoked_at else "",
        )  # fmt: skip


def _utc(at: datetime) -> str:
    """ISO 8601 in UTC, to the second: SQLite hands times back without their zone."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def open_stores(settings: Settings) -> Runtime:
    """SQL and the vector store, for work that needs them to itself: a clear 409 when the
    schema is behind the code or a running server holds the embedded store."""
    try:
        return open_runtime(settings)
    except SchemaOutOfDate as exc:
        raise ServiceError(409, "schema_out_of_date", str(exc)) from exc
    except RuntimeError as exc:  # e.g. the embedded store is held by a running server
        raise ServiceError(409, "stores_busy", f"cannot open the stores: {exc}") from exc


def _registry(exc: RegistryError) -> ServiceError:
    """Not found 404, name taken 409, anything else 422: as the API answers them."""
    return as_service_error(exc) or _bad(exc)


def _bad(exc: Exception) -> ServiceError:
    return ServiceError(400, "invalid", str(exc))


class Installation:
    """The SQL store alone, opened on first use (at the current schema, or a clear error
    saying to run ``factvault db upgrade``) and closed by ``close()``."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self._db = db  # one passed in is its owner's to close
        self._owned = db is None

    @property
    def db(self) -> Database:
        if self._db is None:
            self.settings.ensure_dirs()
            try:
                require_current_schema(self.settings.sql_url)
            except SchemaOutOfDate as exc:
                raise ServiceError(409, "schema_out_of_date", str(exc)) from exc
            self._db = Database(self.settings.sql_url)
        return self._db

    def close(self) -> None:
        if self._db is not None and self._owned:
            self._db.dispose()
        self._db = None

    # The stores as a whole

    def upgrade_schema(self, revision: str = "head") -> str:
        """Apply the schema migrations (an explicit step, never hidden in start-up);
        returns the revision the database is at."""
        from app.core.migrate import current_revision, upgrade

        self.settings.ensure_dirs()
        upgrade(self.settings.sql_url, revision)
        return current_revision(self.settings.sql_url)

    def backup(self, directory: Path) -> BackupReport:
        """A consistent copy of SQL and the live vector index into a new directory (the
        embedded store must not be held by a running server)."""
        from app.maintenance.backup import BackupError, backup

        rt = open_stores(self.settings)
        try:
            return backup(rt, directory)
        except BackupError as exc:
            raise _bad(exc) from exc
        finally:
            rt.close()

    def restore(self, directory: Path) -> BackupReport:
        """A backup onto this fresh data dir and database."""
        from app.maintenance.backup import BackupError, restore

        self.settings.ensure_dirs()
        try:
            return restore(self.settings, directory)
        except BackupError as exc:
            raise _bad(exc) from exc

    # API keys

    def create_key(self, name: str, scope: str, collections: Sequence[str] | None) -> str:
        """A new key, returned once. ``collections``: the only ones it may see (None: all)."""
        if scope not in SCOPES:
            raise ServiceError(400, "invalid_scope", f"scope must be one of {', '.join(SCOPES)}")
        try:
            with self.db.session() as s:
                return create_key(
                    s, name, scope, list(collections) if collections is not None else None
                )
        except ValueError as exc:  # what create_key refuses beyond the scope: the list
            raise ServiceError(400, "invalid_collections", str(exc)) from exc

    def keys(self) -> list[KeyInfo]:
        with self.db.session() as s:
            return [KeyInfo.of(k) for k in list_keys(s)]

    def revoke_key(self, key_id_or_prefix: str) -> KeyInfo:
        """Every request with the key is refused from the next one on."""
        try:
            with self.db.session() as s:
                return KeyInfo.of(revoke_key(s, key_id_or_prefix))
        except LookupError as exc:
            raise ServiceError(404, "not_found", str(exc)) from exc

    # Conversations

    def purge_conversations(self, older_than_days: float | None) -> int:
        """Delete every key's conversations untouched for longer than the age (default:
        FACTVAULT_CONVERSATION_RETENTION_DAYS); returns how many."""
        from datetime import timedelta

        from app.core.conversations import ConversationStore

        days = older_than_days
        if days is None:
            days = self.settings.conversation_retention_days
        if days is None:
            raise ServiceError(
                400, "invalid",
                "give an age, or set FACTVAULT_CONVERSATION_RETENTION_DAYS",
            )  # fmt: skip
        return ConversationStore(self.db).purge(timedelta(days=days))

    # The model registry

    def add_model(
        self,
        name: str,
        path: Path | None,
        endpoints: Sequence[str] = (),
        context_length: int | None = None,
        on_fingerprint: Callable[[str], None] = lambda source: None,
    ) -> RegisteredModel:
        """Register any GGUF file under a name, or a model served by inference endpoints:
        its fingerprint computed from the GGUF when it is given, else taken from the first
        endpoint (``on_fingerprint`` is told which, before the wait)."""
        if path is None and not endpoints:
            raise ServiceError(400, "invalid", "give a GGUF file, an endpoint, or both")
        try:
            if not endpoints:
                with self.db.session() as s:
                    record = register_model(
                        s, path, name, provenance="added with `factvault models add`"
                    )
                    return RegisteredModel.of(record)
            urls = [check_endpoint(u) for u in endpoints]
            path = checked_model_path(path) if path is not None else None
            on_fingerprint(path.name if path is not None else urls[0])
            taken = fingerprint.take(
                path, urls[0], self.settings.llm_threads, self.settings.inference_read_timeout
            )
            with self.db.session() as s:
                record = register_remote(
                    s, name, urls, taken, path=path, context_length=context_length
                )
                return RegisteredModel.of(record)
        except RegistryError as exc:
            raise _registry(exc) from exc
        except fingerprint.FingerprintError as exc:
            raise ServiceError(422, "fingerprint_failed", str(exc)) from exc

    def change_endpoints(self, name: str, url: str, action: str) -> str:
        """Add an endpoint to a model's registered pool (``add``) or remove one (``drain``)
        for the next start; a running server does this live (``Vault``'s endpoint).
        Returns the URL as stored."""
        if action not in ("add", "drain"):
            raise ServiceError(400, "invalid", "the action is add or drain")
        try:
            url = check_endpoint(url)
            with self.db.session() as s:
                urls = list(get_model(s, name).endpoints or [])
                if action == "add":
                    urls.append(url)
                else:  # the same refusals as a running service's drain
                    if url not in urls:
                        raise ModelNotFound(f"model {name!r} has no endpoint {url}")
                    urls = [u for u in urls if u != url]
                    if not urls:
                        raise RegistryError(
                            f"{url} is model {name!r}'s last endpoint: add another before "
                            "draining it"
                        )
                set_endpoints(s, name, list(dict.fromkeys(urls)))
        except RegistryError as exc:
            raise _registry(exc) from exc
        return url

    # The caches that carry long LLM work between machines

    def export_contexts(self, file: Path, model: str | None = None) -> int:
        """Write the cached LLM contexts (only ``model``'s, if named) to a gzip JSONL file."""
        from ingest.context_cache import ContextCache

        sha = self._context_model(model).sha256 if model else None
        return ContextCache(self.db).export(file, sha)

    def import_contexts(self, file: Path) -> int:
        """Add a context file's entries (same key: the file's text wins)."""
        from ingest.context_cache import ContextCache

        return self._import(file, ContextCache(self.db).import_file)

    def export_questions(self, file: Path, model: str | None = None) -> int:
        """Write the cached synthetic questions (only ``model``'s, if named)."""
        from app.tuning.questions import QuestionCache

        sha = self._context_model(model).sha256 if model else None
        return QuestionCache(self.db).export(file, sha)

    def import_questions(self, file: Path) -> int:
        from app.tuning.questions import QuestionCache

        return self._import(file, QuestionCache(self.db).import_file)

    def write_questions(
        self,
        model: str | None,
        fraction: float | None,
        collections: Sequence[str] | None,
        progress: Callable[[SynthesisReport], None],
    ) -> tuple[str, SynthesisReport]:
        """Have a local model write a few questions each sampled chunk answers (cached by
        content hash: a stopped run resumes). Returns the model's name and the report."""
        from app.tuning.questions import synthesize

        s = self.settings
        fraction = s.tune_sample if fraction is None else fraction
        if fraction <= 0:
            raise ServiceError(400, "invalid", "the sample must be above 0")
        chosen = self._context_model(model or s.tune_question_model)
        try:
            report = synthesize(
                self.db, lambda: str(chosen.path()), chosen.sha256, fraction,
                threads=s.llm_threads, collections=list(collections or []) or None,
                progress=progress,
            )  # fmt: skip
        except BundledModelMissing as exc:
            raise _bad(exc) from exc
        return chosen.name, report

    def _context_model(self, name: str):
        from ingest.contextualize.llm import resolve_context_model

        try:
            return resolve_context_model(self.settings, self.db, name)
        except (ValueError, BundledModelMissing) as exc:
            raise _bad(exc) from exc

    def _import(self, file: Path, read: Callable[[Path], int]) -> int:
        if not file.is_file():
            raise ServiceError(404, "not_found", f"{file}: no such file")
        try:
            return read(file)
        except (ValueError, OSError, EOFError) as exc:
            raise ServiceError(400, "invalid", f"{file}: {exc}") from exc
