"""The SQL cache of LLM-written chunk contexts, and its portable file form.

A context depends only on the document, the chunk, the model weights and the prompt, so it
is keyed by their hashes. The file form (gzip JSON lines) lets a run that took an hour on
one machine be reused elsewhere, e.g. by CI evaluating contexts factvault computed here.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import ChunkContextCache, Database


@dataclass(frozen=True)
class ContextKey:
    document_sha256: str
    chunk_sha256: str
    model_sha256: str
    prompt_version: str


class ContextCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, keys: list[ContextKey]) -> dict[ContextKey, str]:
        """The cached contexts of ``keys``, whatever models and prompt versions they name
        (one query per model and prompt version among them)."""
        groups: dict[tuple[str, str], set[str]] = {}
        for k in keys:
            groups.setdefault((k.model_sha256, k.prompt_version), set()).add(k.document_sha256)
        found: dict[ContextKey, str] = {}
        with self.db.session() as s:
            for (model, version), documents in groups.items():
                rows = s.scalars(
                    select(ChunkContextCache).where(
                        ChunkContextCache.document_sha256.in_(documents),
                        ChunkContextCache.model_sha256 == model,
                        ChunkContextCache.prompt_version == version,
                    )
                )
                found.update({_key(r): r.context for r in rows})
        return {k: found[k] for k in keys if k in found}

    def put(self, key: ContextKey, context: str, cpu_seconds: float) -> None:
        """Stored at once, one row per chunk: a crash loses at most the chunk being written."""
        with self.db.session() as s:
            _merge(s, key, context, cpu_seconds)

    def export(self, path: Path, model_sha256: str | None = None) -> int:
        """Write every cached context (of one model, if given) sorted, so the file diffs well."""
        with self.db.session() as s:
            q = select(ChunkContextCache)
            if model_sha256:
                q = q.where(ChunkContextCache.model_sha256 == model_sha256)
            rows = sorted(
                s.scalars(q).all(),
                key=lambda r: (r.model_sha256, r.document_sha256, r.chunk_sha256),
            )
            lines = [
                json.dumps(
                    {
                        "document_sha256": r.document_sha256,
                        "chunk_sha256": r.chunk_sha256,
                        "model_sha256": r.model_sha256,
                        "prompt_version": r.prompt_version,
                        "context": r.context,
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
        """Load a file written by ``export``; a malformed line names the file and line."""
        entries = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = ContextKey(
                        row["document_sha256"], row["chunk_sha256"],
                        row["model_sha256"], row["prompt_version"],
                    )  # fmt: skip
                    entries.append((key, str(row["context"]), float(row.get("cpu_seconds", 0))))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: not a context cache line ({exc})") from exc
        with self.db.session() as s:
            for key, context, seconds in entries:
                _merge(s, key, context, seconds)
        return len(entries)


def _key(r: ChunkContextCache) -> ContextKey:
    return ContextKey(r.document_sha256, r.chunk_sha256, r.model_sha256, r.prompt_version)


def _merge(s: Session, key: ContextKey, context: str, cpu_seconds: float) -> None:
    s.merge(
        ChunkContextCache(
            document_sha256=key.document_sha256,
            chunk_sha256=key.chunk_sha256,
            model_sha256=key.model_sha256,
            prompt_version=key.prompt_version,
            context=context,
            cpu_seconds=cpu_seconds,
        )
    )
