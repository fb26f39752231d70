"""CSV/TSV rows carry their header names, whatever the delimiter; bad files are refused
with the file and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoaderError, load_bytes, loader_version


def test_every_row_carries_its_header_names() -> None:
    data = b'id,name,manager\nC-7,"Pellham, Food Testing",Yusuf Benali\nC-9,"Two\nlines",\n'
    doc = load_bytes(Path("customers.csv"), data)
    lines = doc.text.splitlines()
    assert lines[0] == "id | name | manager"
    assert lines[1] == "id: C-7; name: Pellham, Food Testing; manager: Yusuf Benali"
    assert lines[2] == "id: C-9; name: Two lines"  # an empty cell is left out
    assert doc.media_type == "text/csv" and loader_version(Path("x.csv")) == "load_csv/1"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("semi.csv", b"site;extension\nAshgrove;4101\nKelderby;5120\n"),
        ("tabs.tsv", b"site\textension\nAshgrove\t4101\nKelderby\t5120\n"),
        ("pipes.csv", b"site|extension\nAshgrove|4101\nKelderby|5120\n"),
    ],
)
def test_the_delimiter_is_found(name: str, data: bytes) -> None:
    doc = load_bytes(Path(name), data)
    assert doc.text.splitlines()[1:] == ["site: Ashgrove; extension: 4101",
                                         "site: Kelderby; extension: 5120"]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"only,a,header\n", "no rows under the header"),
        (b"a,b\n" + b"x," + b"y" * 40_000 + b"\n", "row 2: a field of 40,000 characters"),
        (b"a,b\n\x00\x01,\x02\n", "binary file"),
        (b"a,b\n\xff\xfe,1\n", "not valid UTF-8"),
    ],
)
def test_bad_csv_names_the_file_and_reason(data: bytes, reason: str) -> None:
    with pytest.raises(LoaderError) as err:
        load_bytes(Path("bad.csv"), data)
    assert err.value.path == "bad.csv" and reason in err.value.reason
