"""Typed dependencies: the service state and API-key scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from app.api.errors import ApiError
from app.api.state import ServiceState
from app.core.auth import allows, lookup_scope


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


def _require(scope: str):  # noqa: ANN202 - a FastAPI dependency factory
    def check(
        state: StateDep,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> str | None:
        if not state.settings.auth_enabled:
            return None
        key = x_api_key
        if authorization and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        if not key:
            raise ApiError(
                401, "unauthorized", "an API key is required", {"WWW-Authenticate": "Bearer"}
            )
        with state.runtime.db.session() as s:
            granted = lookup_scope(s, key)
        if granted is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API key")
        if not allows(granted, scope):
            raise ApiError(403, "forbidden", f"this key has scope '{granted}'; '{scope}' needed")
        return granted

    return check


ReadScope = Depends(_require("read"))
AdminScope = Depends(_require("admin"))
