"""The operator's SQL-only use cases (app/service/installation.py) on a real SQLite store,
and the one mapping of domain errors to ServiceErrors both Vaults raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import Settings, get_settings
from app.core.conversations import ConversationStore
from app.core.db import Database
from app.errors import ServiceError
from app.models.registry import ModelConflict, ModelNotFound, RegistryError
from app.retrieval.search import NoIndex
from app.service.error_map import as_service_error, as_service_errors
from app.service.installation import Installation


@pytest.fixture
def installation(settings: Settings) -> Installation:
    made = Installation(settings)
    yield made
    made.close()


def test_a_key_is_created_listed_and_revoked(installation: Installation) -> None:
    key = installation.create_key("ops", "admin", ["hr", "legal"])
    assert key.startswith("fv_")
    (row,) = installation.keys()
    assert (row.name, row.scope, row.collections, row.revoked_at) == (
        "ops",
        "admin",
        ("hr", "legal"),
        "",
    )
    assert key.startswith(row.prefix)  # the prefix is shown, never the key
    revoked = installation.revoke_key(row.prefix)
    assert revoked.id == row.id and revoked.revoked_at
    assert installation.keys()[0].revoked_at == revoked.revoked_at


@pytest.mark.parametrize(
    ("scope", "collections", "status", "words"),
    [
        ("root", None, 400, "scope must be one of read, admin"),
        ("read", [], 400, "needs at least one"),
        ("read", ["no spaces"], 400, "collection 'no spaces'"),
    ],
)
def test_a_bad_key_request_says_why(
    installation: Installation, scope: str, collections: list[str] | None, status: int, words: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        installation.create_key("x", scope, collections)
    assert refused.value.status == status and words in refused.value.detail
    assert installation.keys() == []  # nothing half-made


def test_revoking_an_unknown_key_is_404(installation: Installation) -> None:
    with pytest.raises(ServiceError) as refused:
        installation.revoke_key("fv_nosuch")
    assert refused.value.status == 404 and "no key match" in refused.value.detail


def test_a_schema_behind_the_code_is_a_409_naming_the_upgrade(tmp_path: Path) -> None:
    behind = get_settings(data_dir=tmp_path / "fresh", database_url=None, qdrant_url=None)
    installation = Installation(behind)
    with pytest.raises(ServiceError) as refused:
        installation.keys()
    assert refused.value.status == 409 and "factvault db upgrade" in refused.value.detail
    assert installation.upgrade_schema()  # the revision it is now at
    assert installation.keys() == []
    installation.close()


def test_endpoints_of_an_unknown_model_and_a_bad_url(installation: Installation) -> None:
    with pytest.raises(ServiceError) as unknown:
        installation.change_endpoints("nonesuch", "http://127.0.0.1:9", "add")
    assert unknown.value.status == 404 and unknown.value.code == "model_not_found"
    with pytest.raises(ServiceError) as bad:
        installation.change_endpoints("nonesuch", "ftp://x", "add")
    assert bad.value.status == 422
    with pytest.raises(ServiceError) as action:
        installation.change_endpoints("nonesuch", "http://127.0.0.1:9", "remove")
    assert action.value.status == 400 and "add or drain" in action.value.detail


def test_cache_files_that_are_not_there_or_not_caches(
    installation: Installation, tmp_path: Path
) -> None:
    with pytest.raises(ServiceError) as missing:
        installation.import_contexts(tmp_path / "none.jsonl.gz")
    assert missing.value.status == 404 and "none.jsonl.gz" in missing.value.detail
    junk = tmp_path / "junk.jsonl.gz"
    junk.write_text("not gzip")
    with pytest.raises(ServiceError) as bad:
        installation.import_questions(junk)
    assert bad.value.status == 400 and "junk.jsonl.gz" in bad.value.detail
    assert installation.export_contexts(tmp_path / "out.jsonl.gz") == 0


def test_old_conversations_are_purged(installation: Installation, settings: Settings) -> None:
    store = ConversationStore(Database(settings.sql_url))
    store.create(None)
    assert installation.purge_conversations(30) == 0  # new: kept
    assert installation.purge_conversations(0) == 1  # untouched for 0 days: everything
    with pytest.raises(ServiceError) as no_age:
        installation.purge_conversations(None)  # no age and no retention setting
    assert no_age.value.status == 400


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NoIndex("no index yet"), 409, "no_index"),
        (ModelNotFound("no model x"), 404, "model_not_found"),
        (ModelConflict("x is taken"), 409, "model_exists"),
        (RegistryError("bad"), 422, "model_rejected"),
    ],
)
def test_domain_errors_map_to_one_service_error(exc: Exception, status: int, code: str) -> None:
    mapped = as_service_error(exc)
    assert (mapped.status, mapped.code, mapped.detail) == (status, code, str(exc))
    with pytest.raises(ServiceError) as raised, as_service_errors():
        raise exc
    assert raised.value.code == code and raised.value.__cause__ is exc


def test_an_unknown_error_is_not_dressed_up() -> None:
    assert as_service_error(KeyError("x")) is None
    with pytest.raises(KeyError), as_service_errors():
        raise KeyError("x")
