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

from app.core.trained import trained_model_dir
from app.retrieval.types import RetrievedChunk

TUNED_RERANKERS = "tuned"  # under the data dir's reranker folder: one per trained model


class RerankerUnavailable(RuntimeError):
    pass


def rerank_text(context: str, text: str) -> str:
    """What a cross-encoder reads of a chunk (and what a tuned one was trained on)."""
    return f"{context}\n{text}".strip()


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
        pairs = [(question, rerank_text(h.context, h.text)) for h in hits]
        return [float(s) for s in self._model.predict(pairs, batch_size=self.batch_size)]

    def rerank(self, question: str, hits: list[RetrievedChunk], top_k: int) -> list[RetrievedChunk]:
        if not hits:
            return []
        scored = sorted(
            zip(self.scores(question, hits), range(len(hits)), hits, strict=True),
            key=lambda t: (-t[0], t[1]),
        )
        return [replace(h, score=s) for s, _, h in scored[:top_k]]


def make_reranker(name: str, path: Path | None = None, cache_dir: Path | None = None) -> Reranker:
    """``cache_dir``: the data dir's reranker folder, where ``tuned`` ones are trained."""
    if name == "none":
        return NoReranker()
    if name == "cross-encoder":
        if path is None:
            raise RerankerUnavailable("reranker 'cross-encoder' needs FACTVAULT_RERANKER_PATH")
        return CrossEncoderReranker(path)
    if name == "tuned" or name.startswith("tuned:"):
        if cache_dir is None:
            raise RerankerUnavailable(f"reranker {name!r} needs the data dir's reranker folder")
        return CrossEncoderReranker(tuned_reranker_dir(name, cache_dir))
    raise ValueError(f"unknown reranker {name!r}: choose 'none', 'cross-encoder' or 'tuned'")


def tuned_reranker_dir(name: str, cache_dir: Path) -> Path:
    """``tuned``: the newest trained here; ``tuned:minilm-ce-<sha12>``: that one."""
    root = cache_dir / TUNED_RERANKERS
    path = trained_model_dir(root, name, "minilm-ce", "config.json")
    if path is not None:
        return path
    if name == "tuned":
        raise RerankerUnavailable(
            f"no tuned reranker in {root}: run `factvault tune reranker` first"
        )
    raise RerankerUnavailable(f"tuned reranker {name!r} is not in {root}")
