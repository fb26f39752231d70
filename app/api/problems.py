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

from app.errors import ServiceError
from app.service.error_map import KNOWN, as_service_error

ApiError = ServiceError  # what the edge raises itself is the same kind of error


def problem(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": f"about:blank#{code}", "title": code.replace("_", " "), "status": status,
         "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )  # fmt: skip


def problem_for(exc: Exception) -> tuple[int, str, str, dict | None]:
    """(status, code, detail, headers) for any exception; unknown ones are internal errors
    whose detail says nothing of the code inside."""
    mapped = as_service_error(exc)
    if mapped is not None:
        return mapped.status, mapped.code, mapped.detail, mapped.headers
    if isinstance(exc, RequestValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return 422, "validation_error", "; ".join(parts), None
    if isinstance(exc, StarletteHTTPException):
        code = getattr(exc, "code", None) or {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return exc.status_code, code, str(exc.detail), exc.headers
    return 500, "internal_error", "the service hit an unexpected error", None


def install(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return problem(*problem_for(exc))

    for exc_type in (*KNOWN, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exc_type, handle)
