"""PDF through pypdf: one section per page so every chunk knows its page number.

A page with no text layer (a scan) is read by OCR from the images it holds (ocr.py);
a page with neither text nor images is blank and left out.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ingest.loaders import ocr
from ingest.loaders.base import DEFAULT_BUDGET, LoadedDocument, LoaderBudget, LoaderError, Section

logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_pdf(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    # Imported on first use: a command that reads no PDF does not pay for pypdf.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise LoaderError(path, "not a PDF (missing %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise LoaderError(path, "encrypted PDF; decrypt it before ingesting")
        pages = [(page.extract_text() or "") for page in reader.pages]
        for number, page in enumerate(reader.pages, start=1):
            if not pages[number - 1].strip():
                pages[number - 1] = _ocr_page(path, number, page)
        meta_title = (reader.metadata.title if reader.metadata else None) or None
    except LoaderError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoaderError(path, f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for number, page_text in enumerate(pages, start=1):
        page_text = page_text.replace("\r\n", "\n").strip()
        if not page_text:
            continue
        if parts:
            parts.append("\n\n")
            offset += 2
        sections.append(Section(offset, offset + len(page_text), (), page=number))
        parts.append(page_text)
        offset += len(page_text)
    text = "".join(parts)
    if not text.strip():
        raise LoaderError(path, "PDF has no text: no text layer, and OCR found none")
    return LoadedDocument(
        text=text,
        title=str(meta_title) if meta_title else path.name,
        media_type="application/pdf",
        sections=sections,
    )


def _ocr_page(path: Path, number: int, page: object) -> str:
    """The text of a scanned page, read from its images ("" for a blank page)."""
    images = list(page.images)  # type: ignore[attr-defined]
    if not images:
        return ""
    source = f"{path} (page {number})"
    texts = [ocr.read_image(source, ocr.png_bytes(source, img.image)) for img in images]
    return "\n".join(t for t in texts if t)
