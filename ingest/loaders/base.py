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
class LoaderBudget:
    """What one file may cost to read, checked while it is read (a file over a limit is
    refused with the reason, never half-ingested). A spreadsheet of a million rows fits in
    12 MB, and a mail can nest a thousand levels in a few kB: the byte limit alone does not
    bound the work. ``seconds`` and the parse worker's memory are enforced by the worker
    (ingest/parse_worker.py), the rest by the loaders."""

    rows: int = 100_000  # table rows in a file (all sheets of a workbook together)
    columns: int = 1_000  # columns of one table row
    cells: int = 2_000_000  # table cells in a file
    characters: int = 10_000_000  # characters of extracted text
    depth: int = 20  # nesting: MIME parts inside parts (a mail forwarded in a mail ...)
    seconds: float = 120.0  # to parse one file

    def table(self, path: Path | str, where: str) -> TableBudget:
        """A counter for the rows and cells of a file's tables (``where``: e.g. "sheet")."""
        return TableBudget(self, str(path), where)

    def check_text(self, path: Path | str, length: int) -> None:
        if length > self.characters:
            raise LoaderError(
                path, f"over the loader budget: more than {self.characters:,} characters of "
                "text (FACTVAULT_LOADER_MAX_CHARACTERS)",
            )  # fmt: skip


DEFAULT_BUDGET = LoaderBudget()


@dataclass
class TableBudget:
    """Rows and cells counted as a table is streamed; refuses at the first one over."""

    budget: LoaderBudget
    path: str
    where: str
    rows: int = 0
    cells: int = 0

    def row(self, width: int, label: str = "") -> None:
        self.rows += 1
        self.cells += width
        at = f"{self.where} {label}: " if label else ""
        if width > self.budget.columns:
            raise LoaderError(
                self.path, f"over the loader budget: {at}a row of {width:,} columns (limit "
                f"{self.budget.columns:,}, FACTVAULT_LOADER_MAX_COLUMNS)",
            )  # fmt: skip
        if self.rows > self.budget.rows:
            raise LoaderError(
                self.path, f"over the loader budget: {at}more than {self.budget.rows:,} rows "
                "(FACTVAULT_LOADER_MAX_ROWS)",
            )  # fmt: skip
        if self.cells > self.budget.cells:
            raise LoaderError(
                self.path, f"over the loader budget: {at}more than {self.budget.cells:,} "
                "cells (FACTVAULT_LOADER_MAX_CELLS)",
            )  # fmt: skip


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
