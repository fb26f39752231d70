"""Chunk -> a short text situating it in its document, indexed with the chunk.

The prefix is stored apart from the chunk: both are embedded and BM25-indexed together,
but an answer cites only the raw chunk. ``none`` adds nothing; ``structural`` writes a
deterministic header from what the loader knows (title or path, heading trail or enclosing
definition, page, imports for code). The LLM-written form (llm.py) has a local model
write one sentence per chunk, through the SQL cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.core.runtime import Runtime
from ingest.chunking import ChunkDraft
from ingest.loaders.base import LoadedDocument


@dataclass(frozen=True)
class DocumentContext:
    source: str
    document: LoadedDocument
    sha256: str = ""  # of the file's bytes; keys the LLM context cache


class Contextualizer(Protocol):
    """Cheap to construct; whatever it loads (a model) is loaded on first use and released by
    ``close()``, which whoever made it calls."""

    name: str

    def contextualize(self, doc: DocumentContext, chunks: list[ChunkDraft]) -> list[str]: ...

    def close(self) -> None: ...


class NoContext:
    name = "none"

    def contextualize(self, doc: DocumentContext, chunks: list[ChunkDraft]) -> list[str]:
        return ["" for _ in chunks]

    def close(self) -> None:
        """Holds nothing."""


class StructuralContext:
    """A header a person would write on an index card; never longer than a few lines."""

    name = "structural"

    def __init__(self, max_imports: int = 8) -> None:
        self.max_imports = max_imports

    def contextualize(self, doc: DocumentContext, chunks: list[ChunkDraft]) -> list[str]:
        loaded = doc.document
        head: list[str] = []
        if loaded.language:
            head.append(f"File: {doc.source} ({loaded.language})")
            if loaded.imports:
                head.append("Imports: " + "; ".join(loaded.imports[: self.max_imports]))
        else:
            title = loaded.title or doc.source
            head.append(f"Document: {title}" + (f" ({doc.source})" if title != doc.source else ""))
        out = []
        for chunk in chunks:
            lines = list(head)
            if chunk.trail:
                label = "In" if loaded.language else "Section"
                lines.append(f"{label}: " + " > ".join(chunk.trail))
            if chunk.page is not None:
                lines.append(f"Page: {chunk.page}")
            out.append("\n".join(lines))
        return out

    def close(self) -> None:
        """Holds nothing."""


def make_contextualizer(name: str, runtime: Runtime | None = None) -> Contextualizer:
    """``none`` and ``structural`` are built here; the LLM forms need the runtime's settings
    and SQL (their cache) and live with the model code."""
    if name == "none":
        return NoContext()
    if name == "structural":
        return StructuralContext()
    if name in ("llm", "structural+llm"):
        if runtime is None:
            raise ValueError(f"contextualizer {name!r} needs a runtime (settings and SQL)")
        from ingest.contextualize.llm import LlmContextualizer, resolve_context_model

        model = resolve_context_model(runtime.settings, runtime.db, runtime.settings.context_model)
        return LlmContextualizer(
            runtime.settings, runtime.db, model, with_structure=name == "structural+llm"
        )
    raise ValueError(
        f"unknown contextualizer {name!r}: choose none, structural, llm or structural+llm"
    )
