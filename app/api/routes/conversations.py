"""Conversations: create, list (the caller's own), read, delete, and ask the next question.

Every route works on the caller's conversations only: another key's conversation answers
404, exactly as an unknown id does. ``POST .../messages`` answers like /v1/query (JSON, or
SSE with ``stream: true``) and adds the turn number, the standalone question retrieval ran
on, and what the prompt cost (earlier turns are mostly reused, not read again).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.answering.request import AskRequest, Stream
from app.api.deps import CallerDep, ReadScope, ServiceDep
from app.api.guard import GuardedRoute
from app.api.routes.query import answer_out, sse_stream, to_filter
from app.api.schemas import (
    ConversationList,
    ConversationOut,
    ConversationSummaryOut,
    MessageRequest,
    MessageResponse,
    ModelRef,
    TurnCitationOut,
    TurnOut,
)
from app.api.streaming import answer_plainly, open_answer_stream
from app.core.db import Conversation, ConversationTurn
from app.service import Reply

router = APIRouter(prefix="/v1/conversations", tags=["conversations"], route_class=GuardedRoute)

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]


def turn_out(t: ConversationTurn) -> TurnOut:
    return TurnOut(
        turn=t.position,
        question=t.question,
        standalone_question=t.standalone,
        answer=t.answer,
        grounded=t.grounded,
        citations=[TurnCitationOut(**c) for c in t.citations],
        model=ModelRef(name=t.model_name, sha256=t.model_sha256, endpoint=t.model_endpoint),
        index_version=t.index_version,
        timings=t.timings,
        prompt_tokens=t.prompt_tokens,
        prompt_tokens_reused=t.prompt_reused,
        completion_tokens=t.completion_tokens,
        created_at=t.created_at.isoformat(),
    )


def conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.id,
        title=c.title,
        created_at=c.created_at.isoformat(),
        updated_at=c.updated_at.isoformat(),
        turns=[turn_out(t) for t in c.turns],
    )


def reply_out(r: Reply) -> MessageResponse:
    a = r.answer
    return MessageResponse(
        **answer_out(a).model_dump(),
        conversation_id=r.conversation_id,
        turn=r.turn.position,
        question=a.question,
        standalone_question=a.standalone,
        rewritten=a.rewritten,
        history_turns=a.history_turns,
    )


@router.post("", status_code=201, response_model=ConversationOut, dependencies=[ReadScope])
def create(service: ServiceDep, caller: CallerDep) -> ConversationOut:
    return conversation_out(service.new_conversation(caller.owner))


@router.get("", response_model=ConversationList, dependencies=[ReadScope])
def list_conversations(service: ServiceDep, caller: CallerDep) -> ConversationList:
    return ConversationList(
        conversations=[
            ConversationSummaryOut(
                id=c.id,
                title=c.title,
                created_at=c.created_at.isoformat(),
                updated_at=c.updated_at.isoformat(),
                turns=c.turns,
            )
            for c in service.list_conversations(caller.owner)
        ]
    )


@router.get("/{conversation_id}", response_model=ConversationOut, dependencies=[ReadScope])
def get(conversation_id: ConversationId, service: ServiceDep, caller: CallerDep):
    return conversation_out(service.get_conversation(caller.owner, conversation_id))


@router.delete("/{conversation_id}", status_code=204, dependencies=[ReadScope])
def delete(conversation_id: ConversationId, service: ServiceDep, caller: CallerDep) -> None:
    service.delete_conversation(caller.owner, conversation_id)


@router.post(
    "/{conversation_id}/messages", response_model=MessageResponse, dependencies=[ReadScope]
)
async def message(  # JSON or SSE
    conversation_id: ConversationId,
    req: MessageRequest,
    request: Request,
    service: ServiceDep,
    caller: CallerDep,
):
    # Refused before any work: an unknown or foreign conversation.
    await run_in_threadpool(service.get_conversation, caller.owner, conversation_id)
    flt = to_filter(req.filters, caller)

    asked = AskRequest(req.question, req.top_k, flt, req.max_tokens, req.temperature)

    def say(stream: Stream) -> Reply:
        return service.say(caller.owner, conversation_id, asked, stream)

    if not req.stream:
        return reply_out(await answer_plainly(say, request))
    events = await open_answer_stream(say)
    return StreamingResponse(sse_stream(events, reply_out), media_type="text/event-stream")
