"""Which embedder a name means: the one place the names in settings become objects."""

from __future__ import annotations

from pathlib import Path

from app.core.config import EMBEDDER_NAMES, Settings
from app.core.embedder import E5SmallEmbedder, Embedder, MiniLMEmbedder
from app.core.onnx_embedder import MiniLMInt8Embedder


def make_embedder(
    name: str,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    threads: int | None = None,
    device: str = "cpu",
) -> Embedder:
    """``cache_dir``: where an exported model is kept (minilm-int8; the data dir's);
    ``device``: the torch embedder's (a GPU's, where there is one)."""
    if name == "minilm":
        return MiniLMEmbedder(batch_size=batch_size, device=device)
    if name == "minilm-int8":
        if cache_dir is None:
            raise ValueError("embedder 'minilm-int8' needs a cache dir for its exported model")
        return MiniLMInt8Embedder(cache_dir, batch_size=batch_size, threads=threads)
    if name == "e5":
        return E5SmallEmbedder(batch_size=batch_size)
    raise ValueError(f"unknown embedder {name!r}: choose {', '.join(EMBEDDER_NAMES)}")


def embedder_from_settings(name: str, settings: Settings) -> Embedder:
    """``name`` configured as this installation's settings say (batch, cache, threads,
    device): what the runtime and a reindex both make."""
    return make_embedder(
        name,
        batch_size=settings.embed_batch_size,
        cache_dir=settings.embedder_cache_dir,
        threads=settings.torch_threads or None,
        device=settings.embedder_device,
    )
