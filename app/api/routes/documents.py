"""Documents: upload (through the same ingest pipeline as the CLI), list, delete."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as FastApiPath
from starlette.concurrency import run_in_threadpool

from app.api.deps import AdminScope, CallerDep, ServiceDep, UploadBody
from app.api.errors import ApiError
from app.api.guard import GuardedRoute
from app.api.schemas import MAX_ID, DeletionReceipt, DocumentOut, UploadResult
from app.api.uploads import OPENAPI_BODY, SpooledFile, UploadReader
from app.core.db import DEFAULT_COLLECTION, Document
from app.service import FactVault

router = APIRouter(
    prefix="/v1/documents", tags=["documents"], dependencies=[AdminScope], route_class=GuardedRoute
)


def document_out(d: Document) -> DocumentOut:
    return DocumentOut(
        id=d.id, source=d.source, title=d.title, media_type=d.media_type,
        size_bytes=d.size_bytes, chunk_count=d.chunk_count, status=d.status.value,
        updated_at=d.updated_at.isoformat(), collection=d.collection,
    )  # fmt: skip


CollectionParam = Annotated[
    str,
    Query(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="The collection the files go into (the key must be allowed it).",
    ),
]


@router.post(
    "",
    response_model=UploadResult,
    status_code=201,
    dependencies=[UploadBody],
    openapi_extra=OPENAPI_BODY,
)
async def upload(
    request: Request,
    service: ServiceDep,
    caller: CallerDep,
    collection: CollectionParam = DEFAULT_COLLECTION,
) -> UploadResult:
    """Files are streamed to a private spool dir as they arrive (each held to
    ``max_file_bytes``), then ingested one at a time by the same pipeline as the CLI.
    A key limited to collections may upload only into one of them (refused before the
    body is read)."""
    if caller.collections is not None and collection not in caller.collections:
        raise ApiError(403, "forbidden", f"this key may not write to collection {collection}")
    settings = service.settings
    settings.upload_spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    spool = Path(tempfile.mkdtemp(dir=settings.upload_spool_dir))
    try:
        reader = UploadReader(spool, settings.max_file_bytes, settings.max_upload_files)
        files = await reader.read(request)
        return await run_in_threadpool(_ingest, service, files, reader.duplicates, collection)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _ingest(
    service: FactVault, files: list[SpooledFile], duplicates: list[str], collection: str
) -> UploadResult:
    # One name space per collection: the same file name in two collections is two documents.
    prefix = "upload/" if collection == DEFAULT_COLLECTION else f"upload/{collection}/"
    done = service.ingest_files([(f"{prefix}{f.name}", f.path) for f in files], collection)
    report = done.report
    failed = [{"file": f, "reason": r} for f, r in report.errors]
    failed += [
        {"file": f"upload/{name}", "reason": "another file in this upload has the same name; "
         "only the first was stored"}
        for name in duplicates
    ]  # fmt: skip
    return UploadResult(
        documents=[document_out(d) for d in done.documents],
        new=report.new,
        changed=report.changed,
        unchanged=report.unchanged,
        failed=failed,
        chunks_written=report.chunks_written,
    )


@router.get("", response_model=list[DocumentOut])
def list_documents(service: ServiceDep, caller: CallerDep) -> list[DocumentOut]:
    return [document_out(d) for d in service.list_documents(caller.collections)]


@router.delete("/{doc_id}", response_model=DeletionReceipt)
def delete_document(
    doc_id: Annotated[int, FastApiPath(ge=1, le=MAX_ID)], service: ServiceDep, caller: CallerDep
) -> DeletionReceipt:
    """Deletes the document and everything derived from it; the receipt counts what went
    from each store (ingest/forget.py)."""
    return DeletionReceipt(**service.remove_document(doc_id, caller.collections).as_dict())
