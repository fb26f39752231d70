"""PDF through pypdf: one section per page so every chunk knows its page number."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ingest.loaders.base import LoadedDocument, LoaderError, Section

logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_pdf(path: Path, data: bytes) -> LoadedDocument:
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
        raise LoaderError(path, "PDF has no extractable text (scanned images need OCR)")
    return LoadedDocument(
        text=text,
        title=str(meta_title) if meta_title else path.name,
        media_type="application/pdf",
        sections=sections,
    )
