"""What every loader returns, and the checks every file passes before a loader sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class LoaderError(Exception):
    """A file that cannot be ingested; carries the file and a reason a person can act on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """A stretch of the document text under one heading trail (or one PDF page)."""

    start: int
    end: int
    trail: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class Attachment:
    """A file inside a document (an e-mail's attachment), ingested as a document of its own."""

    name: str  # a safe base name: its extension picks the loader
    data: bytes


@dataclass
class LoadedDocument:
    text: str
    title: str | None
    media_type: str
    sections: list[Section]
    language: str | None = None  # programming language, for source code
    imports: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sections:
            self.sections = [Section(0, len(self.text))]


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text or a clear error: binary and undecodable files are refused, never guessed."""
    if b"\x00" in data[:8192]:
        raise LoaderError(path, "binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoaderError(
            path, f"not valid UTF-8 text (invalid byte at offset {exc.start})"
        ) from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoaderError(path, "empty file (no text)")
    return text


def nested_sections(text: str, boundary: Callable[[str], tuple[int, str] | None]) -> list[Section]:
    """Cut text at the lines ``boundary`` recognises, each with the trail of enclosing ones.

    ``boundary(line)`` returns (depth, label) for a line that opens a section (a heading's
    level, a definition's indentation) or None; an opener closes every open section at the
    same or a deeper depth. Text before the first opener is a section with an empty trail.
    """
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start, current, offset = 0, (), 0
    for line in text.splitlines(keepends=True):
        found = boundary(line)
        if found:
            depth, label = found
            if offset > start and text[start:offset].strip():
                sections.append(Section(start, offset, current))
            while stack and stack[-1][0] >= depth:
                stack.pop()
            stack.append((depth, label))
            current = tuple(name for _, name in stack)
            start = offset
        offset += len(line)
    if text[start:].strip():
        sections.append(Section(start, len(text), current))
    return sections
