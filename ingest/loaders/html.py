"""HTML: the visible text only, with headings turned into Markdown headings for sectioning."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    LoadedDocument,
    LoaderBudget,
    LoaderError,
    decode_text,
)
from ingest.loaders.markdown import heading_sections

_INVISIBLE = ["script", "style", "noscript", "template", "head", "svg", "iframe", "object"]
_BLOCKS = ["p", "div", "li", "tr", "pre", "blockquote", "section", "article", "br", "table"]


def load_html(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    # Imported on first use: a command that reads no HTML does not pay for bs4.
    from bs4 import BeautifulSoup, Comment

    raw = decode_text(path, data)
    soup = BeautifulSoup(raw, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup(_INVISIBLE):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            name = h.get_text(" ", strip=True)
            h.replace_with(f"\n\n{'#' * level} {name}\n\n" if name else "")
            title = title or (name if level == 1 else None)
    # A table row becomes one line, its cells apart: "Halden Room | 3rd floor | 60".
    # Glued cells ("Halden Room3rd floor60") would be one token to BM25 and to a reader.
    for tr in soup.find_all("tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])]
        if cells:
            tr.replace_with("\n" + " | ".join(cells) + "\n")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    text = re.sub(r"[ \t\xa0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    if not text.strip():
        raise LoaderError(path, "HTML has no visible text")
    sections, first_heading = heading_sections(text)
    return LoadedDocument(
        text=text,
        title=title or first_heading or path.name,
        media_type="text/html",
        sections=sections,
    )
