"""What a caller asks, and the hooks of a caller that streams: two objects instead of the
ten parameters that every layer (route, service, answerer) used to repeat.

An :class:`AskRequest` is plain data (it could be logged or queued); a :class:`Stream` holds
the callbacks of one running answer and is never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.answering.history import Exchange
from app.core.vectorstore import SearchFilter


@dataclass(frozen=True)
class AskRequest:
    """One question and what shapes its answer.

    ``top_k`` and ``max_tokens`` left as None take the server's settings (the service
    fills them in; ``max_tokens`` is capped by the server whatever is asked). ``history``:
    a conversation's earlier turns, oldest first (a follow-up is rewritten to stand alone).
    ``keep_state``: a next turn is expected, so the model keeps this turn's context
    (kv_states.py).
    """

    question: str
    top_k: int | None = None
    filter: SearchFilter | None = None
    max_tokens: int | None = None
    temperature: float = 0.0
    history: tuple[Exchange, ...] = ()
    keep_state: bool = False


@dataclass(frozen=True)
class Stream:
    """The hooks of a caller that shows the answer as it comes.

    ``on_start``: the prompt is ready (nothing can be refused after it but generation
    itself). ``on_token``: text the final answer keeps (release.py). ``cancelled``: polled
    while generating; true stops the generation (the client went away).
    """

    on_start: Callable[[], None] | None = None
    on_token: Callable[[str], None] | None = None
    cancelled: Callable[[], bool] | None = None


QUIET = Stream()  # a caller that waits for the whole answer
