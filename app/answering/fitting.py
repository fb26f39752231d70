"""A prompt fitted to the model's context: the sources that fit beside the question, the
instructions, the earlier turns and the reply.

Its own module because every attempt at an answer (the first and the second chance) fits
its prompt the same way, and the service maps ``PromptTooLong`` to a 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from app.answering.history import MESSAGE_OVERHEAD
from app.answering.prompts import PromptSource, build_messages, format_sources
from app.answering.types import Citation, heading
from app.models.runner import LoadedModel

# Tokens the chat template adds around the messages (role markers, BOS/EOS), with room to
# spare: every template of the bundled models adds fewer than 30.
TEMPLATE_TOKENS = 64
MIN_REPLY_TOKENS = 16


class PromptTooLong(ValueError):
    """The question alone leaves no room for sources and a reply in the model's context."""


def fit_prompt(
    model: LoadedModel,
    question: str,
    sources: list[Citation],
    max_tokens: int,
    version: str = "v2",
    history: Sequence[dict[str, str]] = (),
    task: str | None = None,
) -> tuple[list[dict[str, str]], list[Citation], int]:
    """The prompt, the sources it holds and the reply budget, fitted to the model's context.

    Sources go in rank order while they fit beside the question, the instructions and the
    reply; the first one that does not fit is cut to the room left and the rest are dropped.
    So no retrieval setting (``top_k``, chunk size) can overflow the context. The reply keeps
    at least ``MIN_REPLY_TOKENS``; a question that leaves less raises ``PromptTooLong``.
    """

    def label(s: Citation) -> str:  # v1 named a source by its title alone
        return (s.title or s.source) if version == "v1" else heading(s)

    window = model.context_tokens - TEMPLATE_TOKENS
    bare = build_messages(question, [], version, history, task)
    # Each earlier message adds its role markers beyond the template's allowance.
    fixed = sum(model.count_tokens(m["content"]) for m in bare) + MESSAGE_OVERHEAD * len(history)
    fixed += model.count_tokens(task) if task else 0  # (the bare prompt has no task line)
    if fixed + MIN_REPLY_TOKENS > window:
        raise PromptTooLong(
            f"the question takes {fixed} of the model's {model.context_tokens} context tokens: "
            "shorten it"
        )
    max_tokens = min(max_tokens, window - fixed)
    room = window - fixed - max_tokens
    shown: list[Citation] = []
    for s in sources:
        block = PromptSource(s.n, label(s), s.text)
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
        question, [PromptSource(s.n, label(s), s.text) for s in shown], version, history, task
    )
    return messages, shown, max_tokens
