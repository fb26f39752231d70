"""A conversation's earlier turns in the answer prompt, laid out so each turn extends the last.

The prompt of turn n is: the system prompt, then every kept earlier turn as the user message
it was asked with (its evidence and question, exactly as sent then) and the answer given,
then turn n's evidence and question. So turn n's prompt begins with turn n-1's prompt and
reply, and llama.cpp reads only what is new (kv_states.py). The price is that old evidence
stays in the prompt; ``fit_history`` bounds it to a token budget, oldest turns dropped
first, never an error.

Clients of the OpenAI endpoint send their history themselves, as plain questions and
answers; those go in the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Exchange:
    """One earlier turn: the standalone question it answered, the user message the model
    was sent for it (evidence and question), and the answer given."""

    question: str
    prompt: str
    answer: str


# The few tokens a chat template adds around each message (role markers).
MESSAGE_OVERHEAD = 6


def fit_history(
    exchanges: Sequence[Exchange], budget: int, count_tokens: Callable[[str], int]
) -> list[Exchange]:
    """The latest turns that fit in ``budget`` tokens, in order (oldest dropped first)."""
    kept: list[Exchange] = []
    room = budget
    for ex in reversed(exchanges):
        cost = count_tokens(ex.prompt) + count_tokens(ex.answer) + 2 * MESSAGE_OVERHEAD
        if cost > room:
            break
        kept.append(ex)
        room -= cost
    return kept[::-1]


def history_messages(exchanges: Sequence[Exchange]) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for ex in exchanges:
        messages.append({"role": "user", "content": ex.prompt})
        messages.append({"role": "assistant", "content": ex.answer})
    return messages
