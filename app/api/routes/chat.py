"""POST /v1/chat/completions: OpenAI-compatible, answered from the knowledge base.

The last user message is the question; the answer is grounded in retrieved chunks exactly
as /v1/query is, so existing OpenAI clients get cited answers. Citations ride along in an
extra ``citations`` field that OpenAI clients ignore.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.api.deps import ReadScope, StateDep
from app.api.errors import ApiError
from app.api.routes.query import citation_out
from app.api.schemas import ChatRequest
from app.api.streaming import answer_events
from app.generation.answer import Answer

router = APIRouter(prefix="/v1", tags=["openai"])


def _question(req: ChatRequest) -> str:
    for message in reversed(req.messages):
        if message.role == "user" and (message.content or "").strip():
            return message.content.strip()
    raise ApiError(422, "validation_error", "messages: no user message with content")


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
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
        "citations": [citation_out(c).model_dump() for c in answer.citations],
    }


@router.post("/chat/completions", dependencies=[ReadScope])
def chat_completions(req: ChatRequest, state: StateDep):  # noqa: ANN201
    question = _question(req)
    cap = state.settings.answer_max_tokens  # a server-side bound: no client asks for more
    max_tokens = min(req.max_tokens or cap, cap)
    temperature = req.temperature or 0.0
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    if not req.stream:
        answer = state.answerer.answer(
            question, state.settings.answer_top_k, None, max_tokens, temperature
        )
        state.record_answer(answer)
        return _completion(answer, cid)
    return StreamingResponse(
        _stream(state, question, max_tokens, temperature, cid), media_type="text/event-stream"
    )


def _stream(state, question: str, max_tokens: int, temperature: float, cid: str) -> Iterator[str]:  # noqa: ANN001
    created = int(time.time())
    model = state.models.current.name if state.models.current else "factvault"

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

    top_k = state.settings.answer_top_k
    for kind, payload in answer_events(state, question, top_k, None, max_tokens, temperature):
        if kind == "token":
            yield chunk({"content": payload}, None, model)
        elif kind == "done":
            cites = [citation_out(c).model_dump() for c in payload.citations]
            yield chunk({}, "stop", payload.model_name, citations=cites)
            yield "data: [DONE]\n\n"
        else:
            yield f"data: {json.dumps({'error': {'message': str(payload)}})}\n\n"
