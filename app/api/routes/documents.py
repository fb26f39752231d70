"""Documents: upload (through the same ingest pipeline as the CLI), list, delete."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as FastApiPath
from starlette.concurrency import run_in_threadpool

from app.api.deps import AdminScope, CallerDep, ServiceDep, UploadBody
from app.api.guard import GuardedRoute
from app.api.problems import ApiError
from app.api.schemas import MAX_ID, DeletionReceipt, DocumentOut, UploadResult
from app.api.uploads import OPENAPI_BODY, SpooledFile, UploadReader, safe_name
from app.core.db import DEFAULT_COLLECTION, Document
from app.service import FactVault
from app.service.access import Access
from app.service.documents import upload_name

router = APIRouter(
    prefix="/v1/documents", tags=["documents"], dependencies=[AdminScope], route_class=GuardedRoute
)


def document_out(d: Document) -> DocumentOut:
    return DocumentOut(
        id=d.id, source=d.source, title=d.title, media_type=d.media_type,
        size_bytes=d.size_bytes, chunk_count=d.chunk_count, status=d.status.value,
        updated_at=d.updated_at.isoformat(), collection=d.collection, sha256=d.sha256,
        loader_version=d.loader_version, parent_id=d.parent_id,
    )  # fmt: skip


SourceParam = Annotated[
    str | None,
    Query(
        pattern=r"^/",
        max_length=1024,
        description="Store the one file sent under this absolute path (factvault sync).",
    ),
]
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
    source: SourceParam = None,
) -> UploadResult:
    """Files are streamed to a private spool dir as they arrive (each held to
    ``max_file_bytes``), then ingested one at a time by the same pipeline as the CLI.
    A key limited to collections may upload only into one of them (refused before the
    body is read).

    ``source`` stores one file under that absolute path instead of ``upload/NAME``: how
    ``factvault sync`` keeps a folder in step through the service, so a file is the same
    document whether the CLI or the service wrote it. A key limited to collections may
    not take over a source stored in a collection it lacks."""
    caller.check_write(collection)  # all refused before the body is read
    if source is not None:
        source = await run_in_threadpool(service.writable_source, caller, source)
    settings = service.settings
    settings.upload_spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    spool = Path(tempfile.mkdtemp(dir=settings.upload_spool_dir))
    try:
        reader = UploadReader(spool, settings.max_file_bytes, settings.max_upload_files)
        files = await reader.read(request)
        if source is not None and len(files) + len(reader.duplicates) != 1:
            raise ApiError(422, "validation_error", "source: names exactly one file")
        return await run_in_threadpool(
            _ingest, service, caller, files, reader.duplicates, collection, source
        )
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _ingest(
    service: FactVault,
    caller: Access,
    files: list[SpooledFile],
    duplicates: list[str],
    collection: str,
    source: str | None = None,
) -> UploadResult:
    if source is not None and len(files) == 1:  # read by the loader of the source's extension
        named = files[0].path.with_name(safe_name(PurePosixPath(source).name))
        files[0].path.rename(named)
        files = [SpooledFile(files[0].name, named)]
    done = service.upload(caller, [(f.name, f.path) for f in files], collection, source)
    report = done.report
    failed = [{"file": f, "reason": r} for f, r in report.errors]
    same_name = "another file in this upload has the same name; only the first was stored"
    failed += [{"file": upload_name(collection, name), "reason": same_name} for name in duplicates]
    return UploadResult(
        documents=[document_out(d) for d in done.documents],
        new=report.new,
        changed=report.changed,
        unchanged=report.unchanged,
        failed=failed,
        chunks_written=report.chunks_written,
    )


@router.get("", response_model=list[DocumentOut])
def list_documents(
    service: ServiceDep,
    caller: CallerDep,
    under: Annotated[
        str | None,
        Query(
            max_length=1024,
            description="Only documents whose source is this path or lies under it.",
        ),
    ] = None,
) -> list[DocumentOut]:
    return [document_out(d) for d in service.list_documents(caller, under)]


@router.delete("/{doc_id}", response_model=DeletionReceipt)
def delete_document(
    doc_id: Annotated[int, FastApiPath(ge=1, le=MAX_ID)], service: ServiceDep, caller: CallerDep
) -> DeletionReceipt:
    """Deletes the document and everything derived from it; the receipt counts what went
    from each store (ingest/forget.py)."""
    return DeletionReceipt(**service.remove_document(doc_id, caller).as_dict())
