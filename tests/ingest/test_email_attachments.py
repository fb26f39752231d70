"""An e-mail's attachments are documents of their own: each read by its own loader, cited
as ``mail.eml#name``, in the mail's collection, replaced or forgotten with the mail; one
that cannot be read is refused with its name and reason while the rest go in. A folder sync
keeps them (they follow their mail, not a file of their own)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import Document
from app.core.runtime import Runtime
from app.retrieval.search import Retriever
from ingest.folder_sync import LocalTarget, Syncer
from ingest.forget import forget
from ingest.loaders import load_bytes
from ingest.pipeline import IngestPipeline
from tests.fixtures import assert_consistent
from tests.pdfgen import make_pdf


def mail(attachments: list[tuple[str, str, bytes]]) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "Site visit pack"
    msg["From"] = "facilities@example.org"
    msg["To"] = "all-staff@example.org"
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
    msg.set_content("Hello all,\n\nThe site visit pack is attached.\n")
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


PDF = make_pdf([["The visitor car park is behind building Q, bay 12 to 30."]])
NOTES = b"Visitors sign in at the east lobby with photo identification.\n"
ATTACHED = [
    ("map.pdf", "application/pdf", PDF),
    ("../../etc/notes.txt", "text/plain", NOTES),  # a sender's path is never a path here
    ("blob.bin", "application/octet-stream", b"\x00\x01\x02binary"),
]


def test_the_loader_returns_each_attachment_under_a_safe_name() -> None:
    doc = load_bytes(Path("visit.eml"), mail(ATTACHED))
    assert [a.name for a in doc.attachments] == ["map.pdf", "notes.txt", "blob.bin"]
    assert doc.attachments[1].data == NOTES
    assert "Attachments: map.pdf, notes.txt, blob.bin" in doc.text


@pytest.mark.slow
def test_attachments_are_documents_that_follow_their_mail(runtime: Runtime, tmp_path: Path):
    folder = tmp_path / "mail"
    folder.mkdir()
    eml = folder / "visit.eml"
    eml.write_bytes(mail(ATTACHED))
    report = IngestPipeline(runtime).ingest_paths([folder], collection="facilities")
    src = eml.resolve().as_posix()
    assert report.errors == [(f"{src}#blob.bin", "binary file (contains NUL bytes), not text")]
    with runtime.db.session() as s:
        docs = {d.source: d for d in s.scalars(select(Document))}
        s.expunge_all()
    assert set(docs) == {src, f"{src}#map.pdf", f"{src}#notes.txt"}
    assert {d.collection for d in docs.values()} == {"facilities"}
    assert docs[f"{src}#map.pdf"].parent_id == docs[src].id
    top = Retriever(runtime).retrieve("Where is the visitor car park?", top_k=1)[0]
    assert (top.source, top.page) == (f"{src}#map.pdf", 1)

    # A sync of the folder keeps them: they follow their mail, not a file of their own.
    again = Syncer(LocalTarget(runtime), [folder], "facilities").full_pass()
    assert again.actions == [] and again.unchanged == 1

    # The mail changes: an attachment it no longer has is forgotten.
    eml.write_bytes(mail(ATTACHED[:1]))
    report = IngestPipeline(runtime).ingest_paths([folder], collection="facilities")
    assert report.ok and report.pruned == 1
    with runtime.db.session() as s:
        assert set(s.scalars(select(Document.source))) == {src, f"{src}#map.pdf"}

    # Forgetting the mail forgets its attachments, counted in one receipt.
    receipt = forget(runtime, docs[src].id)
    assert receipt is not None and receipt.attachments == 1
    assert receipt.chunks == 2 and sum(receipt.vectors.values()) == 2
    with runtime.db.session() as s:
        assert list(s.scalars(select(Document.source))) == []
    assert_consistent(runtime)
