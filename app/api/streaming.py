"""Run an answer in a worker thread and hand its tokens to a streaming response."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from app.api.state import ServiceState
from app.core.vectorstore import SearchFilter
from app.generation.answer import Answer


def answer_events(
    state: ServiceState,
    question: str,
    top_k: int,
    filter: SearchFilter | None,
    max_tokens: int,
    temperature: float,
) -> Iterator[tuple[str, str | Answer | Exception]]:
    """Yields ("token", text) as generated, then ("done", Answer) or ("error", exception)."""
    events: queue.Queue[tuple[str, str | Answer | Exception]] = queue.Queue()

    def work() -> None:
        try:
            answer = state.answerer.answer(
                question, top_k, filter, max_tokens, temperature,
                on_token=lambda piece: events.put(("token", piece)),
            )  # fmt: skip
            state.record_answer(answer)
            events.put(("done", answer))
        except Exception as exc:  # reported in-band: the HTTP status is already sent
            events.put(("error", exc))

    threading.Thread(target=work, daemon=True, name="answer-stream").start()
    while True:
        kind, payload = events.get()
        yield kind, payload
        if kind != "token":
            return
