"""Markdown: sections follow ATX headings (``#`` … ``######``), ignoring fenced code."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    LoadedDocument,
    LoaderBudget,
    Section,
    decode_text,
    nested_sections,
)

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def heading_sections(text: str) -> tuple[list[Section], str | None]:
    """Sections with their heading trail, and the first level-1 heading (or first heading)."""
    headings: list[tuple[int, str]] = []
    in_fence = False

    def heading(line: str) -> tuple[int, str] | None:
        nonlocal in_fence
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\n"))
        if match is None:
            return None
        found = (len(match.group(1)), match.group(2).strip())
        headings.append(found)
        return found

    sections = nested_sections(text, heading)
    title = next((name for level, name in headings if level == 1), None)
    return sections, title or (headings[0][1] if headings else None)


def load_markdown(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    text = decode_text(path, data)
    sections, title = heading_sections(text)
    return LoadedDocument(
        text=text, title=title or path.name, media_type="text/markdown", sections=sections
    )
