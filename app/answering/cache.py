"""Answers kept in SQL and found again by what determines them.

The model's weights are frozen and greedy decoding is deterministic, so the answer is a
function of (question, the retrieved chunks' text, the model's sha256, the prompt version,
the evidence and citation settings, the decoding settings). The key hashes exactly those;
an entry is never invalidated, it just stops being found when any of them changes (a
document edited or removed changes the chunks, a swap changes the model's sha256, a new
prompt changes the version). Sampled answers (temperature > 0) are never cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.core.db import AnswerCacheEntry, Database
from app.core.hashing import sha256_text
from app.retrieval.types import RetrievedChunk

log = logging.getLogger("factvault.answers")


def answer_key(
    question: str,
    chunks: Sequence[RetrievedChunk],
    model_sha256: str,
    prompt_version: str,
    settings: dict[str, object],
) -> str:
    """The cache key: everything the answer depends on, and nothing else."""
    parts = {
        "question": " ".join(question.split()),
        "chunks": [
            [c.chunk_id, c.source, c.title, sha256_text(c.context + "\0" + c.text)] for c in chunks
        ],
        "model": model_sha256,
        "prompt": prompt_version,
        "settings": settings,
    }
    return sha256_text(json.dumps(parts, sort_keys=True, default=str))


class AnswerCache:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> dict | None:
        try:
            with self._db.session() as s:
                entry = s.get(AnswerCacheEntry, key)
                return None if entry is None else json.loads(entry.answer)
        except (SQLAlchemyError, ValueError):  # a cache must never fail an answer
            log.exception("answer cache read failed")
            return None

    def put(self, key: str, model_sha256: str, prompt_version: str, answer: object) -> None:
        record = AnswerCacheEntry(
            key=key,
            model_sha256=model_sha256,
            prompt_version=prompt_version,
            answer=json.dumps(asdict(answer)),  # type: ignore[call-overload]
        )
        try:
            with self._db.session() as s:  # commits on leaving
                s.add(record)
        except IntegrityError:
            pass  # another replica cached the same answer first
        except SQLAlchemyError:
            log.exception("answer cache write failed")
