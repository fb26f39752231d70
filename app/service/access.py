"""Who may read and write what: one object per caller, and the only place the rules live.

A key (app/core/auth.py) has a scope (``read`` or ``admin``) and may be limited to
collections. The guard builds an :class:`Access` from the key before a route runs; the
routes and the service ask it instead of comparing scopes and collection lists themselves.
Three rules:

- ``read`` asks questions and searches; ``admin`` also writes and deletes documents.
- ``operator`` (models, endpoints, keys, reindex: the whole installation) needs an admin
  key limited to no collection.
- A key limited to collections reads and writes only those: a search it asks for another
  collection is refused (not quietly emptied); documents, counts and sources of other
  collections are invisible to it (404, or null totals), and it may not take over a source
  that another collection holds.

With auth off, and for the CLI working on its own data dir, the caller is :data:`EVERYONE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.vectorstore import SearchFilter
from app.errors import ServiceError


@dataclass(frozen=True)
class Access:
    """A caller: its API key's id (None with auth off, or for a token), scope, the
    collections it is limited to (None: every collection), and for an OpenID Connect token
    (app/core/oidc.py) its subject."""

    key_id: int | None
    scope: str
    collections: tuple[str, ...] | None = None
    subject: str | None = None

    @property
    def owner(self) -> int | str | None:
        """Whose conversations and rate limits these are: the key's id, the token's subject
        ("oidc:<sub>"), or None (auth off)."""
        if self.key_id is not None:
            return self.key_id
        return f"oidc:{self.subject}" if self.subject is not None else None

    def allows(self, needed: str) -> bool:
        """Whether this caller may do what needs ``needed`` (read, admin or operator)."""
        if needed == "operator":
            return self.scope == "admin" and self.collections is None
        return self.scope == "admin" or self.scope == needed

    def refusal(self, needed: str) -> str:
        """Why this caller may not do what needs ``needed``, in words."""
        if needed == "operator" and self.scope == "admin":
            return (
                "this admin key is limited to collections; acting on the whole installation "
                "needs an admin key limited to none"
            )
        return f"this key has scope '{self.scope}'; '{needed}' needed"

    def require(self, needed: str) -> None:
        if not self.allows(needed):
            raise ServiceError(403, "forbidden", self.refusal(needed))

    @property
    def operator(self) -> bool:
        return self.allows("operator")

    def sees(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections

    def readable(self, requested: Sequence[str] = ()) -> tuple[str, ...] | None:
        """The collections a search may use: those asked for, each one this caller may
        read (a request for another is refused), else all it may (None: any)."""
        if not requested:
            return self.collections
        denied = sorted(c for c in set(requested) if not self.sees(c))
        if denied:
            raise ServiceError(
                403, "forbidden", f"this key may not read collection(s): {', '.join(denied)}"
            )
        return tuple(dict.fromkeys(requested))

    def search_filter(
        self,
        collections: Sequence[str] = (),
        document_ids: Sequence[int] = (),
        source_prefix: str | None = None,
    ) -> SearchFilter:
        """A search's filter, narrowed to what this caller may read."""
        return SearchFilter(
            document_ids=tuple(document_ids),
            source_prefix=source_prefix,
            collections=self.readable(collections),
        )

    def check_write(self, collection: str) -> None:
        """Refused unless this caller may write documents into ``collection``."""
        self.require("admin")
        if not self.sees(collection):
            raise ServiceError(
                403, "forbidden", f"this key may not write to collection {collection}"
            )

    def check_takeover(self, held_by: str | None) -> None:
        """Refused if the source is stored in a collection this caller lacks (the refusal
        does not say whose it is)."""
        if held_by is not None and not self.sees(held_by):
            raise ServiceError(403, "forbidden", "source: this key may not write that path")


EVERYONE = Access(None, "admin")  # auth off, or the CLI on its own data dir
