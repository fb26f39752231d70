"""Deletion that forgets: a document with a unique canary is ingested, asked about (so the
answer cache and a conversation hold it), then deleted. Afterwards no SQL table, no vector
payload of any index version, no cache and no SQLite file under the data dir holds the
canary, and the same question is declined. Real service: MiniLM, Qwen2.5-Coder-1.5B (the
first answer must quote the canary, or the test proves nothing); on SQLite with Qdrant
Edge, and on PostgreSQL with qdrant-client's in-process engine. (On PostgreSQL the rows
leave every query at once; the server reclaims their pages at its next vacuum.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.answering.prompts import is_idk
from app.service import AskRequest
from tests.fixtures import make_service

pytestmark = pytest.mark.slow

CANARY = "ZQ-58213"
DOC = f"# Vault\n\nThe vault door code of the Ashgrove archive is {CANARY}.\n"
QUESTION = "What is the vault door code of the Ashgrove archive?"


@pytest.mark.parametrize("stores", ["sqlite+edge", "postgres+qdrant-client"])
def test_a_deleted_document_leaves_nothing_behind(
    stores: str, request: pytest.FixtureRequest, tmp_path: Path, minilm, models_dir
) -> None:
    backends = {}
    if stores == "postgres+qdrant-client":
        backends = {
            "database_url": request.getfixturevalue("pg_database"),
            "qdrant_url": ":memory:",
        }
    service = make_service(
        tmp_path, minilm, models_dir, default_model="qwen2.5-coder-1.5b",
        extra={"vault.md": DOC}, **backends,
    )  # fmt: skip
    try:
        first = service.ask(None, AskRequest(QUESTION))
        assert CANARY in first.answer, first.answer
        assert service.ask(None, AskRequest(QUESTION)).cached  # the answer cache holds it now
        conv = service.new_conversation(None)
        turn = service.say(None, conv.id, AskRequest(QUESTION))
        assert CANARY in turn.answer.answer
        doc = next(d for d in service.list_documents() if d.source.endswith("vault.md"))

        receipt = service.remove_document(doc.id)
        assert receipt.sha256 == doc.sha256 and receipt.chunks == doc.chunk_count
        assert sum(receipt.vectors.values()) == doc.chunk_count
        assert receipt.answer_cache >= 1 and receipt.conversation_turns_redacted == 1

        rt = service.runtime
        with rt.db.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    assert CANARY not in str(tuple(row)), table
        active = service.collection()
        assert active is not None
        for point in rt.store.export_points(active):
            assert not point.source.endswith("vault.md")
        kept = service.get_conversation(None, conv.id).turns[0]
        assert CANARY not in kept.answer and CANARY not in kept.prompt
        again = service.ask(None, AskRequest(QUESTION))
        assert CANARY not in again.answer and (is_idk(again.answer) or not again.citations)
        # Every file under the data dir: the SQLite file and its log (secure_delete
        # overwrote the rows, the log was emptied) and the vector store (whose payloads
        # hold ids and the source path, never a chunk's text).
        for path in service.settings.data_dir.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path
    finally:
        service.close()
