"""Scanned PDFs and images read by tesseract-ocr (a system package; these tests skip, with
the reason, where it is not installed — `make test` installs it)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ingest.loaders import LoaderError, load_bytes, load_file, ocr
from tests.fixtures import SHARED

needs_tesseract = pytest.mark.skipif(
    not ocr.available(), reason="tesseract-ocr is not installed (make ocr installs it)"
)
SCAN = SHARED / "eval" / "answers" / "corpus" / "kelderby-fire-notice-scan.pdf"


def scanned(lines: list[str], fmt: str = "PDF") -> bytes:
    """A page of text as pixels only, the way a scanner makes it."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1700, 400 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((120, 150 + 90 * i), line, fill=0, font=font)
    buf = io.BytesIO()
    page.save(buf, format=fmt)
    return buf.getvalue()


@needs_tesseract
def test_a_scanned_pdf_page_is_read_with_its_page_number() -> None:
    data = scanned(["Fire assembly point: car park C", "Wardens meet at gate 4"])
    doc = load_bytes(Path("notice.pdf"), data)
    assert "assembly point" in doc.text.lower() and "gate 4" in doc.text.lower()
    assert doc.sections[0].page == 1


@needs_tesseract
def test_an_image_file_is_read() -> None:
    doc = load_bytes(Path("whiteboard.png"), scanned(["Standup moved to 10:15"], "PNG"))
    assert "10:15" in doc.text


@needs_tesseract
def test_an_image_without_text_and_a_broken_image_are_refused_by_name() -> None:
    with pytest.raises(LoaderError, match="no text"):
        load_bytes(Path("blank.png"), scanned([], "PNG"))
    with pytest.raises(LoaderError) as err:
        load_bytes(Path("broken.jpg"), b"\xff\xd8\xff\xe0 not really a jpeg")
    assert err.value.path == "broken.jpg" and "not a readable image" in err.value.reason


def test_without_tesseract_a_scan_is_refused_with_the_reason(monkeypatch) -> None:
    monkeypatch.setattr(ocr, "TESSERACT", "tesseract-that-is-not-installed")
    with pytest.raises(LoaderError) as err:
        load_bytes(Path("notice.pdf"), scanned(["Anything"]))
    assert "tesseract-ocr is not installed" in err.value.reason
    assert "notice.pdf (page 1)" in err.value.path


@needs_tesseract
@pytest.mark.skipif(not SCAN.exists(), reason="../shared/eval/answers is not present")
def test_the_dev_sets_scanned_notice_yields_every_ocr_answer() -> None:
    doc = load_file(SCAN, 50 * 2**20)
    text = doc.text.lower()
    questions = SCAN.parents[1] / "questions.jsonl"
    for line in questions.read_text().splitlines():
        item = json.loads(line)
        if item["kind"] == "ocr":
            assert any(a in text for a in item["answer_any"]), item["id"]
            assert all(a in text for a in item["answer_all"]), item["id"]
    assert {s.page for s in doc.sections} == {1, 2}
