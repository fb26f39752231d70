"""Second-stage reranking of fused candidates.

The cookbook's best row reranks with Cohere's hosted model; here nothing may leave the
machine and no reranker with shipped weights was found on PyPI, so the default is ``none``
(measured alternatives are in bench/results/retrieval.md). A team that has a cross-encoder
on disk (a sentence-transformers directory, e.g. ms-marco-MiniLM) points
``FACTVAULT_RERANKER=cross-encoder`` and ``FACTVAULT_RERANKER_PATH`` at it: it is loaded
from that directory only, never downloaded.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from app.retrieval.types import RetrievedChunk


class RerankerUnavailable(RuntimeError):
    pass


class Reranker(Protocol):
    """Light to construct; ``warm_up()`` loads what it needs (``rerank`` does on first use),
    ``close()`` releases it."""

    name: str

    def warm_up(self) -> None: ...

    def rerank(
        self, question: str, hits: list[RetrievedChunk], top_k: int
    ) -> list[RetrievedChunk]: ...

    def close(self) -> None: ...


class NoReranker:
    name = "none"

    def warm_up(self) -> None:
        """Nothing to load."""

    def rerank(self, question: str, hits: list[RetrievedChunk], top_k: int) -> list[RetrievedChunk]:
        return hits[:top_k]

    def close(self) -> None:
        """Holds nothing."""


class CrossEncoderReranker:
    """Scores (question, context + chunk) pairs with a local cross-encoder; stable on ties."""

    name = "cross-encoder"

    def __init__(self, path: Path, batch_size: int = 16) -> None:
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise RerankerUnavailable(
                f"{self.path}: not a cross-encoder model directory (no config.json); "
                "factvault never downloads one"
            )
        self.batch_size = batch_size
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(str(self.path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise RerankerUnavailable(f"{self.path}: cannot load a cross-encoder: {exc}") from exc

    def close(self) -> None:
        self._model = None

    def scores(self, question: str, hits: list[RetrievedChunk]) -> list[float]:
        self.warm_up()
        pairs = [(question, f"{h.context}\n{h.text}".strip()) for h in hits]
        return [float(s) for s in self._model.predict(pairs, batch_size=self.batch_size)]

    def rerank(self, question: str, hits: list[RetrievedChunk], top_k: int) -> list[RetrievedChunk]:
        if not hits:
            return []
        scored = sorted(
            zip(self.scores(question, hits), range(len(hits)), hits, strict=True),
            key=lambda t: (-t[0], t[1]),
        )
        return [replace(h, score=s) for s, _, h in scored[:top_k]]


def make_reranker(name: str, path: Path | None = None) -> Reranker:
    if name == "none":
        return NoReranker()
    if name == "cross-encoder":
        if path is None:
            raise RerankerUnavailable("reranker 'cross-encoder' needs FACTVAULT_RERANKER_PATH")
        return CrossEncoderReranker(path)
    raise ValueError(f"unknown reranker {name!r}: choose 'none' or 'cross-encoder'")
