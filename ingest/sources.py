"""What goes into an ingest: files found under folders, or bytes under a source name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """One input: a path on disk, or bytes (an upload, an eval corpus) under a source name."""

    source: str
    path: Path
    data: bytes | None = None
    chunks: tuple[str, ...] | None = None  # fixed chunking, e.g. an evaluation corpus
    collection: str = "default"  # who may read it (API keys name their collections)
    parent: str | None = None  # the source it came out of (an e-mail's attachment: the mail)


def discover(paths: Iterable[Path]) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Files under the given paths (hidden files and folders skipped), sorted; and bad paths."""
    files: list[SourceFile] = []
    errors: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            resolved = path.resolve()
            files.append(SourceFile(resolved.as_posix(), resolved))
        elif path.is_dir():
            root = path.resolve()
            for child in sorted(root.rglob("*")):
                rel = child.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not child.is_file():
                    continue
                files.append(SourceFile(child.as_posix(), child))
        else:
            errors.append((str(path), "no such file or directory"))
    unique = {f.source: f for f in files}
    return list(unique.values()), errors
