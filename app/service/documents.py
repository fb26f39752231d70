"""Documents and their collections: ingest, list, find and remove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select

from app.core.db import DEFAULT_COLLECTION, Chunk, Document, source_under
from app.core.index_versions import active_index
from app.errors import ServiceError
from app.service.access import EVERYONE, Access
from app.service.parts import ServiceParts
from ingest.forget import Receipt, forget
from ingest.pipeline import IngestPipeline
from ingest.report import IngestReport
from ingest.sources import SourceFile


@dataclass(frozen=True)
class DocumentText:
    """A stored document's text as its chunks hold it (overlaps taken out), for a reader
    that wants the whole document (an MCP resource), not a search's passages."""

    id: int
    source: str
    collection: str
    title: str
    media_type: str
    text: str


@dataclass(frozen=True)
class CollectionCount:
    name: str
    documents: int


@dataclass
class Ingested:
    """What an ingest of named files did: the pipeline's report and the documents it names."""

    report: IngestReport
    documents: list[Document]


def upload_name(collection: str, name: str) -> str:
    """Where an uploaded file is stored: one name space per collection, so a name in two
    collections is two documents."""
    prefix = "upload/" if collection == DEFAULT_COLLECTION else f"upload/{collection}/"
    return prefix + name


class Documents(ServiceParts):
    """Documents in and out: ingest through the one pipeline, list, remove with a receipt."""

    def ingest_files(
        self, files: Sequence[tuple[str, Path]], collection: str = DEFAULT_COLLECTION
    ) -> Ingested:
        """Ingest (source name, path on disk) pairs into a collection through the one
        pipeline, one at a time."""
        items = [SourceFile(source, path, collection=collection) for source, path in files]
        with self.ingest_lock:
            report = IngestPipeline(
                self.runtime, cpu_gate=self.cpu_gate, parser=self.parser,
                stopping=self._stop.is_set,
            ).run(items)  # fmt: skip
        with self.runtime.db.session() as s:
            docs = s.scalars(select(Document).where(Document.id.in_(report.documents))).all()
            s.expunge_all()
        return Ingested(report, list(docs))

    def writable_source(self, caller: Access, source: str) -> str:
        """The source as it is stored: an absolute path normalised once (``//x`` and
        ``/a/./x`` name ``/x`` and ``/a/x``), with no ``..`` and no control characters; and
        one the caller may write (not held by a collection it lacks)."""
        if ".." in PurePosixPath(source).parts or any(ord(c) < 32 or ord(c) == 127 for c in source):
            raise ServiceError(
                422, "validation_error", "source: an absolute, normalised path is needed"
            )
        normalised = PurePosixPath("/" + source.lstrip("/")).as_posix()
        caller.check_takeover(self.document_collection(normalised))
        return normalised

    def upload(
        self,
        caller: Access,
        files: Sequence[tuple[str, Path]],
        collection: str = DEFAULT_COLLECTION,
        source: str | None = None,
    ) -> Ingested:
        """Files a caller sent, as (file name, path on disk): stored under ``upload/`` in
        the collection's name space, or the one file under ``source`` (how ``factvault
        sync`` keeps a folder in step through a running service: a file is the same
        document whichever way it came in)."""
        caller.check_write(collection)
        if source is None:
            pairs = [(upload_name(collection, name), path) for name, path in files]
        elif len(files) == 1:
            pairs = [(self.writable_source(caller, source), files[0][1])]
        else:
            raise ServiceError(422, "validation_error", "source: names exactly one file")
        return self.ingest_files(pairs, collection)

    def list_documents(
        self, caller: Access = EVERYONE, under: str | None = None, collection: str | None = None
    ) -> list[Document]:
        """Every document the caller sees, or those whose source is ``under`` a path (what
        a folder sync compares with), or those of one ``collection``."""
        query = select(Document).order_by(Document.id)
        if caller.collections is not None:
            query = query.where(Document.collection.in_(list(caller.collections)))
        if collection is not None:
            query = query.where(Document.collection == collection)
        if under is not None:
            query = query.where(source_under(under))
        with self.runtime.db.session() as s:
            docs = list(s.scalars(query))
            s.expunge_all()
        return docs

    def collections(self, caller: Access = EVERYONE) -> list[CollectionCount]:
        """The collections the caller may read that hold documents, with their counts."""
        query = select(Document.collection, func.count()).group_by(Document.collection)
        if caller.collections is not None:
            query = query.where(Document.collection.in_(list(caller.collections)))
        with self.runtime.db.session() as s:
            rows = s.execute(query.order_by(Document.collection)).all()
        return [CollectionCount(name, n) for name, n in rows]

    def document_text(self, doc_id: int, caller: Access = EVERYONE) -> DocumentText:
        """A document's text, rebuilt from its chunks in order: each chunk's span says
        where it sits, so the part one chunk repeats of the one before (the overlap) is
        taken once. 404 as well for a document in a collection the caller lacks."""
        with self.runtime.db.session() as s:
            doc = s.get(Document, doc_id)
            if doc is None or not caller.sees(doc.collection):
                raise ServiceError(404, "not_found", f"no document {doc_id}")
            chunks = s.scalars(
                select(Chunk).where(Chunk.document_id == doc_id).order_by(Chunk.ordinal)
            ).all()
            parts: list[str] = []
            end = 0
            for c in chunks:
                exact = c.char_end - c.char_start == len(c.text)
                skip = max(0, end - c.char_start) if exact else 0
                if parts and (c.char_start > end or not exact):
                    parts.append("\n")
                parts.append(c.text[skip:])
                end = max(end, c.char_end)
            return DocumentText(doc.id, doc.source, doc.collection, doc.title or "",
                                doc.media_type, "".join(parts))  # fmt: skip

    def document_collection(self, source: str) -> str | None:
        """The collection a source is stored in, if it is."""
        with self.runtime.db.session() as s:
            return s.scalar(select(Document.collection).where(Document.source == source))

    def remove_document(self, doc_id: int, caller: Access = EVERYONE) -> Receipt:
        """Delete a document and everything derived from it; the receipt says what went.
        (404 as well when it is in a collection the caller lacks.)"""
        with self.runtime.db.session() as s:
            doc = s.get(Document, doc_id)
            if active_index(s) is None or doc is None or not caller.sees(doc.collection):
                raise ServiceError(404, "not_found", f"no document {doc_id}")
        with self.ingest_lock:
            receipt = forget(self.runtime, doc_id)
        if receipt is None:  # deleted meanwhile
            raise ServiceError(404, "not_found", f"no document {doc_id}")
        return receipt
