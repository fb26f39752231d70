"""Which embedder a name means: the one place the names in settings become objects."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.config import EMBEDDER_NAMES, Settings, get_settings
from app.core.embedder import E5SmallEmbedder, Embedder, EmbedderUnavailable, MiniLMEmbedder
from app.core.onnx_embedder import MiniLMInt8Embedder, MiniLMOnnxEmbedder
from app.core.trained import trained_model_dir

TUNED_DIR = "tuned"  # under the embedder cache dir: one folder per tuned model


def tuned_name(weights_sha256: str) -> str:
    """A tuned MiniLM's embedder name, as index versions record it."""
    return f"tuned:minilm-{weights_sha256[:12]}"


class TunedEmbedder(MiniLMEmbedder):
    """MiniLM fine-tuned on this corpus (app/tuning/train_embedder.py), from the data dir."""

    def __init__(self, model_dir: Path, **kwargs: object) -> None:
        super().__init__(model_dir=model_dir, **kwargs)  # type: ignore[arg-type]
        self.name = f"tuned:{model_dir.name}"


def check_embedder_name(name: str) -> str:
    """A name ``make_embedder`` knows (raises ValueError naming the choices otherwise)."""
    if name in EMBEDDER_NAMES or re.fullmatch(r"tuned:minilm-[0-9a-f]{12}", name):
        return name
    raise ValueError(
        f"unknown embedder {name!r}: choose {', '.join(EMBEDDER_NAMES)} or tuned:minilm-<id>"
    )


def tuned_dir(name: str, cache_dir: Path) -> Path:
    """The folder of ``tuned`` (the newest tuned model) or ``tuned:minilm-<sha12>``."""
    root = cache_dir / TUNED_DIR
    path = trained_model_dir(root, name, "minilm", "model.safetensors")
    if path is not None:
        return path
    if name == "tuned":
        raise EmbedderUnavailable(
            f"no tuned embedder in {root}: run `factvault tune embedder` first"
        )
    raise EmbedderUnavailable(f"tuned embedder {name!r} is not in {root}")


def make_embedder(
    name: str,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    threads: int | None = None,
    device: str = "cpu",
    backend: str = "onnx",
    export_dir: Path | None = None,
) -> Embedder:
    """``cache_dir``: where an exported model is kept (minilm-int8; the data dir's);
    ``device``: the torch embedder's (a GPU's, where there is one); ``backend``: how
    ``minilm`` runs on a CPU, and ``export_dir`` the machine's cache of its ONNX export."""
    if name == "minilm":
        if backend == "onnx" and device == "cpu":
            export_dir = export_dir or get_settings().onnx_export_dir
            return MiniLMOnnxEmbedder(export_dir, batch_size=batch_size, threads=threads)
        return MiniLMEmbedder(batch_size=batch_size, device=device)
    if name == "minilm-int8":
        if cache_dir is None:
            raise ValueError("embedder 'minilm-int8' needs a cache dir for its exported model")
        return MiniLMInt8Embedder(cache_dir, batch_size=batch_size, threads=threads)
    if name == "e5":
        return E5SmallEmbedder(batch_size=batch_size)
    if name == "tuned" or name.startswith("tuned:"):
        if cache_dir is None:
            raise ValueError("a tuned embedder needs the data dir's embedder cache dir")
        return TunedEmbedder(tuned_dir(name, cache_dir), batch_size=batch_size, device=device)
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
        backend=settings.embedder_backend,
        export_dir=settings.onnx_export_dir,
    )
