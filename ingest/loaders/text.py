"""Plain text: one section, title from the first non-blank line if it is short."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders.base import DEFAULT_BUDGET, LoadedDocument, LoaderBudget, decode_text


def load_text(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    text = decode_text(path, data)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    title = first if 0 < len(first) <= 120 else path.name
    return LoadedDocument(text=text, title=title, media_type="text/plain", sections=[])
