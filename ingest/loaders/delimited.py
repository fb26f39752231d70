"""CSV and TSV: every row rendered with its header names, as the Excel loader does.

Read as plain text, a row "C-1007,Pellham Food Testing,Pellham,...,Yusuf Benali,2018" says
nothing about which column is the account manager, and a chunk cut from the middle of the
file has lost the header line altogether. Each row becomes "customer_id: C-1007; name:
Pellham Food Testing; ...", so every chunk carries its column names. The stdlib ``csv``
module parses (quoted fields, embedded newlines); the delimiter is sniffed from the first
lines (comma, semicolon, tab or pipe).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    LoadedDocument,
    LoaderBudget,
    LoaderError,
    decode_text,
)
from ingest.loaders.office import MAX_CELL_CHARS, TextBuilder, table_rows

DELIMITERS = ",;\t|"


def load_csv(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    text = decode_text(path, data)
    if path.suffix.lower() == ".tsv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS)
        except csv.Error:
            dialect = csv.excel  # one column, or too irregular to tell: commas
    rows: list[list[str]] = []
    counted = budget.table(path, "row")
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            counted.row(len(row), str(number))
            cells = [" ".join(c.split()) for c in row]
            longest = max((len(c) for c in cells), default=0)
            if longest > MAX_CELL_CHARS:
                raise LoaderError(
                    path, f"row {number}: a field of {longest:,} characters (limit "
                    f"{MAX_CELL_CHARS:,})",
                )  # fmt: skip
            rows.append(cells)
    except csv.Error as exc:
        raise LoaderError(path, f"not readable as CSV ({exc})") from exc
    lines = table_rows(rows)
    if len(lines) < 2:
        raise LoaderError(path, "no rows under the header line")
    out = TextBuilder()
    for line in lines:
        out.line(line)
    return out.document(path, path.name, "text/csv")
