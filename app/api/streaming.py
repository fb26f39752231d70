"""Run an answer in a worker thread and hand what it releases to a streaming response.

The answer runs in its own thread (llama.cpp blocks); what it releases comes back to the
event loop through an asyncio queue. When the client goes away, Starlette cancels the
response, this generator's ``finally`` sets the cancel flag, and the generation stops at its
next token instead of running to ``max_tokens`` for nobody.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from app.answering.request import AskRequest, Stream
from app.service import FactVault

DISCONNECT_POLL_SECONDS = 0.2  # how often a plain (non-streamed) answer's client is looked at
Event = tuple[str, Any]  # ("started", ""), ("token", str), ("done", result), ("error", exc)


Ask = Callable[[Stream], Any]  # ask(stream) -> an Answer, or a Reply


def asker(service: FactVault, caller_key: int | None, request: AskRequest) -> Ask:
    """One question of one caller, ready to run plainly or streamed."""
    return lambda stream: service.ask(caller_key, request, stream)


async def answer_plainly(ask: Ask, request: Request) -> Any:
    """The answer as one response, run in a worker thread. If the client goes away before
    it is done, the answer is cancelled: dropped before its prompt is read if it is still
    waiting for the model, else stopped within a fraction of a second (runner.py). A stream
    needs no watcher: its response starts before the model is free, and Starlette cancels
    it when the client leaves (answer_events sets the flag then)."""
    cancel = threading.Event()
    watcher = asyncio.create_task(_watch_disconnect(request, cancel))
    try:
        return await run_in_threadpool(ask, Stream(cancelled=cancel.is_set))
    finally:
        watcher.cancel()


async def _watch_disconnect(request: Request, cancel: threading.Event) -> None:
    while not cancel.is_set():
        if await request.is_disconnected():
            cancel.set()
            return
        await asyncio.sleep(DISCONNECT_POLL_SECONDS)


async def open_answer_stream(ask: Ask) -> AsyncIterator[Event]:
    """The answer's events, once it is under way: whatever fails before generation starts
    (no index, the model's queue full, a question too long) is raised here, so the caller
    answers it with its own HTTP status instead of a 200 stream that carries an error."""
    events = answer_events(ask)
    kind, payload = await anext(events)
    if kind == "error":
        assert isinstance(payload, Exception)
        raise payload
    return events


async def answer_events(ask: Ask) -> AsyncIterator[Event]:
    """Yields ("started", ""), then ("token", text) as released, then ("done", Answer); or
    ("error", exception) at any point.

    ``ask(stream)`` runs the answer in a worker thread."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event] = asyncio.Queue()
    cancel = threading.Event()

    def put(event: Event) -> None:
        try:
            loop.call_soon_threadsafe(events.put_nowait, event)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            cancel.set()

    def work() -> None:
        try:
            hooks = Stream(lambda: put(("started", "")), lambda t: put(("token", t)), cancel.is_set)
            answer = ask(hooks)
            put(("done", answer))
        except Exception as exc:  # reported in-band: the HTTP status is already sent
            put(("error", exc))

    threading.Thread(target=work, daemon=True, name="answer-stream").start()
    try:
        while True:
            kind, payload = await events.get()
            yield kind, payload
            if kind in ("done", "error"):
                return
    finally:
        cancel.set()
