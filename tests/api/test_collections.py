"""Collections and per-key access through the API: a key limited to some collections never
gets a chunk of another, in retrieval, answers, chat, conversations or document listings;
asking for a forbidden collection is refused (403), not quietly emptied. Real service:
MiniLM, SmolLM2 (the answers' wording is not what is tested), run twice: on SQLite with
Qdrant Edge, and on PostgreSQL with qdrant-client's in-process engine (the server path's
payload index and filter)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.auth import create_key
from app.main import create_app
from app.service import FactVault
from tests.fixtures import LOCAL_URL, fresh_pg_database, make_service

pytestmark = pytest.mark.slow

SALARY = (
    "The salary band for a Senior Optical Engineer is 71,000 to 84,000 pounds (canary QX-7731)."
)
QUESTION = "What is the salary band for a Senior Optical Engineer?"


@pytest.fixture(scope="module", params=["sqlite+edge", "postgres+qdrant-client"])
def env(
    request: pytest.FixtureRequest, tmp_path_factory, minilm, models_dir
) -> Iterator[tuple[FactVault, TestClient, dict]]:
    with ExitStack() as stack:
        stores = {}
        if request.param == "postgres+qdrant-client":
            stores = {"database_url": stack.enter_context(fresh_pg_database()),
                      "qdrant_url": ":memory:"}  # fmt: skip
        root = tmp_path_factory.mktemp("collections")
        state = make_service(root, minilm, models_dir, auth_enabled=True, **stores)
        stack.callback(state.close)
        yield from _env(state, root)


def _env(state: FactVault, root: Path) -> Iterator[tuple[FactVault, TestClient, dict]]:
    hr = root / "hr"
    hr.mkdir()
    (hr / "salary-bands.md").write_text(f"# Salary bands 2026\n\n{SALARY}\n")
    state.ingest_files([("hr/salary-bands.md", hr / "salary-bands.md")], collection="hr")
    with state.runtime.db.session() as s:
        keys = {
            "staff": create_key(s, "staff", "read", ["default"]),
            "hr": create_key(s, "hr", "read", ["hr", "default"]),
            "everything": create_key(s, "everything", "read"),
            "staff-admin": create_key(s, "staff-admin", "admin", ["default"]),
        }
    headers = {name: {"X-API-Key": key} for name, key in keys.items()}
    with TestClient(create_app(state.settings, state), base_url=LOCAL_URL) as client:
        yield state, client, headers


def sources(chunks: list[dict]) -> set[str]:
    return {c["source"] for c in chunks}


def test_retrieval_keeps_to_the_keys_collections(env) -> None:
    _, client, h = env
    body = {"question": QUESTION, "top_k": 10}
    staff = client.post("/v1/retrieve", json=body, headers=h["staff"]).json()["chunks"]
    assert staff and "hr/salary-bands.md" not in sources(staff)
    assert all(c["collection"] == "default" for c in staff)
    hr = client.post("/v1/retrieve", json=body, headers=h["hr"]).json()["chunks"]
    assert hr[0]["source"] == "hr/salary-bands.md" and hr[0]["collection"] == "hr"
    everything = client.post("/v1/retrieve", json=body, headers=h["everything"]).json()
    assert "hr/salary-bands.md" in sources(everything["chunks"])
    only_hr = client.post(
        "/v1/retrieve", json={**body, "filters": {"collections": ["hr"]}}, headers=h["hr"]
    ).json()["chunks"]
    assert sources(only_hr) == {"hr/salary-bands.md"}


def test_asking_for_a_forbidden_collection_is_refused(env) -> None:
    _, client, h = env
    body = {"question": QUESTION, "filters": {"collections": ["hr"]}}
    for path in ("/v1/retrieve", "/v1/query"):
        r = client.post(path, json=body, headers=h["staff"])
        assert r.status_code == 403 and "hr" in r.json()["detail"], r.text


def test_answers_chat_and_conversations_never_cite_a_forbidden_chunk(env) -> None:
    _, client, h = env
    answer = client.post("/v1/query", json={"question": QUESTION}, headers=h["staff"]).json()
    assert "QX-7731" not in answer["answer"] and "71,000" not in answer["answer"]
    assert all(c["collection"] == "default" for c in answer["citations"])
    chat = client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": QUESTION}]},
        headers=h["staff"],
    ).json()
    assert "71,000" not in chat["choices"][0]["message"]["content"]
    assert all(c["collection"] == "default" for c in chat["citations"])
    cid = client.post("/v1/conversations", headers=h["staff"]).json()["id"]
    turn = client.post(
        f"/v1/conversations/{cid}/messages", json={"question": QUESTION}, headers=h["staff"]
    ).json()
    assert all(c["collection"] == "default" for c in turn["citations"])


def test_documents_are_listed_written_and_deleted_within_the_keys_collections(
    env, tmp_path: Path
) -> None:
    state, client, h = env
    listed = client.get("/v1/documents", headers=h["staff-admin"]).json()
    assert listed and {d["collection"] for d in listed} == {"default"}
    hr_doc = next(d for d in state.list_documents() if d.collection == "hr")
    gone = client.delete(f"/v1/documents/{hr_doc.id}", headers=h["staff-admin"])
    assert gone.status_code == 404  # not visible to this key: as if it did not exist
    files = {"files": ("note.md", b"# Note\n\nThe hr team meets on Fridays.\n")}
    refused = client.post("/v1/documents?collection=hr", files=files, headers=h["staff-admin"])
    assert refused.status_code == 403
    stored = client.post("/v1/documents?collection=default", files=files, headers=h["staff-admin"])
    assert stored.status_code == 201 and stored.json()["documents"][0]["collection"] == "default"
    assert any(d.collection == "hr" for d in state.list_documents())  # untouched
