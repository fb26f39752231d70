"""The service against its own OpenAPI schema (schemathesis): for generated requests, no
response is a 500 and every response conforms to the schema (status codes, content types,
bodies). Auth is on: every case is sent with an admin key, and schemathesis also sends each
without it and checks it is refused. Generation is real (SmolLM2, answers capped at 8
tokens); the long-running admin operation (reindex) is excluded."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from app.core.auth import create_key
from app.main import create_app
from app.service import FactVault
from tests.fixtures import REPO

pytestmark = pytest.mark.slow


SERVICE = {
    "answer_max_tokens": 8,
    "auth_enabled": True,
    "rate_requests_per_minute": 0,
    "allowed_hosts": ["testserver"],  # the name schemathesis' ASGI client sends
}


def _describe(exc: BaseException) -> str:
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(_describe(sub))
    return "\n".join(parts)[:6000]


def _property(strategy, excluded, examples: int, headers: dict[str, str]):
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples on every CI run: a failure reproduces
    )
    def check(case) -> None:
        case.call_and_validate(excluded_checks=excluded, timeout=300, headers=headers)

    return check


def test_api_conforms_to_its_schema(service: FactVault) -> None:
    # Driven by hand rather than by schemathesis' pytest plugin, which does not support the
    # pytest version in use: one Hypothesis run per operation.
    app = create_app(service.settings, service)
    with service.runtime.db.session() as s:
        headers = {"Authorization": f"Bearer {create_key(s, 'fuzz', 'admin')}"}
    failures: list[str] = []
    with TestClient(app):  # runs the lifespan: the app holds the service state
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
            path_regex=r"^/v1/index/reindex$"
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:
            generates = operation.path in ("/v1/query", "/v1/chat/completions")
            # Upload names and multipart framing are checked beyond what OpenAPI can say
            # (".." is refused), so a schema-valid upload may rightly be rejected.
            # Likewise a model: whether a path is a GGUF, or an endpoint answers and serves
            # the registered weights, is only known by trying.
            checked_beyond = (
                "/v1/documents", "/v1/models", "/v1/models/{name}/endpoints",
                "/v1/models/{name}/endpoints/drain",
            )  # fmt: skip
            excluded = [positive_data_acceptance] if operation.path in checked_beyond else []

            examples = 8 if generates else 25
            check = _property(operation.as_strategy(), excluded, examples, headers)
            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # reported together
                failures.append(f"{operation.label}: {_describe(exc)}")
    report = "\n\n".join(failures)
    (REPO / ".pytest_cache").mkdir(exist_ok=True)
    (REPO / ".pytest_cache" / "schemathesis.txt").write_text(report)
    assert failures == [], report
