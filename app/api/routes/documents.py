"""Documents: upload (through the same ingest pipeline as the CLI), list, delete."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as FastApiPath
from sqlalchemy import select

from app.api.deps import AdminScope, StateDep
from app.api.errors import ApiError
from app.api.schemas import MAX_ID, DocumentOut, UploadResult
from app.core.db import Document
from app.core.index_versions import active_index
from ingest.pipeline import IngestPipeline, SourceFile, remove_documents

router = APIRouter(prefix="/v1/documents", tags=["documents"], dependencies=[AdminScope])

_SAFE = re.compile(r"[^A-Za-z0-9._ -]")


def safe_name(raw: str | None) -> str:
    """The file's base name only: no directories, no control characters, no dot-files."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = _SAFE.sub("_", name).strip(" .")
    if not name:
        raise ApiError(400, "bad_upload", f"unusable file name {raw!r}")
    return name[:200]


def document_out(d: Document) -> DocumentOut:
    return DocumentOut(
        id=d.id, source=d.source, title=d.title, media_type=d.media_type,
        size_bytes=d.size_bytes, chunk_count=d.chunk_count, status=d.status.value,
        updated_at=d.updated_at.isoformat(),
    )  # fmt: skip


@router.post("", response_model=UploadResult, status_code=201)
def upload(files: Annotated[list[UploadFile], File()], state: StateDep) -> UploadResult:
    limit = state.settings.max_upload_bytes
    items = []
    for f in files:
        name = safe_name(f.filename)
        data = f.file.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, "upload_too_large", f"{name}: larger than {limit:,} bytes")
        items.append(SourceFile(f"upload/{name}", Path(name), data=data))
    with state.ingest_lock:
        report = IngestPipeline(state.runtime, cpu_gate=state.cpu_gate).run(items)
    with state.runtime.db.session() as s:
        docs = s.scalars(select(Document).where(Document.id.in_(report.documents))).all()
    return UploadResult(
        documents=[document_out(d) for d in docs],
        new=report.new,
        changed=report.changed,
        unchanged=report.unchanged,
        failed=[{"file": f, "reason": r} for f, r in report.errors],
        chunks_written=report.chunks_written,
    )


@router.get("", response_model=list[DocumentOut])
def list_documents(state: StateDep) -> list[DocumentOut]:
    with state.runtime.db.session() as s:
        return [document_out(d) for d in s.scalars(select(Document).order_by(Document.id))]


@router.delete("/{doc_id}", status_code=204)
def delete_document(doc_id: Annotated[int, FastApiPath(ge=1, le=MAX_ID)], state: StateDep) -> None:
    with state.runtime.db.session() as s:
        index = active_index(s)
        if index is None or s.get(Document, doc_id) is None:
            raise ApiError(404, "not_found", f"no document {doc_id}")
        s.expunge(index)
    with state.ingest_lock:
        remove_documents(state.runtime, [doc_id], index)
