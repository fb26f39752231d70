"""The published OpenAPI schema says what the service really sends: errors are problem
details (application/problem+json, one shape for every status), and the answer endpoints
may stream server-sent events. Checked by schemathesis in tests/reliability."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, for clients to branch on"},
    },
}
ERRORS = {
    "400": "bad request (e.g. an unusable upload name)",
    "401": "missing or unknown API key",
    "403": "the key's scope does not allow this",
    "404": "no such resource",
    "409": "conflicts with the current state (no index yet, a reindex running, ...)",
    "413": "body or file over its byte limit (counted as it arrives)",
    "422": "the request does not validate",
    "429": "this key's request or generated-token rate is used up; see Retry-After",
    "500": "an unexpected error (code internal_error; counted in /metrics)",
    "503": "busy or not ready; retry after the Retry-After header's seconds",
}
SSE_EVENT = {
    "type": "object",
    "description": "one server-sent event; `data` is a JSON document",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
    "required": ["data"],
}
STREAMING = {("/v1/query", "post"), ("/v1/chat/completions", "post")}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for code, description in ERRORS.items():
                    responses[code] = {"description": description, "content": problem}
                if (path, method) in STREAMING:
                    ok = responses.setdefault("200", {"description": "OK"})
                    ok.setdefault("content", {})["text/event-stream"] = {"schema": SSE_EVENT}
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
