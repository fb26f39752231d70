"""Byte writers for the formats a generated share uses beyond plain text: PDF with a text
layer, PDF scanned (pixels only), Word, PowerPoint, Excel and e-mail with attachments.

Every writer is deterministic: the same content gives the same bytes. Office files are ZIP
archives whose entries carry the time they were written, and their core properties the
time of creation, so both are pinned; a PDF from Pillow carries creation dates, a MIME
message a random boundary: pinned too. The libraries are the ones the loaders read with
(python-docx, python-pptx, openpyxl, Pillow, the standard library's email), so a file
that writes here is one the loaders were built for.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

# Every generated document claims this moment of creation.
PINNED = datetime(2026, 1, 5, 9, 0, 0)
_ZIP_TIME = (2026, 1, 5, 9, 0, 0)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_text(pages: list[list[str]], title: str | None = None, bomb_bytes: int = 0) -> bytes:
    """A PDF with a real text layer, one page per list of lines, Helvetica 11pt.

    Written by hand (xref, fonts, text operators) rather than by a PDF library so that what
    pypdf must parse is exactly what is here. Text must be Latin-1. ``bomb_bytes`` > 0 pads
    each page's content stream with that many spaces and Flate-compresses it: a
    decompression bomb, for the hostile-file tests and benchmark.
    """
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # placeholder, filled once the pages object exists
    pages_obj = add("")
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               "/Encoding /WinAnsiEncoding >>")  # fmt: skip
    page_ids = []
    for lines in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        if bomb_bytes:
            stream = zlib.compress(stream + b" " * bomb_bytes, 9)
            head = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
        else:
            head = b"<< /Length %d >>\nstream\n" % len(stream)
        content = add(head + stream + b"\nendstream")
        page_ids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects[pages_obj - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    info = add(f"<< /Title ({_escape(title)}) >>") if title else None

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root {catalog} 0 R"
    if info:
        trailer += f" /Info {info} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_scanned(pages: list[list[str]]) -> bytes:
    """A PDF of page images and no text layer, as a scanner makes it: readable only by
    OCR. Large type on a white page, so tesseract reads it back reliably."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=44)
    images = []
    for lines in pages:
        page = Image.new("L", (1700, 2200), 255)
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines):
            draw.text((120, 150 + 80 * i), line, fill=0, font=font)
        images.append(page)
    stamp = time.struct_time((2026, 1, 5, 9, 0, 0, 0, 5, 0))
    buf = io.BytesIO()
    images[0].save(
        buf, format="PDF", save_all=True, append_images=images[1:], resolution=200.0,
        creationDate=stamp, modDate=stamp,
    )  # fmt: skip
    return buf.getvalue()


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def pinned_zip(data: bytes) -> bytes:
    """The same ZIP archive with every entry's time set to PINNED and the core properties'
    modification time too (Office writers stamp the time of writing; openpyxl does so
    whatever the workbook's properties say), entries kept in their order."""
    stamp = PINNED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", body)
            dst.writestr(entry, body)
    return out.getvalue()


def _pin_core(props: Any) -> None:
    """``props``: python-docx's or python-pptx's CoreProperties."""
    props.author = "generated share"
    props.last_modified_by = "generated share"
    props.created = PINNED
    props.modified = PINNED
    props.revision = 1


def docx(blocks: list[tuple[str, object]]) -> bytes:
    """A Word document from blocks: ("h1"|"h2", text), ("p", text) or ("table", rows), the
    first row of a table its header."""
    from docx import Document

    doc = Document()
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            doc.add_heading(str(value), level=int(kind[1]))
        elif kind == "p":
            doc.add_paragraph(str(value))
        elif kind == "table":
            rows = list(value)  # type: ignore[call-overload]
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = str(cell)
        else:
            raise ValueError(f"docx block kind {kind!r}: use h1, h2, p or table")
    _pin_core(doc.core_properties)
    buf = io.BytesIO()
    doc.save(buf)
    return pinned_zip(buf.getvalue())


def pptx(slides: list[tuple[str, list[str], str]]) -> bytes:
    """A presentation, one (title, bullet lines, speaker notes) per slide."""
    from pptx import Presentation

    prs = Presentation()
    layout = prs.slide_layouts[1]  # title and content
    for title, bullets, notes in slides:
        slide = prs.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for line in bullets[1:]:
            body.add_paragraph().text = line
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    _pin_core(prs.core_properties)
    buf = io.BytesIO()
    prs.save(buf)
    return pinned_zip(buf.getvalue())


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with one sheet per entry, the first row of each its header."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.properties.creator = "generated share"
    wb.properties.created = PINNED
    wb.properties.modified = PINNED
    wb.properties.lastModifiedBy = "generated share"
    buf = io.BytesIO()
    wb.save(buf)
    return pinned_zip(buf.getvalue())


def eml(
    sender: str,
    to: str,
    subject: str,
    date: str,
    body: str,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    """An RFC 822 message, its body quoted-printable UTF-8, with (name, MIME type, bytes)
    attachments; the boundary and Message-ID are derived from the content, not random."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = f"<{zlib.crc32((subject + date).encode()):08x}@{sender.split('@')[-1]}>"
    msg.set_content(body, cte="quoted-printable")
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if attachments:
        msg.set_boundary(f"=_part_{zlib.crc32(body.encode()):08x}")
    return msg.as_bytes()
