"""Asking: ranked chunks for a question, and one grounded, cited answer."""

from __future__ import annotations

from dataclasses import replace

from app.answering.request import QUIET, AskRequest, Stream
from app.answering.types import Answer
from app.core.vectorstore import SearchFilter
from app.retrieval import RetrievedChunk
from app.service.parts import ServiceParts


class Asking(ServiceParts):
    """Retrieval and grounded answers, within the server's bounds."""

    def retrieve(
        self,
        question: str,
        top_k: int | None = None,
        mode: str = "hybrid",
        filter: SearchFilter | None = None,
    ) -> list[RetrievedChunk]:
        return self.retriever.retrieve(question, top_k, mode, filter)

    def ask(
        self, caller_key: int | str | None, request: AskRequest, stream: Stream = QUIET
    ) -> Answer:
        """One grounded answer for a caller (Access.owner: an API key's id, a token's
        subject, None with auth off), within
        the server's bounds: the reply cap and the key's generated-token rate."""
        cap = self.settings.answer_max_tokens  # a server-side bound: no client asks for more
        limit = min(request.max_tokens or cap, cap)
        rate_key = None if caller_key is None else str(caller_key)
        if rate_key is not None:  # charged before generating; what is not used comes back
            limit = self.limits.reserve_tokens(rate_key, limit)
        top_k = request.top_k or self.settings.answer_top_k
        used = 0
        try:
            answer = self.answerer.answer(replace(request, top_k=top_k, max_tokens=limit), stream)
            used = answer.completion_tokens
        finally:
            if rate_key is not None:
                self.limits.refund_tokens(rate_key, limit - used)
        for stage, seconds in answer.timings.items():
            self.metrics.stage(stage, seconds)
        self.metrics.generated(answer.completion_tokens, answer.timings.get("generate", 0.0))
        return answer
