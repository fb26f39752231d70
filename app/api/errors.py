"""Errors as RFC 9457 problem details, each with a stable ``code`` clients can branch on."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.index_versions import IndexMismatch
from app.generation.hotswap import NoActiveModel
from app.generation.registry import ModelConflict, ModelNotFound, RegistryError
from app.generation.runner import ModelLoadError, Overloaded
from app.retrieval.search import NoIndex


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def problem(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": f"about:blank#{code}", "title": code.replace("_", " "), "status": status,
         "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )  # fmt: skip


_MAPPED: list[tuple[type[Exception], int, str]] = [
    (NoIndex, 409, "no_index"),
    (IndexMismatch, 409, "index_mismatch"),
    (NoActiveModel, 503, "no_active_model"),
    (ModelNotFound, 404, "model_not_found"),
    (ModelConflict, 409, "model_exists"),
    (RegistryError, 422, "model_rejected"),
    (ModelLoadError, 422, "model_load_failed"),
]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(Overloaded)
    async def _overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return problem(503, "model_busy", str(exc), {"Retry-After": str(exc.retry_after)})

    for exc_type, status, code in _MAPPED:

        async def _handler(_: Request, exc: Exception, status=status, code=code) -> JSONResponse:
            return problem(status, code, str(exc))

        app.add_exception_handler(exc_type, _handler)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return problem(422, "validation_error", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))
