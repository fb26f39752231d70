"""Office Open XML files: Word (.docx), PowerPoint (.pptx) and Excel (.xlsx).

Each is read with the library made for it (python-docx, python-pptx, openpyxl) into text a
reader and a small model can use on its own, line by line:

- Word: paragraphs in order; a heading opens a section (its trail is the heading path);
  a table is rendered row by row, each cell named by its column header ("Class: C;
  Burn-in: 24 hours"), so a row is understood without the header line above it.
- PowerPoint: one section per slide (the slide number is its page): the title, the text
  of every shape and table, then the speaker notes, which often hold what the slide omits.
- Excel: one section per sheet; the first row with values is the header and every later
  row is rendered with the header names, as Word tables are.

These files are zip archives, so before any library opens one, the archive is checked:
a damaged zip, an encrypted file (Office encrypts into an OLE container, not a zip) and a
zip bomb (more than ``MAX_UNZIPPED_BYTES`` once inflated, or a suspicious inflation
ratio) are refused with the reason, as is a cell longer than Excel itself allows.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from ingest.loaders.base import DEFAULT_BUDGET, LoadedDocument, LoaderBudget, LoaderError, Section

MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed; real Office files stay far below
MAX_CELL_CHARS = 32_767  # Excel's own limit on a cell
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .doc/.xls/.ppt


def check_archive(path: Path, data: bytes, kind: str) -> io.BytesIO:
    """The file as a stream a library may open, once it is known to be a sane zip."""
    if data.startswith(OLE_MAGIC):
        raise LoaderError(
            path,
            f"password-protected or old binary {kind} file (OLE container): save it "
            f"unprotected as {path.suffix.lower()}",
        )
    stream = io.BytesIO(data)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise LoaderError(path, f"not a valid {kind} file (damaged zip archive: {exc})") from exc
    inflated = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if inflated > MAX_UNZIPPED_BYTES or inflated / packed > MAX_RATIO:
        raise LoaderError(
            path,
            f"refused as a zip bomb: {inflated:,} bytes once unpacked from {packed:,} "
            f"(limits: {MAX_UNZIPPED_BYTES:,} bytes, ratio {MAX_RATIO})",
        )
    stream.seek(0)
    return stream


class TextBuilder:
    """Text built line by line, with sections opened by headings (depth 1 = top)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.sections: list[Section] = []
        self._trail: tuple[str, ...] = ()
        self._page: int | None = None
        self._start = 0

    def _close(self) -> None:
        if self.length > self._start:
            self.sections.append(Section(self._start, self.length, self._trail, self._page))
        self._start = self.length

    def open(self, depth: int, label: str, page: int | None = None) -> None:
        self._close()
        self._trail = (*self._trail[: depth - 1], label)
        self._page = page

    def line(self, text: str) -> None:
        text = text.strip()
        if text:
            self.parts.append(text + "\n")
            self.length += len(text) + 1

    def blank(self) -> None:
        if self.parts and self.parts[-1] != "\n":
            self.parts.append("\n")
            self.length += 1

    def document(self, path: Path, title: str | None, media_type: str) -> LoadedDocument:
        self._close()
        text = "".join(self.parts)
        if not text.strip():
            raise LoaderError(path, "no text in the file")
        return LoadedDocument(text=text, title=title, media_type=media_type, sections=self.sections)


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if value is not None else ""


def table_rows(rows: Iterable[list[str]]) -> list[str]:
    """Rows rendered with their column names: the first row with text is the header."""
    out: list[str] = []
    header: list[str] | None = None
    for cells in rows:
        if not any(cells):
            continue
        if header is None:
            header = cells
            out.append(" | ".join(c for c in cells if c))
            continue
        named = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=False) if c]
        named += [c for c in cells[len(header) :] if c]
        out.append("; ".join(named))
    return out


# -- Word --------------------------------------------------------------------------------


def _heading_depth(style_name: str) -> int | None:
    if style_name == "Title":
        return 1
    if style_name.startswith("Heading "):
        level = style_name.removeprefix("Heading ").strip()
        return int(level) if level.isdigit() else None
    return None


