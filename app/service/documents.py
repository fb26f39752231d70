"""Documents and their collections: ingest, list, find and remove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.core.db import DEFAULT_COLLECTION, Document, source_under
from app.core.index_versions import active_index
from app.errors import ServiceError
from app.service.parts import ServiceParts
from ingest.forget import Receipt, forget
from ingest.pipeline import IngestPipeline
from ingest.report import IngestReport
from ingest.sources import SourceFile


@dataclass
class Ingested:
    """What an ingest of named files did: the pipeline's report and the documents it names."""

    report: IngestReport
    documents: list[Document]


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

    def list_documents(
        self, collections: Sequence[str] | None = None, under: str | None = None
    ) -> list[Document]:
        """Every document, or those in ``collections`` (a limited key's), or those whose
        source is ``under`` a path (what a folder sync compares with)."""
        query = select(Document).order_by(Document.id)
        if collections is not None:
            query = query.where(Document.collection.in_(list(collections)))
        if under is not None:
            query = query.where(source_under(under))
        with self.runtime.db.session() as s:
            docs = list(s.scalars(query))
            s.expunge_all()
        return docs

    def document_collection(self, source: str) -> str | None:
        """The collection a source is stored in, if it is."""
        with self.runtime.db.session() as s:
            return s.scalar(select(Document.collection).where(Document.source == source))

    def remove_document(self, doc_id: int, collections: Sequence[str] | None = None) -> Receipt:
        """Delete a document and everything derived from it; the receipt says what went.
        (404 as well when it is in a collection the caller lacks.)"""
        with self.runtime.db.session() as s:
            doc = s.get(Document, doc_id)
            hidden = (
                doc is not None and collections is not None and doc.collection not in collections
            )
            if active_index(s) is None or doc is None or hidden:
                raise ServiceError(404, "not_found", f"no document {doc_id}")
        with self.ingest_lock:
            receipt = forget(self.runtime, doc_id)
        if receipt is None:  # deleted meanwhile
            raise ServiceError(404, "not_found", f"no document {doc_id}")
        return receipt
