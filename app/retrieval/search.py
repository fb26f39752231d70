"""Hybrid retrieval: dense + BM25 prefetch, fused by RRF inside Qdrant, joined with SQL.

Only chunks that exist in SQL are returned: a point left behind by a crash between the
vector-store write and the SQL commit is never cited.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import Chunk, Document, IndexVersion
from app.core.index_versions import active_index, bm25_for
from app.core.runtime import Runtime
from app.core.vectorstore import SearchFilter, SearchRequest
from app.core.vectorstore.base import FusionMethod, Hit, SearchMode
from app.retrieval.rerank import NoReranker, Reranker, make_reranker
from app.retrieval.types import RetrievedChunk

TIE_MARGIN = 8  # hits asked beyond those wanted, so equal scores at the cut are seen whole


class NoIndex(RuntimeError):
    """Nothing has been ingested yet."""


class Retriever:
    def __init__(self, runtime: Runtime, reranker: Reranker | None = None) -> None:
        self.rt = runtime
        settings = runtime.settings
        self.reranker = reranker or make_reranker(
            settings.reranker, settings.reranker_path, settings.reranker_cache_dir
        )

    def retrieve(
        self,
        question: str,
        top_k: int | None = None,
        mode: SearchMode = "hybrid",
        filter: SearchFilter | None = None,
        fusion: FusionMethod = "rrf",
        weights: tuple[float, float] | None = None,
        prefetch: int | None = None,
        rrf_k: int | None = None,
        index: IndexVersion | None = None,
    ) -> list[RetrievedChunk]:
        """Top chunks for a question; fusion settings default to the configured ones.
        ``index``: a version other than the active one (a quality gate scores a new build
        before it is switched to)."""
        if not question.strip():
            raise ValueError("question is empty")
        settings = self.rt.settings
        top_k = top_k or settings.search_top_k
        wanted = top_k
        if not isinstance(self.reranker, NoReranker):
            top_k = max(top_k, settings.rerank_candidates)
        if index is None:
            with self.rt.db.session() as s:
                index = active_index(s)
                if index is None:
                    raise NoIndex("no index yet: run `factvault ingest PATH` first")
                s.expunge(index)
        embedder = self.rt.embedder_for(index)
        request = SearchRequest(
            dense=embedder.embed_query(question) if mode != "sparse" else None,
            sparse=bm25_for(index).encode_query(question) if mode != "dense" else None,
            limit=top_k + TIE_MARGIN,
            mode=mode,
            prefetch=max(prefetch or settings.search_prefetch, top_k),
            fusion=fusion,
            rrf_k=rrf_k or settings.rrf_k,
            weights=weights,
            filter=filter or SearchFilter(),
        )
        # Equal scores (common with RRF) are ordered by chunk id, not by storage order, so a
        # restored or re-built index answers in exactly the same order. The store is asked
        # for a few more than wanted: which of several equal scores it returns at the cut is
        # its choice and varies between calls, so the cut is made here, after the sort
        # (the same question then always gets the same chunks, the same prompt and, with
        # greedy decoding, the same answer).
        hits = sorted(
            self.rt.store.search(index.collection, request), key=lambda h: (-h.score, h.chunk_id)
        )
        if not hits:
            return []
        out = self._read_back(hits, index, request.filter.collections, top_k)
        return self.reranker.rerank(question, out, wanted)

    def _read_back(
        self,
        hits: list[Hit],
        index: IndexVersion,
        allowed: tuple[str, ...] | None,
        top_k: int,
    ) -> list[RetrievedChunk]:
        """The first ``top_k`` hits as chunks read from SQL, in the hits' order. A point
        with no chunk (an orphan awaiting repair) or outside the allowed collections is
        skipped: the vector filter excludes those already, and SQL is checked again."""
        with self.rt.db.session() as s:
            rows = {
                chunk.id: (chunk, doc)
                for chunk, doc in s.execute(
                    select(Chunk, Document)
                    .join(Document)
                    .where(Chunk.id.in_([h.chunk_id for h in hits]))
                )
            }
        out: list[RetrievedChunk] = []
        for hit in hits:
            row = rows.get(hit.chunk_id)
            if row is None:
                continue
            chunk, doc = row
            if allowed is not None and doc.collection not in allowed:
                continue
            if len(out) == top_k:
                break
            out.append(
                RetrievedChunk(
                    chunk_id=chunk.id,
                    document_id=doc.id,
                    source=doc.source,
                    title=doc.title,
                    ordinal=chunk.ordinal,
                    text=chunk.text,
                    context=chunk.context,
                    score=hit.score,
                    char_start=chunk.char_start,
                    char_end=chunk.char_end,
                    page=chunk.page,
                    index_version=index.collection,
                    collection=doc.collection,
                )
            )
        return out
