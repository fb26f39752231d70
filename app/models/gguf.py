"""Reads a GGUF file's metadata (name, context length, chat template) without llama.cpp.

The registry records these when a model is added, so listing models or validating a file
never loads weights. Only the header is parsed; tensors are not touched.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
    10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """Not a GGUF file, or a damaged one."""


@dataclass(frozen=True)
class GGUFInfo:
    architecture: str
    name: str | None
    context_length: int | None
    chat_template: str | None
    metadata: dict[str, Any]


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise GGUFError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    length = _read(fh, "<Q")
    if length > 1 << 26:
        raise GGUFError("implausible string length in GGUF header")
    data = fh.read(length)
    if len(data) != length:
        raise GGUFError("truncated GGUF header")
    return data.decode("utf-8", errors="replace")


def _value(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        return _read(fh, _SCALARS[vtype])
    if vtype == _STRING:
        return _string(fh)
    if vtype == _ARRAY:
        item_type = _read(fh, "<I")
        count = _read(fh, "<Q")
        if item_type in _SCALARS and not keep:
            fh.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
            return None
        items = [_value(fh, item_type, keep) for _ in range(count)]
        return items if keep else None
    raise GGUFError(f"unknown GGUF value type {vtype}")


def read_gguf_info(path: Path) -> GGUFInfo:
    """Small values are kept; big arrays (the vocabulary) are skipped."""
    path = Path(path)
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise GGUFError("not a GGUF file (bad magic)")
        version = _read(fh, "<I")
        if version not in (2, 3):
            raise GGUFError(f"unsupported GGUF version {version}")
        _read(fh, "<Q")  # tensor count
        kv_count = _read(fh, "<Q")
        meta: dict[str, Any] = {}
        for _ in range(kv_count):
            key = _string(fh)
            vtype = _read(fh, "<I")
            keep = not key.startswith("tokenizer.ggml.")
            value = _value(fh, vtype, keep)
            if value is not None:
                meta[key] = value
    arch = str(meta.get("general.architecture", "unknown"))
    ctx = meta.get(f"{arch}.context_length")
    return GGUFInfo(
        architecture=arch,
        name=meta.get("general.name"),
        context_length=int(ctx) if ctx is not None else None,
        chat_template=meta.get("tokenizer.chat_template"),
        metadata=meta,
    )
