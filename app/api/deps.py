"""Typed dependencies: the service, the caller, and what each route declares.

A route declares the scope it needs (``ReadScope``/``AdminScope``/``OperatorScope``) and,
for uploads, its body budget (``UploadBody``). The guard (guard.py) reads these declarations
from the route and enforces them before the body is read; the dependencies here hand the
routes the caller the guard established. The bearer and X-API-Key parameters publish the two
ways to send a key in the OpenAPI schema (Swagger UI's "Authorize"); the guard has already
checked them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api.problems import ApiError
from app.service import FactVault
from app.service.access import Access


def get_service(request: Request) -> FactVault:
    return request.app.state.service


ServiceDep = Annotated[FactVault, Depends(get_service)]

_bearer = HTTPBearer(auto_error=False, description="an API key from `factvault keys create`")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_caller(request: Request) -> Access:
    caller = request.scope.get("state", {}).get("caller")
    if caller is None:  # only when the app runs without its guard, which create_app never does
        raise ApiError(401, "unauthorized", "an API key is required")
    return caller


CallerDep = Annotated[Access, Depends(get_caller)]


def _require(scope: str) -> Callable[..., Access]:
    def check(
        caller: CallerDep,
        _bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        _header_key: Annotated[str | None, Depends(_api_key_header)],
    ) -> Access:
        caller.require(scope)
        return caller

    check.required_scope = scope  # type: ignore[attr-defined] - read by the guard
    return check


def _upload_body() -> None:
    """Marks a route whose body is an upload: the upload budget applies, not the JSON one."""


_upload_body.body_budget = "upload"  # type: ignore[attr-defined] - read by the guard

ReadScope = Depends(_require("read"))
AdminScope = Depends(_require("admin"))
# The whole installation (models, endpoints, the index): admin, limited to no collection.
OperatorScope = Depends(_require("operator"))
UploadBody = Depends(_upload_body)
