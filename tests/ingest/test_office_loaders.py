"""Word, PowerPoint and Excel files, built here with the same libraries, read back; and
the bad ones (damaged, encrypted, a zip bomb, an empty or oversized sheet) each refused
with the file named and the reason, while the good files beside them still go in."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.loaders import LoaderError, load_bytes
from ingest.loaders.office import MAX_CELL_CHARS, OLE_MAGIC


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Quality manual", level=1)
    d.add_heading("Burn-in", level=2)
    d.add_paragraph("Every instrument is burnt in before calibration.")
    table = d.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows, [("Class", "Burn-in"), ("A", "48 hours"), ("C", "24 hours")], strict=True
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    d.add_heading("Records", level=2)
    d.add_paragraph("Certificates are kept for 10 years.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pptx_bytes() -> bytes:
    import pptx

    deck = pptx.Presentation()
    for title, body, notes in [
        ("Results", "Revenue grew 11%", "Do not share margins."),
        ("Plans", "Open Line 4 by June", "The distributor is Brnoptik in Brno."),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        slide.notes_slide.notes_text_frame.text = notes
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def xlsx_bytes(rows_by_sheet: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in rows_by_sheet.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_word_headings_are_the_trail_and_table_rows_carry_their_header() -> None:
    doc = load_bytes(Path("qm.docx"), docx_bytes())
    assert "Class: C; Burn-in: 24 hours" in doc.text
    start = doc.text.index("Class: C")
    section = next(s for s in doc.sections if s.start <= start < s.end)
    assert section.trail == ("Quality manual", "Burn-in")
    assert any(s.trail == ("Quality manual", "Records") for s in doc.sections)


def test_slides_are_pages_with_their_speaker_notes() -> None:
    doc = load_bytes(Path("deck.pptx"), pptx_bytes())
    assert doc.text.count("Slide 2: Plans") == 1  # the title once, not again as a shape
    notes = doc.text.index("Speaker notes: The distributor is Brnoptik in Brno.")
    section = next(s for s in doc.sections if s.start <= notes < s.end)
    assert section.page == 2 and section.trail == ("Slide 2: Plans",)


def test_every_sheet_row_is_rendered_with_the_header_names() -> None:
    data = xlsx_bytes({
        "Products": [["Code", "Product", "Weight (g)"], ["TQ-4417", "Lumen Pro", 655.0]],
        "Empty": [],
        "Suppliers": [["Code", "Lead time (days)"], ["SUP-113", 21]],
    })  # fmt: skip
    doc = load_bytes(Path("catalogue.xlsx"), data)
    assert "Code: TQ-4417; Product: Lumen Pro; Weight (g): 655" in doc.text
    assert "Code: SUP-113; Lead time (days): 21" in doc.text
    assert [s.trail for s in doc.sections] == [("Sheet Products",), ("Sheet Suppliers",)]


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.docx", b"PK\x03\x04 this is no zip", "damaged zip"),
        ("locked.xlsx", OLE_MAGIC + b"\0" * 512, "password-protected"),
        ("bomb.docx", None, "zip bomb"),
        ("empty.xlsx", None, "no cells with values"),
        ("huge.xlsx", None, "characters"),
        ("notes.pptx", b"plain text, not a deck", "damaged zip"),
    ],
)
def test_bad_office_files_name_the_file_and_reason(
    name: str, data: bytes | None, reason: str
) -> None:
    if name == "bomb.docx":
        data = zip_bomb()
    elif name == "empty.xlsx":
        data = xlsx_bytes({"Sheet1": []})
    elif name == "huge.xlsx":
        # openpyxl itself refuses to write such a cell, so the file is edited after it
        small = xlsx_bytes({"S": [["h"], ["x"]]})
        src, out = zipfile.ZipFile(io.BytesIO(small)), io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                body = src.read(item)
                if item.filename.startswith("xl/worksheets/"):
                    body = body.replace(b">x<", b">" + b"y" * (MAX_CELL_CHARS + 10) + b"<")
                dst.writestr(item, body)
        data = out.getvalue()
    assert data is not None
    with pytest.raises(LoaderError) as err:
        load_bytes(Path(name), data)
    assert err.value.path == name and reason in err.value.reason, err.value.reason
