"""API keys: created once, shown once, stored only as a sha256 hash.

Scopes: ``read`` (query, retrieve, chat) and ``admin`` (also documents and models).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import ApiKey

SCOPES = ("read", "admin")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    key = "fv_" + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, prefix=key[:10], key_sha256=_hash(key), scope=scope))
    session.flush()
    return key


def lookup_scope(session: Session, key: str) -> str | None:
    """The key's scope, or None for an unknown or revoked key."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_sha256 == _hash(key)))
    if record is None or record.revoked_at is not None:
        return None
    return record.scope


def allows(granted: str, needed: str) -> bool:
    return granted == "admin" or granted == needed
