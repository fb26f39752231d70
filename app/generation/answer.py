"""Question -> grounded answer with citations: retrieval, prompt, generation, citation check.

Used by the API, the OpenAI-compatible endpoint and ``factvault query`` alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from app.core.vectorstore import SearchFilter
from app.generation.hotswap import ModelManager
from app.generation.prompts import (
    PromptSource,
    build_messages,
    cited_numbers,
    format_sources,
    is_idk,
)
from app.generation.release import ReplyRelease
from app.generation.runner import LoadedModel
from app.retrieval import RetrievedChunk, Retriever


@dataclass
class Citation:
    n: int
    document_id: int
    source: str
    title: str | None
    chunk_id: str
    span: tuple[int, int]
    page: int | None
    score: float
    text: str


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    sources: list[Citation]
    model_name: str
    model_sha256: str
    index_version: str | None
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    grounded: bool = True  # False: the model cited nothing and its reply was withheld
    # "stop", "length" (reply cap), "cancelled" (the client left), "time_limit"
    finish_reason: str = "stop"
    links_removed: int = 0  # images/links to hosts outside the allow-list (safety.py)


def citation_from_chunk(n: int, chunk: RetrievedChunk) -> Citation:
    return Citation(
        n=n,
        document_id=chunk.document_id,
        source=chunk.source,
        title=chunk.title,
        chunk_id=chunk.chunk_id,
        span=(chunk.char_start, chunk.char_end),
        page=chunk.page,
        score=chunk.score,
        text=chunk.text,
    )


class PromptTooLong(ValueError):
    """The question alone leaves no room for sources and a reply in the model's context."""


# Tokens the chat template adds around the messages (role markers, BOS/EOS), with room to
# spare: every template of the bundled models adds fewer than 30.
TEMPLATE_TOKENS = 64
MIN_REPLY_TOKENS = 16


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        models: ModelManager,
        cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
        collection_name: Callable[[], str | None] | None = None,
        require_citations: bool = True,
        allowed_link_hosts: Sequence[str] = (),
        time_limit: float | None = None,
    ) -> None:
        self.require_citations = require_citations
        self.retriever = retriever
        self.models = models
        self._cpu_gate = cpu_gate or (lambda: nullcontext())
        self._collection_name = collection_name or (lambda: None)
        self._hosts = tuple(allowed_link_hosts)
        self._time_limit = time_limit

    def answer(
        self,
        question: str,
        top_k: int = 5,
        filter: SearchFilter | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> Answer:
        """``on_start`` is called once the prompt is ready (nothing can be refused after it
        but generation itself); ``on_token`` sees only text the final answer keeps (see
        release.py); generation stops when ``cancelled()`` turns true or the time limit
        passes."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        with self.models.lease() as model, model.admitted():
            chunks = self.retriever.retrieve(question, top_k, "hybrid", filter)
            timings["retrieve"] = time.perf_counter() - t0
            sources = [citation_from_chunk(n, c) for n, c in enumerate(chunks, start=1)]
            messages, shown, max_tokens = fit_prompt(model, question, sources, max_tokens)
            release = ReplyRelease(len(shown), self._hosts, on_token)
            if on_start is not None:
                on_start()
            t1 = time.perf_counter()
            with self._cpu_gate():
                timings["queue"] = time.perf_counter() - t1
                result = model.generate(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    on_token=release.feed,
                    should_stop=self._stop_check(t0, cancelled),
                )
            timings["generate"] = result.seconds
            if result.first_token_seconds is not None:
                timings["first_token"] = result.first_token_seconds
            name, sha = model.name, model.sha256
        final = release.finish()
        cited = [] if is_idk(final.text) else cited_numbers(final.text, len(shown))
        # The version the chunks came from: during an index switch the active one may
        # already be another.
        index_version = chunks[0].index_version if chunks else self._collection_name()
        timings["total"] = time.perf_counter() - t0
        return Answer(
            answer=final.text,
            citations=[shown[n - 1] for n in cited],
            sources=shown,
            model_name=name,
            model_sha256=sha,
            index_version=index_version,
            timings=timings,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            grounded=final.grounded or not self.require_citations,
            finish_reason=result.finish_reason or "stop",
            links_removed=final.links_removed,
        )

    def _stop_check(
        self, started: float, cancelled: Callable[[], bool] | None
    ) -> Callable[[], str | None]:
        deadline = started + self._time_limit if self._time_limit else None

        def check() -> str | None:
            if cancelled is not None and cancelled():
                return "cancelled"
            if deadline is not None and time.perf_counter() > deadline:
                return "time_limit"
            return None

        return check


def fit_prompt(
    model: LoadedModel, question: str, sources: list[Citation], max_tokens: int
) -> tuple[list[dict[str, str]], list[Citation], int]:
    """The prompt, the sources it holds and the reply budget, fitted to the model's context.

    Sources go in rank order while they fit beside the question, the instructions and the
    reply; the first one that does not fit is cut to the room left and the rest are dropped.
    So no retrieval setting (``top_k``, chunk size) can overflow the context. The reply keeps
    at least ``MIN_REPLY_TOKENS``; a question that leaves less raises ``PromptTooLong``.
    """
    window = model.context_tokens - TEMPLATE_TOKENS
    bare = build_messages(question, [])
    fixed = sum(model.count_tokens(m["content"]) for m in bare)
    if fixed + MIN_REPLY_TOKENS > window:
        raise PromptTooLong(
            f"the question takes {fixed} of the model's {model.context_tokens} context tokens: "
            "shorten it"
        )
    max_tokens = min(max_tokens, window - fixed)
    room = window - fixed - max_tokens
    shown: list[Citation] = []
    for s in sources:
        block = PromptSource(s.n, s.title or s.source, s.text)
        cost = model.count_tokens(format_sources([block])) + 2  # the blank line between
        if cost <= room:
            shown.append(s)
            room -= cost
            continue
        overhead = model.count_tokens(format_sources([PromptSource(s.n, block.title, "")])) + 2
        if room - overhead >= 32:  # cut this one to the room left; drop the rest
            keep = len(s.text) * (room - overhead) // max(cost - overhead, 1)
            while keep > 0 and overhead + model.count_tokens(s.text[:keep]) > room:
                keep = keep * 9 // 10
            if keep > 0:
                shown.append(replace(s, text=s.text[:keep]))
        break
    messages = build_messages(
        question, [PromptSource(s.n, s.title or s.source, s.text) for s in shown]
    )
    return messages, shown, max_tokens


class CpuGate:
    """Keeps heavy CPU work (an embedding batch, a generation) from running at once.

    On 2 cores, a generation beside an ingest's embedding slows both by more than half;
    taking turns finishes each sooner.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self) -> threading.Lock:
        return self._lock
