"""Question -> grounded answer with citations: retrieval, prompt, generation, citation check.

Used by the API, the OpenAI-compatible endpoint and ``factvault query`` alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from app.core.vectorstore import SearchFilter
from app.generation.hotswap import ModelManager
from app.generation.prompts import (
    IDK,
    PromptSource,
    build_messages,
    cited_numbers,
    is_idk,
)
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


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        models: ModelManager,
        cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
        collection_name: Callable[[], str | None] | None = None,
        require_citations: bool = True,
    ) -> None:
        self.require_citations = require_citations
        self.retriever = retriever
        self.models = models
        self._cpu_gate = cpu_gate or (lambda: nullcontext())
        self._collection_name = collection_name or (lambda: None)

    def answer(
        self,
        question: str,
        top_k: int = 5,
        filter: SearchFilter | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        chunks = self.retriever.retrieve(question, top_k, "hybrid", filter)
        timings["retrieve"] = time.perf_counter() - t0
        sources = [citation_from_chunk(n, c) for n, c in enumerate(chunks, start=1)]
        messages = build_messages(
            question,
            [PromptSource(s.n, s.title or s.source, s.text) for s in sources],
        )
        with self.models.lease() as model:
            t1 = time.perf_counter()
            with self._cpu_gate():
                timings["queue"] = time.perf_counter() - t1
                result = model.generate(
                    messages, max_tokens=max_tokens, temperature=temperature, on_token=on_token
                )
            timings["generate"] = result.seconds
            if result.first_token_seconds is not None:
                timings["first_token"] = result.first_token_seconds
            name, sha = model.name, model.sha256
        text = result.text or IDK
        cited = [] if is_idk(text) else cited_numbers(text, len(sources))
        grounded = True
        if self.require_citations and not cited and not is_idk(text):
            # No citation, no answer: an uncited reply is not grounded in the sources (and
            # is what a prompt injection inside a document typically produces).
            grounded = False
            text = IDK
        timings["total"] = time.perf_counter() - t0
        return Answer(
            answer=text,
            citations=[sources[n - 1] for n in cited],
            sources=sources,
            model_name=name,
            model_sha256=sha,
            index_version=self._collection_name(),
            timings=timings,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            grounded=grounded,
        )


class CpuGate:
    """Keeps heavy CPU work (an embedding batch, a generation) from running at once.

    On 2 cores, a generation beside an ingest's embedding slows both by more than half;
    taking turns finishes each sooner.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self) -> threading.Lock:
        return self._lock
