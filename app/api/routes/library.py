"""Reading the library with a read key: its collections, their documents, a document's text.

What an agent (or the MCP server, app/api/mcp.py) needs to find and read whole documents;
listing with sync's fields (sha256, loader version) and writing stay admin's
(/v1/documents). A key limited to collections sees only those: a collection it lacks is
refused as a search for it is, a document in one is 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as FastApiPath
from pydantic import BaseModel

from app.api.deps import CallerDep, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.schemas import MAX_ID
from app.core.db import Document
from app.service.documents import DocumentText

router = APIRouter(
    prefix="/v1", tags=["library"], dependencies=[ReadScope], route_class=GuardedRoute
)
COLLECTION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class CollectionOut(BaseModel):
    name: str
    documents: int


class LibraryDocument(BaseModel):
    id: int
    source: str
    title: str
    collection: str
    media_type: str
    chunk_count: int
    updated_at: str


class DocumentTextOut(BaseModel):
    id: int
    source: str
    title: str
    collection: str
    media_type: str
    text: str


def library_document(d: Document) -> LibraryDocument:
    return LibraryDocument(
        id=d.id, source=d.source, title=d.title or "", collection=d.collection,
        media_type=d.media_type, chunk_count=d.chunk_count, updated_at=d.updated_at.isoformat(),
    )  # fmt: skip


def document_text_out(d: DocumentText) -> DocumentTextOut:
    return DocumentTextOut(id=d.id, source=d.source, title=d.title, collection=d.collection,
                           media_type=d.media_type, text=d.text)  # fmt: skip


@router.get("/collections", response_model=list[CollectionOut])
def collections(service: ServiceDep, caller: CallerDep) -> list[CollectionOut]:
    """The collections this key reads that hold documents, with their counts."""
    return [CollectionOut(name=c.name, documents=c.documents) for c in service.collections(caller)]


@router.get("/collections/{name}/documents", response_model=list[LibraryDocument])
def collection_documents(
    name: Annotated[str, FastApiPath(pattern=COLLECTION)], service: ServiceDep, caller: CallerDep
) -> list[LibraryDocument]:
    caller.readable([name])  # another collection's: refused (403), as a search for it is
    return [library_document(d) for d in service.list_documents(caller, collection=name)]


@router.get("/documents/{doc_id}/text", response_model=DocumentTextOut)
def document_text(
    doc_id: Annotated[int, FastApiPath(ge=1, le=MAX_ID)], service: ServiceDep, caller: CallerDep
) -> DocumentTextOut:
    """The document's text as stored: its chunks in order, overlaps taken out."""
    return document_text_out(service.document_text(doc_id, caller))
