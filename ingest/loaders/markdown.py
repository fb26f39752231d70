"""Markdown: sections follow ATX headings (``#`` … ``######``), ignoring fenced code."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.loaders.base import LoadedDocument, Section, decode_text

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def heading_sections(text: str) -> tuple[list[Section], str | None]:
    """Sections with their heading trail, and the first level-1 heading (or first heading)."""
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    start = 0
    current: tuple[str, ...] = ()
    title: str | None = None
    first_heading: str | None = None
    in_fence = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\n"))
        if match:
            level, name = len(match.group(1)), match.group(2).strip()
            if offset > start and text[start:offset].strip():
                sections.append(Section(start, offset, current))
            while trail and trail[-1][0] >= level:
                trail.pop()
            trail.append((level, name))
            current = tuple(n for _, n in trail)
            start = offset
            first_heading = first_heading or name
            if level == 1 and title is None:
                title = name
        offset += len(line)
    if text[start:].strip():
        sections.append(Section(start, len(text), current))
    return sections, title or first_heading


def load_markdown(path: Path, data: bytes) -> LoadedDocument:
    text = decode_text(path, data)
    sections, title = heading_sections(text)
    return LoadedDocument(
        text=text, title=title or path.name, media_type="text/markdown", sections=sections
    )
