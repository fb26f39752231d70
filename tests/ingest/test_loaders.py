from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoaderError, load_bytes, load_file
from tests.fixtures import SAMPLES
from tests.pdfgen import make_pdf


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def section_of(doc, needle: str):
    pos = doc.text.index(needle)
    return next(s for s in doc.sections if s.start <= pos < s.end)


# -- good files ---------------------------------------------------------------------------


def test_plain_text(tmp_path: Path) -> None:
    doc = load_file(
        write(tmp_path, "notes.txt", b"Meeting notes\n\nWe agreed on Friday.\r\n"), 10**6
    )
    assert doc.media_type == "text/plain"
    assert doc.title == "Meeting notes"
    assert "\r" not in doc.text
    assert doc.sections[0].start == 0 and doc.sections[0].end == len(doc.text)


def test_markdown_heading_trail_ignores_code_fences() -> None:
    doc = load_file(SAMPLES / "handbook" / "employee-handbook.md", 10**6)
    assert doc.title == "Larkspur Instruments Employee Handbook"
    assert section_of(doc, "27 days").trail == (
        "Larkspur Instruments Employee Handbook",
        "Leave",
        "Annual leave",
    )
    assert section_of(doc, "three days per week").trail[-1] == "Remote work"

    fenced = load_bytes(Path("x.md"), b"# Top\n\n```\n# not a heading\n```\n\ntext\n")
    assert [s.trail for s in fenced.sections] == [("Top",)]


def test_html_visible_text_title_and_headings() -> None:
    doc = load_file(SAMPLES / "handbook" / "office-guide.html", 10**6)
    assert doc.title == "Larkspur Instruments - Office Guide"
    assert "larkspur-guest" in doc.text
    assert "console.log" not in doc.text  # script
    assert "font-family" not in doc.text  # style
    assert "internal note" not in doc.text  # comment
    assert section_of(doc, "north car park").trail == ("Office Guide", "Safety", "Fire alarm")


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "p.pdf", make_pdf([["first page words"], ["second page words"]], "T1"))
    doc = load_file(path, 10**6)
    assert doc.media_type == "application/pdf"
    assert doc.title == "T1"
    assert section_of(doc, "first page").page == 1
    assert section_of(doc, "second page").page == 2


def test_sample_pdf_has_two_pages() -> None:
    doc = load_file(SAMPLES / "handbook" / "security-policy.pdf", 10**6)
    assert section_of(doc, "within one hour").page == 2
    assert section_of(doc, "14 characters").page == 1


def test_code_definitions_and_imports() -> None:
    doc = load_file(SAMPLES / "code" / "rate_limiter.py", 10**6)
    assert doc.language == "python"
    assert "import threading" in doc.imports
    assert section_of(doc, "Take tokens if available").trail == (
        "class TokenBucket",
        "def try_acquire",
    )
    assert section_of(doc, "One bucket per client").trail == ("def per_client_limiters",)


JAVA = "class A {\n  public int run(int x) {\n    return x;\n  }\n}\n"
RUST = "impl Foo {\n    pub fn bar(&self) -> u8 {\n        1\n    }\n}\n"
GO = "package m\n\nfunc (s *S) Run() error {\n\treturn nil\n}\n"
TS = "export class Q {\n  }\nexport function go(a: number) {\n  return a;\n}\n"


@pytest.mark.parametrize(
    ("name", "source", "needle", "trail"),
    [
        ("A.java", JAVA, "return", ("class A", "run")),
        ("m.rs", RUST, "1", ("impl Foo", "fn bar")),
        ("m.go", GO, "nil", ("func Run",)),
        ("m.ts", TS, "return", ("function go",)),
    ],
)
def test_code_languages(name: str, source: str, needle: str, trail: tuple[str, ...]) -> None:
    doc = load_bytes(Path(name), source.encode())
    assert section_of(doc, needle).trail == trail


# -- bad files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage", "corrupt or unreadable PDF"),
        ("fake.pdf", b"just text pretending", "not a PDF"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.md", "caf\xe9 au lait".encode("latin-1"), "not valid UTF-8"),
        ("blank.md", b"  \n\n\t\n", "empty file"),
        ("empty.txt", b"", "empty file"),
    ],
)
def test_bad_files_name_the_file_and_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(LoaderError) as info:
        load_file(path, 10**6)
    assert reason in info.value.reason
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_oversize_file_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"x" * 2048)
    with pytest.raises(LoaderError, match=r"too large \(2,048 bytes > limit 1,000\)"):
        load_file(path, 1000)


def test_pdf_without_text(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", make_pdf([[]]))
    with pytest.raises(LoaderError, match="PDF has no text"):
        load_file(path, 10**6)


def test_email_is_decoded_with_its_headers_and_attachments_named(tmp_path: Path) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = "Meal allowance update"
    msg["From"] = "Dariusz Okafor <dariusz@tarnwell.example>"
    msg["To"] = "All staff <all@tarnwell.example>"
    msg["Date"] = "Mon, 09 Mar 2026 09:12:04 +0000"
    body = "The daily allowance rises from £38 to £46 per day. " * 3
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="fin.pdf")
    path = tmp_path / "update.eml"
    path.write_bytes(bytes(msg))
    assert b"=C2=A3" in path.read_bytes()  # really quoted-printable on disk
    doc = load_file(path, 1 << 20)
    assert doc.title == "Meal allowance update"
    assert "from £38 to £46 per day" in doc.text and "=C2" not in doc.text
    assert "From: Dariusz Okafor" in doc.text and "Attachments: fin.pdf" in doc.text


def test_a_file_named_eml_that_is_no_mail_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.eml"
    path.write_text("just some notes\nwithout any headers\n")
    with pytest.raises(LoaderError, match="notes.eml.*not an e-mail"):
        load_file(path, 1 << 20)
