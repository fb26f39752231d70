"""API keys: created once, shown once, stored only as a sha256 hash.

Scopes: ``read`` (query, retrieve, chat) and ``admin`` (also documents). A key may also be
limited to some collections: it then reads (and, if admin, uploads to and deletes from) only
those; a key with no list sees every collection.

What acts on the whole installation (models and inference endpoints, reindex and rollback,
server paths and totals) needs ``operator``: an admin key limited to no collection. A key
that may manage only some collections' documents must not choose the model that every
collection's evidence is sent to. ``operator`` is a requirement, not a scope a key is
created with, so no stored key changes meaning. The rules themselves are applied in one
place: app/service/access.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import ApiKey, utcnow

SCOPES = ("read", "admin")
COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_collection(name: str) -> str:
    """A collection name, or ValueError saying what a name may hold."""
    if not COLLECTION_NAME.match(name):
        raise ValueError(
            f"collection {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, name: str, scope: str, collections: list[str] | None = None
) -> str:
    """A new key (returned once). ``collections``: the only ones it may see; None: all."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    if collections is not None:
        if not collections:
            raise ValueError("a key limited to collections needs at least one")
        collections = sorted({check_collection(c) for c in collections})
    key = "fv_" + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            name=name,
            prefix=key[:10],
            key_sha256=_hash(key),
            scope=scope,
            collections=collections,
        )  # fmt: skip
    )
    session.flush()
    return key


def lookup_key(session: Session, key: str) -> tuple[int, str, tuple[str, ...] | None] | None:
    """The key's (id, scope, collections or None for all), or None for an unknown or revoked
    key. Read from SQL on every request, so a revocation (from any replica or the CLI)
    holds from the next request on."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_sha256 == _hash(key)))
    if record is None or record.revoked_at is not None:
        return None
    allowed = tuple(record.collections) if record.collections is not None else None
    return record.id, record.scope, allowed


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
