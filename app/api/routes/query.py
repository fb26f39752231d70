"""POST /v1/query (grounded answer, optionally streamed) and POST /v1/retrieve."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app.answering.request import AskRequest
from app.answering.types import Answer, Citation, citation_from_chunk
from app.api.deps import CallerDep, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.problems import problem_for
from app.api.schemas import (
    CitationOut,
    Filters,
    ModelRef,
    QueryRequest,
    QueryResponse,
    RetrieveRequest,
    RetrieveResponse,
    SentenceOut,
)
from app.api.streaming import Event, answer_plainly, asker, open_answer_stream
from app.core.vectorstore import SearchFilter
from app.service.access import Access

router = APIRouter(prefix="/v1", tags=["query"], route_class=GuardedRoute)


def to_filter(filters: Filters, caller: Access) -> SearchFilter:
    return caller.search_filter(filters.collections, filters.document_ids, filters.source_prefix)


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        n=c.n, document=c.document_id, title=c.title, source=c.source, chunk_id=c.chunk_id,
        span=c.span, page=c.page, score=c.score, text=c.text, collection=c.collection,
    )  # fmt: skip


def answer_out(a: Answer) -> QueryResponse:
    return QueryResponse(
        answer=a.answer,
        grounded=a.grounded,
        citations=[citation_out(c) for c in a.citations],
        model=ModelRef(name=a.model_name, sha256=a.model_sha256, endpoint=a.endpoint),
        index_version=a.index_version,
        timings={k: round(v, 4) for k, v in a.timings.items()},
        finish_reason=a.finish_reason,
        links_removed=a.links_removed,
        sentences=[
            SentenceOut(text=s.text, supported=s.supported, sources=s.sources) for s in a.sentences
        ],
        withheld=a.withheld,
        prompt_version=a.prompt_version,
        cached=a.cached,
        prompt_tokens=a.prompt_tokens,
        prompt_tokens_reused=a.prompt_reused,
        prompt_tokens_evaluated=a.prompt_evaluated,
    )


def error_event(exc: Exception) -> dict[str, str]:
    """A stream's in-band error: the same stable code a plain response would carry."""
    _, code, detail, _ = problem_for(exc)
    return {"code": code, "detail": detail}


@router.post("/retrieve", response_model=RetrieveResponse, dependencies=[ReadScope])
def retrieve(req: RetrieveRequest, service: ServiceDep, caller: CallerDep) -> RetrieveResponse:
    t0 = time.perf_counter()
    chunks = service.retrieve(req.question, req.top_k, req.mode, to_filter(req.filters, caller))
    seconds = time.perf_counter() - t0
    service.metrics.stage("retrieve", seconds)
    return RetrieveResponse(
        chunks=[
            citation_out(citation_from_chunk(n, c)).model_copy(update={"context": c.context})
            for n, c in enumerate(chunks, start=1)
        ],
        index_version=service.collection(),
        timings={"retrieve": round(seconds, 4)},
    )


@router.post("/query", response_model=QueryResponse, dependencies=[ReadScope])
async def query(
    req: QueryRequest, request: Request, service: ServiceDep, caller: CallerDep
):  # JSON or SSE
    ask = asker(
        service,
        caller.owner,
        AskRequest(
            req.question,
            req.top_k,
            to_filter(req.filters, caller),
            req.max_tokens,
            req.temperature,
        ),
    )

    if not req.stream:
        return answer_out(await answer_plainly(ask, request))
    events = await open_answer_stream(ask)
    return StreamingResponse(sse_stream(events), media_type="text/event-stream")


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def sse_stream(
    events: AsyncIterator[Event], done: Callable[[Any], BaseModel] | None = None
) -> AsyncIterator[str]:
    """``token`` events carry only text the final answer keeps; ``done`` has the answer
    (``done`` formats what the work returned; by default an Answer as /v1/query's body)."""
    async for kind, payload in events:
        if kind == "token":
            yield sse("token", {"text": payload})
        elif kind == "done":
            yield sse("done", (done or answer_out)(payload).model_dump())
        elif kind == "error":
            assert isinstance(payload, Exception)
            yield sse("error", error_event(payload))
