"""Conversations through REST and the real ``openai`` client: a 3-turn conversation whose
2nd and 3rd questions only the history makes answerable, streamed and not; isolation
between two keys; a model swap between turns; deletion and retention. Real service: MiniLM,
Qdrant Edge, SQLite, Qwen2.5-Coder-1.5B (a smaller model cannot rewrite follow-ups)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.core.auth import create_key
from app.core.db import Conversation, ConversationTurn, utcnow
from app.main import create_app
from app.service import FactVault
from tests.fixtures import FLEET_DOC, FLEET_TURNS, LOCAL_URL, LiveServer

pytestmark = pytest.mark.slow


SERVICE = {
    "default_model": "qwen2.5-coder-1.5b",
    "extra": {"fleet.md": FLEET_DOC},
    "auth_enabled": True,
    "answer_cache": False,
}


@pytest.fixture(scope="module")
def keys(service: FactVault) -> dict[str, dict[str, str]]:
    with service.runtime.db.session() as s:
        return {name: {"X-API-Key": create_key(s, name, "read")} for name in ("alice", "bob")}


@pytest.fixture(scope="module")
def client(service: FactVault) -> Iterator[TestClient]:
    with TestClient(create_app(service.settings, service), base_url=LOCAL_URL) as c:
        yield c


def sources(body: dict) -> set[str]:
    return {c["source"] for c in body["citations"]}


def test_three_turns_over_rest_need_the_history(
    client: TestClient, keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = keys["alice"]
    conv = client.post("/v1/conversations", headers=h)
    assert conv.status_code == 201, conv.text
    cid = conv.json()["id"]
    replies = []
    for n, (question, expected) in enumerate(FLEET_TURNS, start=1):
        stream = n == 2  # one turn streamed: the same answer arrives as SSE events
        r = client.post(
            f"/v1/conversations/{cid}/messages", headers=h,
            json={"question": question, "stream": stream},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        if stream:
            events = [e for e in r.text.split("\n\n") if e.strip()]
            done = next(e for e in events if e.startswith("event: done"))
            body = json.loads(done.split("data: ", 1)[1])
            tokens = "".join(
                json.loads(e.split("data: ", 1)[1])["text"]
                for e in events
                if e.startswith("event: token")
            )
            assert tokens.strip() == body["answer"].strip()
        else:
            body = r.json()
        assert body["turn"] == n and body["conversation_id"] == cid
        assert expected in body["answer"].lower().replace(" ", " "), body
        assert any(s.endswith("fleet.md") for s in sources(body)), body
        replies.append(body)
    # The follow-ups were rewritten to stand alone, and named the van for retrieval.
    for body in replies[1:]:
        assert body["rewritten"] and "van" in body["standalone_question"].lower(), body
        assert body["history_turns"] >= 1
    # Each turn extends the last: most of the prompt of turn 3 was already read.
    assert replies[2]["prompt_tokens_reused"] > replies[2]["prompt_tokens_evaluated"], replies[2]
    stored = client.get(f"/v1/conversations/{cid}", headers=h).json()
    assert [t["turn"] for t in stored["turns"]] == [1, 2, 3]
    assert stored["turns"][2]["citations"][0]["chunk_id"]
    assert stored["turns"][1]["model"]["name"] == "qwen2.5-coder-1.5b"
    listed = client.get("/v1/conversations", headers=h).json()["conversations"]
    assert any(c["id"] == cid and c["turns"] == 3 for c in listed)
    # Privacy: no question or answer text in the logs or the metrics.
    metrics = client.get("/metrics").text
    for body in replies:
        for text in (body["question"], body["answer"]):
            assert text not in caplog.text and text not in metrics


def test_a_key_never_sees_another_keys_conversation(client: TestClient, keys) -> None:
    alice, bob = keys["alice"], keys["bob"]
    cid = client.post("/v1/conversations", headers=alice).json()["id"]
    assert client.get(f"/v1/conversations/{cid}", headers=bob).status_code == 404
    assert client.delete(f"/v1/conversations/{cid}", headers=bob).status_code == 404
    r = client.post(
        f"/v1/conversations/{cid}/messages", headers=bob, json={"question": "Hello there?"}
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert cid not in {
        c["id"] for c in client.get("/v1/conversations", headers=bob).json()["conversations"]
    }
    assert client.get(f"/v1/conversations/{cid}", headers=alice).status_code == 200
    assert client.get("/v1/conversations/nope", headers=alice).status_code == 404
    assert client.get("/v1/conversations").status_code == 401


def test_openai_client_three_turn_chat(service: FactVault) -> None:
    openai = pytest.importorskip("openai")
    with service.runtime.db.session() as s:
        key = create_key(s, "openai-client", "read")
    with LiveServer(service) as live:
        client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=key, max_retries=0)
        messages: list[dict[str, str]] = []
        for n, (question, expected) in enumerate(FLEET_TURNS, start=1):
            messages.append({"role": "user", "content": question})
            if n == 3:  # streamed, as chat clients do
                parts = client.chat.completions.create(
                    model="factvault", messages=messages, stream=True
                )
                answer = "".join(p.choices[0].delta.content or "" for p in parts if p.choices)
            else:
                done = client.chat.completions.create(model="factvault", messages=messages)
                answer = done.choices[0].message.content or ""
            assert expected in answer.lower(), (n, answer)
            messages.append({"role": "assistant", "content": answer})


def test_a_swap_between_turns_answers_from_the_stored_history(
    client: TestClient, service: FactVault, keys
) -> None:
    h = keys["alice"]
    cid = client.post("/v1/conversations", headers=h).json()["id"]
    first = client.post(
        f"/v1/conversations/{cid}/messages", headers=h, json={"question": FLEET_TURNS[0][0]}
    ).json()
    assert first["model"]["name"] == "qwen2.5-coder-1.5b"
    service.activate_model("qwen2.5-coder-0.5b")
    try:
        second = client.post(
            f"/v1/conversations/{cid}/messages", headers=h, json={"question": FLEET_TURNS[1][0]}
        ).json()
    finally:
        service.activate_model("qwen2.5-coder-1.5b")
    assert second["model"]["name"] == "qwen2.5-coder-0.5b"
    assert second["history_turns"] == 1  # the new model read turn 1 from the stored text
    assert second["prompt_tokens_reused"] < second["prompt_tokens"] // 2
    turns = client.get(f"/v1/conversations/{cid}", headers=h).json()["turns"]
    assert [t["model"]["name"] for t in turns] == ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]


def test_delete_and_retention_remove_turns_too(client: TestClient, service, keys) -> None:
    h = keys["bob"]
    cid = client.post("/v1/conversations", headers=h).json()["id"]
    service.conversations.add_turn(
        _bob(service), cid, question="q", standalone="q", prompt="p", answer="a",
        citations=[], grounded=True, model_name="m", model_sha256="0" * 64,
        index_version=None, timings={}, prompt_tokens=1, prompt_reused=0, completion_tokens=1,
    )  # fmt: skip
    assert client.delete(f"/v1/conversations/{cid}", headers=h).status_code == 204
    assert client.get(f"/v1/conversations/{cid}", headers=h).status_code == 404
    with service.runtime.db.session() as s:
        assert s.query(ConversationTurn).filter_by(conversation_id=cid).count() == 0
    old = client.post("/v1/conversations", headers=h).json()["id"]
    kept = client.post("/v1/conversations", headers=h).json()["id"]
    with service.runtime.db.session() as s:
        s.get(Conversation, old).updated_at = utcnow() - timedelta(days=40)
    assert service.purge_conversations(older_than_days=30) >= 1
    assert client.get(f"/v1/conversations/{old}", headers=h).status_code == 404
    assert client.get(f"/v1/conversations/{kept}", headers=h).status_code == 200


def _bob(service: FactVault) -> int:
    from app.core.db import ApiKey

    with service.runtime.db.session() as s:
        return s.query(ApiKey).filter_by(name="bob").one().id


def test_factvault_chat_in_a_pseudo_terminal(service: FactVault) -> None:
    """`factvault chat` typed at a terminal, through the running service."""
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    with service.runtime.db.session() as s:
        key = create_key(s, "terminal", "read")
    with LiveServer(service) as live:
        env = {
            **os.environ,
            "FACTVAULT_DATA_DIR": str(service.settings.data_dir),
            "FACTVAULT_PORT": str(live.port),
            "FACTVAULT_API_KEY": key,
            "COLUMNS": "200",
        }
        child = pexpect.spawn(
            sys.executable, ["-m", "app.cli", "chat"], env=env, encoding="utf-8", timeout=180
        )
        try:
            child.expect("/quit")
            for question, expected in FLEET_TURNS:
                child.expect("you>")
                child.sendline(question)
                child.expect("model: ")  # the answer is printed above its model line
                assert expected in child.before.lower(), child.before
            child.expect("you>")
            child.sendline("/new")
            child.expect(r"\(new conversation\)")
            child.expect("you>")
            child.sendline("/quit")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        assert child.exitstatus == 0
    with service.runtime.db.session() as s:
        from app.core.db import ApiKey

        owner = s.query(ApiKey).filter_by(name="terminal").one().id
    listed = service.list_conversations(owner)
    assert sorted(c.turns for c in listed) == [0, 3]
