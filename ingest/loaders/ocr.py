"""Text from images with Debian's tesseract-ocr: scanned PDF pages, and image files.

Tesseract runs as a process (its command line reads an image on stdin and writes text on
stdout), not through a Python wrapper: no temporary files, and a time limit per image. It
is a system package (`apt-get install tesseract-ocr`, which `make` does); when it is
missing, a file that needs it is refused with that reason and nothing else is affected.
Images are opened with Pillow first, which refuses decompression bombs (more than
Pillow's MAX_IMAGE_PIXELS) before tesseract sees them.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from ingest.loaders.base import DEFAULT_BUDGET, LoadedDocument, LoaderBudget, LoaderError

TESSERACT = "tesseract"
LANGUAGES = "eng"
SECONDS_PER_IMAGE = 120
MISSING = "tesseract-ocr is not installed (apt-get install tesseract-ocr; `make` does it)"


def available() -> bool:
    return shutil.which(TESSERACT) is not None


def png_bytes(source: Path | str, image: object) -> bytes:
    """A Pillow image as PNG bytes (tesseract reads PNG whatever the PDF stored)."""
    buf = io.BytesIO()
    try:
        image.save(buf, format="PNG")  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:
        raise LoaderError(source, f"an image cannot be converted for OCR ({exc})") from exc
    return buf.getvalue()


def read_image(source: Path | str, image: bytes) -> str:
    """The text tesseract reads in one image (PNG, JPEG, TIFF, ...)."""
    if not available():
        raise LoaderError(source, f"needs OCR, but {MISSING}")
    try:
        done = subprocess.run(
            [TESSERACT, "stdin", "stdout", "-l", LANGUAGES],
            input=image,
            capture_output=True,
            timeout=SECONDS_PER_IMAGE,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoaderError(source, f"OCR took longer than {SECONDS_PER_IMAGE} s") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise LoaderError(source, f"OCR failed: {reason[0]}")
    return done.stdout.decode("utf-8", errors="replace").replace("\f", "").strip()


def load_image(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            png = png_bytes(path, image)
    except Image.DecompressionBombError as exc:
        raise LoaderError(path, f"image refused as a decompression bomb ({exc})") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise LoaderError(path, f"not a readable image ({exc})") from exc
    text = read_image(path, png)
    if not text:
        raise LoaderError(path, "OCR found no text in the image")
    return LoadedDocument(text=text + "\n", title=path.name, media_type="image/ocr", sections=[])
