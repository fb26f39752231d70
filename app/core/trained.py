"""Where a model trained on this corpus lives: one lookup for tuned embedders and rerankers.

Both trainers (app/tuning/) write one folder per result under the data dir, named for the
weights' sha256. ``tuned`` in settings means the newest finished one; ``tuned:<folder>``
means that one, as index versions and answers record it.
"""

from __future__ import annotations

from pathlib import Path


def trained_model_dir(root: Path, name: str, prefix: str, marker: str) -> Path | None:
    """The folder ``name`` means under ``root``, or None when there is none.

    A folder counts only once its ``marker`` file is written (the trainer writes into a
    work folder and renames it, so a half-trained model is never picked).
    """
    if name == "tuned":
        found = sorted(
            (p for p in root.glob(f"{prefix}-*") if (p / marker).is_file()),
            key=lambda p: p.stat().st_mtime,
        )
        return found[-1] if found else None
    path = root / name.split(":", 1)[1]
    return path if (path / marker).is_file() else None
