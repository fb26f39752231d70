"""BM25 sparse vectors, encoded client-side with Qdrant's own BM25 (``qdrant_edge.Bm25``).

The same encoder serves both backends: Qdrant Edge stores its output directly, and a Qdrant
server receives the same token ids with the IDF modifier applied server-side, so an index
built one way queries the same way on the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import qdrant_edge as qe

_TOKENIZERS = {
    "code": qe.TokenizerType.Code,
    "word": qe.TokenizerType.Word,
    "whitespace": qe.TokenizerType.Whitespace,
    "multilingual": qe.TokenizerType.Multilingual,
}


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


class Bm25Encoder:
    """Tokenizes and weights text for BM25; identical config for indexing and querying."""

    def __init__(
        self, tokenizer: str = "code", k: float = 1.2, b: float = 0.75, avg_len: float = 256.0
    ) -> None:
        if tokenizer not in _TOKENIZERS:
            raise ValueError(f"unknown BM25 tokenizer {tokenizer!r}; one of {sorted(_TOKENIZERS)}")
        self._config = {"tokenizer": tokenizer, "k": k, "b": b, "avg_len": avg_len}
        self._bm25 = qe.Bm25(
            qe.Bm25Config(
                k=k, b=b, avg_len=avg_len, tokenizer=_TOKENIZERS[tokenizer], language="english"
            )
        )

    @property
    def config(self) -> dict[str, Any]:
        """Recorded in the index version so a query is encoded as its index was."""
        return dict(self._config)

    def encode_documents(self, texts: list[str]) -> list[SparseVector]:
        return [self._convert(self._bm25.embed_document(t)) for t in texts]

    def encode_query(self, text: str) -> SparseVector:
        return self._convert(self._bm25.embed_query(text))

    @staticmethod
    def _convert(vec: qe.SparseVector) -> SparseVector:
        return SparseVector(indices=list(vec.indices), values=list(vec.values))
