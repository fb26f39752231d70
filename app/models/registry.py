"""The model registry (SQL): which GGUF files may answer, and which one is active.

Adding a model reads its GGUF header (architecture, context length, chat template) and
hashes the file; activating one re-hashes it, so a file changed on disk since it was
registered is refused: weights are frozen.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.db import ModelRecord
from app.core.hashing import sha256_file
from app.models.bundled import BUNDLED, BundledModelMissing, materialize
from app.models.gguf import GGUFError, read_gguf_info


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


def checked_model_path(path: Path, allowed_dirs: Sequence[Path] | None = None) -> Path:
    """The resolved path of a model file that may be registered. With ``allowed_dirs`` (the
    API passes them) only a regular file inside one of them is accepted, and errors name
    no path: a caller learns nothing about the server's other files."""
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
    return path


def register_model(
    session: Session,
    path: Path,
    name: str,
    provenance: str | None = None,
    allowed_dirs: Sequence[Path] | None = None,
) -> ModelRecord:
    """Register the GGUF at ``path`` (checked by ``checked_model_path``)."""
    path = checked_model_path(path, allowed_dirs)
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


MAX_ENDPOINTS = 16


def check_endpoint(url: str) -> str:
    """An inference endpoint's base URL (http or https, a host, nothing else), normalised."""
    try:
        parts = urlsplit(url.strip())
        host, _ = parts.hostname, parts.port  # both parse (and may refuse) the netloc
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket, a port that is no number
        raise RegistryError(f"endpoint {url[:200]!r}: not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise RegistryError(f"endpoint {url[:200]!r}: an http(s) URL with a host is needed")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise RegistryError(f"endpoint {url[:200]!r}: no credentials, query or fragment")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):  # the base is wanted; /v1/... is added per call
        path = path[:-3]
    return f"{parts.scheme}://{parts.netloc}{path}"


def register_remote(
    session: Session,
    name: str,
    endpoints: Sequence[str],
    fingerprint: dict,
    path: Path | None = None,
    context_length: int | None = None,
    provenance: str | None = None,
) -> ModelRecord:
    """Register a model served by inference endpoints. With the GGUF ``path`` here, its
    sha256 and header are recorded and the fingerprint was computed from it; without, the
    model's identity is its fingerprint (taken from a first trusted endpoint). The
    provenance says where the fingerprint came from unless given."""
    provenance = provenance or f"inference endpoints; fingerprint {fingerprint['source']}"[:512]
    if not endpoints or len(endpoints) > MAX_ENDPOINTS:
        raise RegistryError(f"between 1 and {MAX_ENDPOINTS} endpoints are needed")
    urls = list(dict.fromkeys(check_endpoint(u) for u in endpoints))
    if session.scalar(select(ModelRecord).where(ModelRecord.name == name)) is not None:
        raise ModelConflict(f"a model named {name!r} is already registered")
    if path is not None:
        record = register_model(session, path, name, provenance=provenance)
        record.endpoints, record.fingerprint = urls, fingerprint
        session.flush()
        return record
    identity = json.dumps(fingerprint["probes"], sort_keys=True).encode()
    record = ModelRecord(
        name=name,
        path="",
        size_bytes=0,
        sha256=hashlib.sha256(identity).hexdigest(),
        architecture="remote",
        context_length=context_length,
        provenance=provenance,
        is_active=False,
        endpoints=urls,
        fingerprint=fingerprint,
    )
    session.add(record)
    session.flush()
    return record


def set_endpoints(session: Session, name: str, endpoints: Sequence[str]) -> ModelRecord:
    record = get_model(session, name)
    if not record.endpoints:
        raise RegistryError(f"model {name!r} runs in-process; it has no endpoints")
    record.endpoints = list(endpoints)
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
    """The file must still be the one registered: same size and sha256. (A model served only
    by endpoints has no file here: its endpoints are attested instead, remote.py.)"""
    if not record.path and record.endpoints:
        return
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
