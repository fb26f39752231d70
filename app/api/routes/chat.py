"""POST /v1/chat/completions: OpenAI-compatible, answered from the knowledge base.

The last user message is the question; the user and assistant messages before it are the
conversation's history, sent by the client as OpenAI clients do (nothing is stored): a
follow-up is rewritten to stand alone and answered with those turns in the prompt, as
/v1/conversations does. System messages are ignored: the service's own prompt governs how
answers are grounded. The answer is grounded in retrieved chunks exactly as /v1/query is,
so existing OpenAI clients get cited answers. Citations, ``grounded`` and
``links_removed`` ride along as extra fields that OpenAI clients ignore. A stream shows
only text the final answer keeps, so it never has anything to withdraw.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.answering.history import Exchange
from app.answering.request import AskRequest
from app.answering.types import Answer
from app.api.deps import CallerDep, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.problems import ApiError
from app.api.routes.query import citation_out, error_event
from app.api.schemas import HAS_TEXT, ChatRequest
from app.api.streaming import Event, answer_plainly, asker, open_answer_stream

router = APIRouter(prefix="/v1", tags=["openai"], route_class=GuardedRoute)


def _question(req: ChatRequest) -> tuple[str, list[Exchange]]:
    """The last user message, and each earlier user message with the assistant reply that
    followed it (a user message left without a reply is left out)."""
    talk = [(m.role, (m.content or "").strip()) for m in req.messages]
    talk = [
        (role, text) for role, text in talk
        if (role == "user" and re.search(HAS_TEXT, text)) or (role == "assistant" and text)
    ]  # fmt: skip
    last = max((i for i, (role, _) in enumerate(talk) if role == "user"), default=None)
    if last is None:
        raise ApiError(422, "validation_error", "messages: no user message with content")
    history = [
        Exchange(question=q, prompt=q, answer=a)
        for (r1, q), (r2, a) in zip(talk[:last], talk[1:last], strict=False)
        if r1 == "user" and r2 == "assistant"
    ]
    return talk[last][1], history


def _finish(answer: Answer) -> str:
    return "length" if answer.finish_reason in ("length", "time_limit") else "stop"


def _extras(answer: Answer) -> dict:
    return {
        "citations": [citation_out(c).model_dump() for c in answer.citations],
        "grounded": answer.grounded,
        "links_removed": answer.links_removed,
        "withheld": answer.withheld,
        "cached": answer.cached,
        "standalone_question": answer.standalone,
        "prompt_tokens_reused": answer.prompt_reused,
    }


def _completion(answer: Answer, cid: str) -> dict:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model_name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": _finish(answer),
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
        **_extras(answer),
    }


@router.post("/chat/completions", dependencies=[ReadScope])
async def chat_completions(
    req: ChatRequest, request: Request, service: ServiceDep, caller: CallerDep
):  # JSON or SSE
    question, history = _question(req)
    cid = f"chatcmpl-{uuid.uuid4().hex}"

    asked = AskRequest(
        question,
        filter=caller.search_filter(),
        max_tokens=req.max_tokens,
        temperature=req.temperature or 0.0,
        history=tuple(history),
        keep_state=True,
    )
    ask = asker(service, caller.owner, asked)

    if not req.stream:
        return _completion(await answer_plainly(ask, request), cid)
    model = service.models.current.name if service.models.current else "factvault"
    events = await open_answer_stream(ask)
    return StreamingResponse(_stream(events, cid, model), media_type="text/event-stream")


async def _stream(events: AsyncIterator[Event], cid: str, model: str) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict, finish: str | None, model_name: str, **extra: object) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model_name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    async for kind, payload in events:
        if kind == "token":
            yield chunk({"content": payload}, None, model)
        elif kind == "done":
            assert isinstance(payload, Answer)
            yield chunk({}, _finish(payload), payload.model_name, **_extras(payload))
            yield "data: [DONE]\n\n"
        elif kind == "error":
            assert isinstance(payload, Exception)
            event = error_event(payload)
            yield f"data: {json.dumps({'error': {'message': event['detail'], **event}})}\n\n"
