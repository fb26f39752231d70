"""The model registry (SQL): which GGUF files may answer, and which one is active.

Adding a model reads its GGUF header (architecture, context length, chat template) and
hashes the file; activating one re-hashes it, so a file changed on disk since it was
registered is refused: weights are frozen.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.db import ModelRecord
from app.core.hashing import sha256_file
from app.generation.bundled import BUNDLED, BundledModelMissing, materialize
from app.generation.gguf import GGUFError, read_gguf_info


class RegistryError(ValueError):
    """A model that cannot be registered or activated, with the reason."""


class ModelNotFound(RegistryError):
    """No such registered model, or no such file to register (HTTP 404)."""


class ModelConflict(RegistryError):
    """The name is taken (HTTP 409)."""


class ModelPathRefused(RegistryError):
    """A path outside the directories models may be registered from (HTTP 403)."""


def _inside(path: Path, dirs: Sequence[Path]) -> bool:
    return any(path.is_relative_to(Path(d).expanduser().resolve()) for d in dirs)


def register_model(
    session: Session,
    path: Path,
    name: str,
    provenance: str | None = None,
    allowed_dirs: Sequence[Path] | None = None,
) -> ModelRecord:
    """Register the GGUF at ``path``. With ``allowed_dirs`` (the API passes them) only a
    regular file inside one of them is accepted, and errors name no path: a caller learns
    nothing about the server's other files."""
    try:
        path = Path(path).expanduser().resolve()
        info_ = path.stat()
    except (OSError, ValueError) as exc:  # missing, a NUL byte, a name too long
        if allowed_dirs is not None:
            raise ModelNotFound("no such model file in the model directories") from exc
        raise ModelNotFound(f"{str(path)[:200]!r}: no such model file") from exc
    if allowed_dirs is not None and not _inside(path, allowed_dirs):
        raise ModelPathRefused(
            "models can only be registered from the model directories (FACTVAULT_MODEL_DIRS)"
        )
    if not stat.S_ISREG(info_.st_mode) or info_.st_size == 0:
        where = "this path" if allowed_dirs is not None else str(path)
        raise RegistryError(f"{where} is not a regular, non-empty file")
    if session.scalar(select(ModelRecord).where(ModelRecord.name == name)) is not None:
        raise ModelConflict(f"a model named {name!r} is already registered")
    try:
        info = read_gguf_info(path)
    except GGUFError as exc:
        where = path.name if allowed_dirs is not None else str(path)
        raise RegistryError(f"{where}: {exc}") from exc
    record = ModelRecord(
        name=name,
        path=str(path),
        size_bytes=path.stat().st_size,
        sha256=sha256_file(path),
        architecture=info.architecture,
        context_length=info.context_length,
        chat_template=info.chat_template,
        provenance=provenance,
        is_active=False,
    )
    session.add(record)
    session.flush()
    return record


def list_models(session: Session) -> list[ModelRecord]:
    return list(session.scalars(select(ModelRecord).order_by(ModelRecord.id)))


def get_model(session: Session, name: str) -> ModelRecord:
    record = session.scalar(select(ModelRecord).where(ModelRecord.name == name))
    if record is None:
        raise ModelNotFound(f"no model named {name!r} is registered")
    return record


def active_model(session: Session) -> ModelRecord | None:
    return session.scalar(select(ModelRecord).where(ModelRecord.is_active.is_(True)))


def verify_weights(record: ModelRecord) -> None:
    """The file must still be the one registered: same size and sha256."""
    path = Path(record.path)
    if not path.is_file():
        raise RegistryError(f"model {record.name!r}: file {path} is gone")
    if path.stat().st_size != record.size_bytes or sha256_file(path) != record.sha256:
        raise RegistryError(
            f"model {record.name!r}: {path} does not match its registered sha256 "
            f"{record.sha256[:12]}…; refusing to load changed weights"
        )


def mark_active(session: Session, name: str) -> ModelRecord:
    record = get_model(session, name)
    session.execute(update(ModelRecord).values(is_active=False))
    record.is_active = True
    session.flush()
    return record


def register_bundled(
    session: Session, models_dir: Path, names: list[str] | None = None
) -> list[str]:
    """Register the bundled models whose packages are installed; returns the names added."""
    added = []
    for name in names or list(BUNDLED):
        spec = BUNDLED[name]
        if session.scalar(select(ModelRecord).where(ModelRecord.name == name)) is not None:
            continue
        try:
            path = materialize(spec, models_dir)
        except BundledModelMissing:
            if names:  # asked for by name: say why not
                raise
            continue
        provenance = f"{spec.upstream}; {spec.licence}; from {spec.distributions[0]}"
        register_model(session, path, name, provenance=provenance[:512])
        added.append(name)
    return added
