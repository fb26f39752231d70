"""Content hashes: documents, chunks, embedding weights and GGUF models are all known by one.

One place, so the hash a chunk is stored under and the key the LLM context cache looks it up
by can never drift apart.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Of the text's UTF-8 bytes."""
    return sha256_bytes(text.encode())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