def load_docx(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    import docx
    from docx.table import Table

    stream = check_archive(path, data, "Word")
    try:
        document = docx.Document(stream)
    except Exception as exc:  # python-docx raises several kinds on a broken package
        raise LoaderError(path, f"not a readable Word document ({exc})") from exc
    out = TextBuilder()
    tables = budget.table(path, "table")
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                rows.append([_cell(c.text) for c in row.cells])
                tables.row(len(rows[-1]))
            out.blank()
            for line in table_rows(rows):
                out.line(line)
            out.blank()
            continue
        text = block.text.strip()
        if not text:
            continue
        depth = _heading_depth(block.style.name if block.style is not None else "")
        if depth is not None:
            out.open(depth, text)
            out.blank()
        out.line(text)
    title = (document.core_properties.title or "").strip() or None
    if title is None:
        title = next((s.trail[0] for s in out.sections if s.trail), None)
    media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return out.document(path, title or path.name, media)


# -- PowerPoint --------------------------------------------------------------------------


def _shape_lines(shape: object) -> list[str]:
    lines: list[str] = []
    if getattr(shape, "has_text_frame", False):
        for paragraph in shape.text_frame.paragraphs:  # type: ignore[attr-defined]
            lines.append("".join(run.text for run in paragraph.runs))
    if getattr(shape, "has_table", False):
        rows = [[_cell(c.text) for c in row.cells] for row in shape.table.rows]  # type: ignore[attr-defined]
        lines.extend(table_rows(rows))
    for child in getattr(shape, "shapes", []):  # a group
        lines.extend(_shape_lines(child))
    return lines


def load_pptx(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    import pptx

    stream = check_archive(path, data, "PowerPoint")
    try:
        deck = pptx.Presentation(stream)
    except Exception as exc:
        raise LoaderError(path, f"not a readable PowerPoint presentation ({exc})") from exc
    out = TextBuilder()
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None else ""
        out.open(1, f"Slide {number}: {title}" if title else f"Slide {number}", page=number)
        out.line(f"Slide {number}: {title}" if title else f"Slide {number}")
        for shape in slide.shapes:
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue  # already the slide's first line
            for line in _shape_lines(shape):
                out.line(line)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            text = notes.text.strip() if notes is not None else ""
            if text:
                out.line(f"Speaker notes: {' '.join(text.split())}")
        out.blank()
    title = (deck.core_properties.title or "").strip() or path.name
    media = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    return out.document(path, title, media)


# -- Excel -------------------------------------------------------------------------------


def load_xlsx(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    import openpyxl

    stream = check_archive(path, data, "Excel")
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise LoaderError(path, f"not a readable Excel workbook ({exc})") from exc
    out = TextBuilder()
    cells_read = budget.table(path, "sheet")
    try:
        for sheet in book.worksheets:
            rows = []
            # Streamed (read-only mode) and cut one column past the budget: a sheet whose
            # stated size is 16,384 columns costs no more than one that is not.
            for row in sheet.iter_rows(values_only=True, max_col=budget.columns + 1):
                cells = [_cell(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                cells_read.row(len(cells), repr(sheet.title))
                for c in cells:
                    if len(c) > MAX_CELL_CHARS:
                        raise LoaderError(
                            path,
                            f"sheet {sheet.title!r}: a cell of {len(c):,} characters "
                            f"(Excel allows {MAX_CELL_CHARS:,})",
                        )
                rows.append(cells)
            lines = table_rows(rows)
            if not lines:
                continue  # an empty sheet adds nothing
            out.open(1, f"Sheet {sheet.title}")
            out.line(f"Sheet: {sheet.title}")
            for line in lines:
                out.line(line)
            out.blank()
            budget.check_text(path, out.length)
    finally:
        book.close()
    if not out.parts:
        raise LoaderError(path, "workbook has no cells with values")
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return out.document(path, path.name, media)
