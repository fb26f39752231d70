"""POST /v1/query (grounded answer, optionally streamed) and POST /v1/retrieve."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.api.deps import ReadScope, StateDep
from app.api.schemas import (
    CitationOut,
    ModelRef,
    QueryRequest,
    QueryResponse,
    RetrieveRequest,
    RetrieveResponse,
)
from app.api.streaming import answer_events
from app.core.vectorstore import SearchFilter
from app.generation.answer import Answer, Citation, citation_from_chunk

router = APIRouter(prefix="/v1", tags=["query"])


def to_filter(req: RetrieveRequest) -> SearchFilter:
    return SearchFilter(
        document_ids=tuple(req.filters.document_ids), source_prefix=req.filters.source_prefix
    )


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        n=c.n, document=c.document_id, title=c.title, source=c.source, chunk_id=c.chunk_id,
        span=c.span, page=c.page, score=c.score, text=c.text,
    )  # fmt: skip


def answer_out(a: Answer) -> QueryResponse:
    return QueryResponse(
        answer=a.answer,
        grounded=a.grounded,
        citations=[citation_out(c) for c in a.citations],
        model=ModelRef(name=a.model_name, sha256=a.model_sha256),
        index_version=a.index_version,
        timings={k: round(v, 4) for k, v in a.timings.items()},
    )


@router.post("/retrieve", response_model=RetrieveResponse, dependencies=[ReadScope])
def retrieve(req: RetrieveRequest, state: StateDep) -> RetrieveResponse:
    t0 = time.perf_counter()
    chunks = state.retriever.retrieve(req.question, req.top_k, "hybrid", to_filter(req))
    seconds = time.perf_counter() - t0
    state.metrics.stage("retrieve", seconds)
    return RetrieveResponse(
        chunks=[citation_out(citation_from_chunk(n, c)) for n, c in enumerate(chunks, start=1)],
        index_version=state.collection(),
        timings={"retrieve": round(seconds, 4)},
    )


@router.post("/query", response_model=QueryResponse, dependencies=[ReadScope])
def query(req: QueryRequest, state: StateDep):  # noqa: ANN201 - JSON or an SSE stream
    cap = state.settings.answer_max_tokens  # a server-side bound: no client asks for more
    max_tokens = min(req.max_tokens or cap, cap)
    req.top_k = req.top_k or state.settings.answer_top_k
    if not req.stream:
        answer = state.answerer.answer(
            req.question, req.top_k, to_filter(req), max_tokens, req.temperature
        )
        state.record_answer(answer)
        return answer_out(answer)
    return StreamingResponse(stream_answer(state, req, max_tokens), media_type="text/event-stream")


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def stream_answer(state, req: QueryRequest, max_tokens: int) -> Iterator[str]:  # noqa: ANN001
    """Tokens as they come (``token`` events), then the full answer (``done``)."""
    for kind, payload in answer_events(
        state, req.question, req.top_k, to_filter(req), max_tokens, req.temperature
    ):
        if kind == "token":
            yield sse("token", {"text": payload})
        elif kind == "done":
            yield sse("done", answer_out(payload).model_dump())
        else:
            yield sse("error", {"code": type(payload).__name__, "detail": str(payload)})
