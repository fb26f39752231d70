"""``llm`` and ``structural+llm`` contextualizers: LLM-written contexts through the SQL cache.

A context is looked up by (document sha256, chunk sha256, model sha256, prompt version)
first; the model is loaded only on the first miss, so re-ingesting, re-indexing or
evaluating from a shipped cache file never pays for a model. The model is the configured
context model, independent of the answering model: swapping the latter changes nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.core.config import Settings
from app.core.db import Database, ModelRecord
from app.core.hashing import sha256_text
from app.models.bundled import BUNDLED, materialize
from app.models.registry import register_bundled
from app.models.runner import load_llama
from ingest.chunking import ChunkDraft
from ingest.context_cache import ContextCache, ContextKey
from ingest.contextualize import DocumentContext, StructuralContext
from ingest.contextualize.writer import ContextWriter, WriterSettings, prompt_version


@dataclass(frozen=True)
class ContextModel:
    name: str
    sha256: str
    path: Callable[[], Path]  # resolved only when the model must actually run


def resolve_context_model(settings: Settings, db: Database, name: str) -> ContextModel:
    """A registered model by name, else a bundled one. A pinned bundled model is used by its
    pinned sha256 without hashing; an unpinned one (SmolLM2 ships whole, nothing pinned) is
    registered like the service does at start-up, so its file is hashed once and remembered."""
    spec = BUNDLED.get(name)
    with db.session() as s:
        record = s.scalar(select(ModelRecord).where(ModelRecord.name == name))
        if record is None and spec is not None and not spec.sha256:
            register_bundled(s, settings.models_dir, [name])
            record = s.scalar(select(ModelRecord).where(ModelRecord.name == name))
        if record is not None:
            path = Path(record.path)
            return ContextModel(name, record.sha256, lambda: path)
    if spec is None or not spec.sha256:
        raise ValueError(
            f"context model {name!r} is neither registered nor bundled "
            f"(bundled: {', '.join(BUNDLED)})"
        )
    return ContextModel(name, spec.sha256, lambda: materialize(spec, settings.models_dir))


@dataclass
class ContextStats:
    cached: int = 0
    written: int = 0
    cpu_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    samples: list[tuple[str, str]] = field(default_factory=list)


class LlmContextualizer:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        model: ContextModel,
        with_structure: bool = True,
        writer_settings: WriterSettings | None = None,
        reuse_prefix: bool = True,
    ) -> None:
        self.name = "structural+llm" if with_structure else "llm"
        self.settings = settings
        self.model = model
        self.cache = ContextCache(db)
        self.structural = StructuralContext() if with_structure else None
        self.writer_settings = writer_settings or WriterSettings(
            style=settings.context_style,
            max_tokens=settings.context_max_tokens,
            window_tokens=settings.context_window_tokens,
        )
        self.prompt_version = prompt_version(self.writer_settings)
        self.reuse_prefix = reuse_prefix
        self.stats = ContextStats()
        self._writer: ContextWriter | None = None

    def writer(self) -> ContextWriter:
        if self._writer is None:
            n_ctx = self.writer_settings.window_tokens + 1024  # + chunk, instructions, reply
            llama = load_llama(str(self.model.path()), n_ctx, self.settings.llm_threads)
            self._writer = ContextWriter(llama, self.writer_settings)
        return self._writer

    def llm_contexts(self, doc: DocumentContext, chunks: list[ChunkDraft]) -> list[str]:
        doc_sha = doc.sha256 or sha256_text(doc.document.text)
        keys = [
            ContextKey(doc_sha, sha256_text(c.text), self.model.sha256, self.prompt_version)
            for c in chunks
        ]
        found = self.cache.get_many(keys)
        self.stats.cached += len(found)
        out = []
        shown: tuple[str, list[int], int] | None = None  # (text, chunk starts, tokens)
        for n, (key, chunk) in enumerate(zip(keys, chunks, strict=True), 1):
            if key in found:
                out.append(found[key])
                continue
            writer = self.writer()
            if shown is None:
                text, starts = writer.document_text(doc.document.text, [c.start for c in chunks])
                shown = (text, starts, writer.count_tokens(text))
            window = writer.window(shown[0], shown[1][n - 1], shown[2])
            written = writer.write(doc.source, window, chunk.text, n, self.reuse_prefix)
            self.cache.put(key, written.text, written.cpu_seconds)
            self.stats.written += 1
            self.stats.cpu_seconds += written.cpu_seconds
            self.stats.prompt_tokens += written.prompt_tokens
            self.stats.completion_tokens += written.completion_tokens
            if len(self.stats.samples) < 5:
                self.stats.samples.append((doc.source, written.text))
            out.append(written.text)
        return out

    def contextualize(self, doc: DocumentContext, chunks: list[ChunkDraft]) -> list[str]:
        llm = self.llm_contexts(doc, chunks)
        if self.structural is None:
            return llm
        head = self.structural.contextualize(doc, chunks)
        return [f"{h}\n{c}" if c else h for h, c in zip(head, llm, strict=True)]

    def close(self) -> None:
        if self._writer is not None:
            close = getattr(self._writer.llama, "close", None)
            if close is not None:
                close()
            self._writer = None
