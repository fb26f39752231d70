"""Errors as RFC 9457 problem details, each with a stable ``code`` clients can branch on.

``problem_for`` is the one mapping from an exception to (status, code, headers): the
exception handlers use it, and so do the streams, which report an error in-band after their
200 is sent, with the same code a plain response would carry.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.answering.answerer import PromptTooLong
from app.core.embedder import IndexMismatch
from app.errors import ServiceError
from app.models.manager import NoActiveModel
from app.models.registry import ModelConflict, ModelNotFound, ModelPathRefused, RegistryError
from app.models.runner import GenerationFailed, ModelLoadError, Overloaded
from app.ratelimit import RateLimited
from app.retrieval.search import NoIndex

ApiError = ServiceError  # what the edge raises itself is the same kind of error


def problem(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": f"about:blank#{code}", "title": code.replace("_", " "), "status": status,
         "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )  # fmt: skip


# Most specific first: ModelNotFound and ModelPathRefused are RegistryErrors too.
_MAPPED: list[tuple[type[Exception], int, str]] = [
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


def problem_for(exc: Exception) -> tuple[int, str, str, dict | None]:
    """(status, code, detail, headers) for any exception; unknown ones are internal errors
    whose detail says nothing of the code inside."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.detail, exc.headers
    if isinstance(exc, Overloaded):
        return 503, "model_busy", str(exc), {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, RateLimited):
        return 429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, RequestValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return 422, "validation_error", "; ".join(parts), None
    if isinstance(exc, StarletteHTTPException):
        code = getattr(exc, "code", None) or {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return exc.status_code, code, str(exc.detail), exc.headers
    for exc_type, status, code in _MAPPED:
        if isinstance(exc, exc_type):
            return status, code, str(exc), None
    return 500, "internal_error", "the service hit an unexpected error", None


def install(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return problem(*problem_for(exc))

    for exc_type in (ApiError, Overloaded, RateLimited, RequestValidationError,
                     StarletteHTTPException, *(t for t, _, _ in _MAPPED)):  # fmt: skip
        app.add_exception_handler(exc_type, handle)
