"""File -> text + structure. ``load_file`` picks the loader by extension.

Every refusal is a :class:`LoaderError` naming the file and the reason; a loader never
guesses an encoding or swallows a corrupt file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    Attachment,
    LoadedDocument,
    LoaderBudget,
    LoaderError,
    Section,
    decode_text,
)
from ingest.loaders.code import LANGUAGES, load_code
from ingest.loaders.delimited import load_csv
from ingest.loaders.email import load_email
from ingest.loaders.html import load_html
from ingest.loaders.markdown import load_markdown
from ingest.loaders.ocr import load_image
from ingest.loaders.office import load_docx, load_pptx, load_xlsx
from ingest.loaders.pdf import load_pdf
from ingest.loaders.text import load_text

__all__ = [
    "DEFAULT_BUDGET",
    "Attachment",
    "LoaderBudget",
    "LoadedDocument",
    "LoaderError",
    "Section",
    "decode_text",
    "load_bytes",
    "load_file",
    "loader_version",
    "read_checked",
]

Loader = Callable[[Path, bytes], LoadedDocument]

_BY_SUFFIX: dict[str, Loader] = {
    ".txt": load_text, ".text": load_text, ".rst": load_text, ".log": load_text,
    ".md": load_markdown, ".markdown": load_markdown, ".mdx": load_markdown,
    ".html": load_html, ".htm": load_html, ".xhtml": load_html,
    ".pdf": load_pdf,
    ".eml": load_email,
    ".csv": load_csv, ".tsv": load_csv,
    ".docx": load_docx, ".pptx": load_pptx, ".xlsx": load_xlsx,
    ".png": load_image, ".jpg": load_image, ".jpeg": load_image, ".tif": load_image,
    ".tiff": load_image,
    **{suffix: load_code for suffix in LANGUAGES},
}  # fmt: skip


# What each loader extracts, versioned: a stored document read by an older version of its
# loader is read again on the next ingest even though its bytes did not change (the
# pipeline's "unchanged" check compares the file's sha256 and this). Bump a loader's
# number when it starts extracting something it did not before.
LOADER_VERSIONS: dict[Loader, int] = {
    load_pdf: 2,  # 2: OCR of pages with no text layer
    load_html: 2,  # 2: a table row as one line
    load_email: 2,  # 2: attachments ingested as documents of their own
    load_docx: 1,
    load_pptx: 1,
    load_xlsx: 1,
    load_image: 1,
    load_csv: 1,
}


def loader_version(path: Path) -> str:
    """The version of the loader that reads this file, e.g. "load_pdf/2"."""
    loader = _BY_SUFFIX.get(path.suffix.lower(), load_text)
    return f"{loader.__name__}/{LOADER_VERSIONS.get(loader, 1)}"


def check_size(source: str | Path, size: int, max_bytes: int) -> None:
    """The one size rule for an input: not empty, not over ``max_bytes``."""
    if size > max_bytes:
        raise LoaderError(source, f"file too large ({size:,} bytes > limit {max_bytes:,})")
    if size == 0:
        raise LoaderError(source, "empty file (0 bytes)")


def read_checked(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing what is too big or empty before it is read whole."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoaderError(path, f"cannot stat file ({exc.strerror})") from exc
    check_size(path, size, max_bytes)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"cannot read file ({exc.strerror})") from exc


def load_bytes(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    """Parse bytes already read, within ``budget``; unknown extensions are tried as plain
    text. (In-process: the pipeline runs this in its parse worker, which also enforces the
    budget's seconds and a memory limit.)"""
    loader = _BY_SUFFIX.get(path.suffix.lower(), load_text)
    loaded = loader(path, data, budget)
    budget.check_text(path, len(loaded.text))
    return loaded


def load_file(path: Path, max_bytes: int) -> LoadedDocument:
    return load_bytes(path, read_checked(path, max_bytes))
