"""The domain's exceptions as ``ServiceError``s: one mapping, used by the API (as problem
details) and by the in-process ``LocalVault`` (so a command sees the same error, with the
same status and code, whichever way it reached the service)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.answering.fitting import PromptTooLong
from app.core.embedder import IndexMismatch
from app.errors import ServiceError
from app.models.manager import NoActiveModel
from app.models.registry import ModelConflict, ModelNotFound, ModelPathRefused, RegistryError
from app.models.runner import GenerationFailed, ModelLoadError, Overloaded
from app.ratelimit import RateLimited
from app.retrieval.search import NoIndex

# Most specific first: ModelNotFound and ModelPathRefused are RegistryErrors too.
MAPPED: list[tuple[type[Exception], int, str]] = [
    (NoIndex, 409, "no_index"),
    (IndexMismatch, 409, "index_mismatch"),
    (NoActiveModel, 503, "no_active_model"),
    (ModelNotFound, 404, "model_not_found"),
    (ModelPathRefused, 403, "model_path_refused"),
    (ModelConflict, 409, "model_exists"),
    (RegistryError, 422, "model_rejected"),
    (ModelLoadError, 422, "model_load_failed"),
    (PromptTooLong, 422, "question_too_long"),
    (GenerationFailed, 503, "generation_failed"),
]
KNOWN: tuple[type[Exception], ...] = (
    ServiceError, Overloaded, RateLimited, *(t for t, _, _ in MAPPED)
)  # fmt: skip


def as_service_error(exc: Exception) -> ServiceError | None:
    """The ServiceError a domain exception stands for; None for one it does not know."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, Overloaded):
        return ServiceError(503, "model_busy", str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, RateLimited):
        return ServiceError(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})
    for exc_type, status, code in MAPPED:
        if isinstance(exc, exc_type):
            return ServiceError(status, code, str(exc))
    return None


@contextmanager
def as_service_errors() -> Iterator[None]:
    """Raises a known domain exception from inside as its ServiceError."""
    try:
        yield
    except KNOWN as exc:
        mapped = as_service_error(exc)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc
