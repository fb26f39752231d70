"""API keys: created once, shown once, stored only as a sha256 hash.

Scopes: ``read`` (query, retrieve, chat) and ``admin`` (also documents and models).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import ApiKey, utcnow

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


def lookup_key(session: Session, key: str) -> tuple[int, str] | None:
    """The key's (id, scope), or None for an unknown or revoked key. Read from SQL on every
    request, so a revocation (from any replica or the CLI) holds from the next request on."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_sha256 == _hash(key)))
    if record is None or record.revoked_at is not None:
        return None
    return record.id, record.scope


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    """Revoke one key, named by its id or its shown prefix (``fv_…``); raises LookupError if
    none or several match."""
    query = select(ApiKey)
    if key_id_or_prefix.isdigit():
        query = query.where(ApiKey.id == int(key_id_or_prefix))
    else:
        query = query.where(ApiKey.prefix == key_id_or_prefix[:10])
    matches = list(session.scalars(query))
    if len(matches) != 1:
        what = "no key" if not matches else f"{len(matches)} keys"
        raise LookupError(f"{what} match {key_id_or_prefix!r}; use the id from `keys list`")
    record = matches[0]
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    session.flush()
    return record


def allows(granted: str, needed: str) -> bool:
    return granted == "admin" or granted == needed
