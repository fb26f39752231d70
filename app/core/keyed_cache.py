"""A SQL cache of what a local model wrote about a chunk, and its portable file form.

What the model writes depends only on the document, the chunk, the model weights and the
prompt, so rows are keyed by their hashes (never by ids: re-ingesting, moving a file or
rebuilding an index reuses work already paid for). The file form (gzip JSON lines, sorted
so it diffs well in git) lets a run that took an hour on one machine be reused elsewhere,
e.g. by CI evaluating contexts or synthetic questions computed here. Used for LLM chunk
contexts (ingest/context_cache.py) and synthetic questions (app/tuning/questions.py).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import Database

KEY_FIELDS = ("document_sha256", "chunk_sha256", "model_sha256", "prompt_version")


@dataclass(frozen=True)
class CacheKey:
    document_sha256: str
    chunk_sha256: str
    model_sha256: str
    prompt_version: str


V = TypeVar("V")


class KeyedCache(Generic[V]):
    """Rows of ``table`` (a mapped class with the four key columns, ``value`` and
    ``cpu_seconds``)."""

    table: Any
    value: str

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, keys: list[CacheKey]) -> dict[CacheKey, V]:
        """The cached values of ``keys``, whatever models and prompt versions they name
        (one query per model and prompt version among them)."""
        t = self.table
        groups: dict[tuple[str, str], set[str]] = {}
        for k in keys:
            groups.setdefault((k.model_sha256, k.prompt_version), set()).add(k.document_sha256)
        found: dict[CacheKey, V] = {}
        with self.db.session() as s:
            for (model, version), documents in groups.items():
                rows = s.scalars(
                    select(t).where(
                        t.document_sha256.in_(documents),
                        t.model_sha256 == model,
                        t.prompt_version == version,
                    )
                )
                found.update({_key(r): getattr(r, self.value) for r in rows})
        return {k: found[k] for k in keys if k in found}

    def put(self, key: CacheKey, value: V, cpu_seconds: float) -> None:
        """Stored at once, one row per chunk: a crash loses at most the chunk being written."""
        with self.db.session() as s:
            self._merge(s, key, value, cpu_seconds)

    def count(self, model_sha256: str | None = None, prompt_version: str | None = None) -> int:
        t = self.table
        q = select(t.chunk_sha256)
        if model_sha256:
            q = q.where(t.model_sha256 == model_sha256)
        if prompt_version:
            q = q.where(t.prompt_version == prompt_version)
        with self.db.session() as s:
            return len(s.scalars(q).all())

    def export(self, path: Path, model_sha256: str | None = None) -> int:
        """Write every cached row (of one model, if given) sorted, so the file diffs well."""
        t = self.table
        with self.db.session() as s:
            q = select(t)
            if model_sha256:
                q = q.where(t.model_sha256 == model_sha256)
            rows = sorted(
                s.scalars(q).all(),
                key=lambda r: (r.model_sha256, r.document_sha256, r.chunk_sha256),
            )
            lines = [
                json.dumps(
                    {
                        **{f: getattr(r, f) for f in KEY_FIELDS},
                        self.value: getattr(r, self.value),
                        "cpu_seconds": round(r.cpu_seconds, 3),
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
                for r in rows
            ]
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
            fh.write("\n".join(lines) + ("\n" if lines else ""))
        return len(lines)

    def import_file(self, path: Path) -> int:
        """Load a file written by ``export``; a malformed line names the file and line, and
        nothing of the file is stored then."""
        entries = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = CacheKey(*(str(row[f]) for f in KEY_FIELDS))
                    value = self.check(row[self.value])
                    entries.append((key, value, float(row.get("cpu_seconds", 0))))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(
                        f"{path}:{number}: not a {self.table.__tablename__} line ({exc})"
                    ) from exc
        with self.db.session() as s:
            for key, value, seconds in entries:
                self._merge(s, key, value, seconds)
        return len(entries)

    def check(self, value: Any) -> V:
        """A value read from a file, checked for its type (raises ValueError/TypeError)."""
        raise NotImplementedError

    def _merge(self, s: Session, key: CacheKey, value: V, cpu_seconds: float) -> None:
        fields = {f: getattr(key, f) for f in KEY_FIELDS}
        s.merge(self.table(**fields, **{self.value: value}, cpu_seconds=cpu_seconds))


def _key(r: Any) -> CacheKey:
    return CacheKey(r.document_sha256, r.chunk_sha256, r.model_sha256, r.prompt_version)
