"""Follow-up questions made standalone, so retrieval finds what they are about.

"And the Kelderby plant?" retrieves nothing useful on its own. A follow-up is rewritten by
the active model into a question that stands alone ("What are the weekday opening hours of
the Kelderby plant?"), and retrieval runs on that. A question that already stands alone is
recognised cheaply (``stands_alone``, no model) and left as it is.

The rewrite prompt is short (the latest exchanges as text, ~100 tokens, ~2 s on the 2-core
machine). It runs in the model's one context, so the conversation's context is saved
before and put back after it (kv_states.py): the answer still reads only its new tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.answering.history import Exchange
from app.answering.prompts import is_idk
from app.core.text import terms
from app.models.runner import LoadedModel, StopCheck

# Words that point back into the conversation: a question holding one does not stand alone.
# ("that", "then" and "such" are left out: in a question they are mostly not references.)
_REFERRING_WORDS = """it its it's itself this these those they them their theirs he she him
    her his hers there same former latter else other others another above previous earlier"""
_REFERRING = frozenset(_REFERRING_WORDS.split())
# Openings that continue the previous question ("And for Class C?", "What about Leeds?").
_CONTINUING = re.compile(
    r"^\s*(and|also|but|or|so|then|what about|how about|same|why|how come|plus)\b", re.I
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
MIN_TERMS = 2  # fewer content words than this ("Why?", "Which one?") is not a question alone
MAX_REWRITE_TOKENS = 48

SYSTEM = (
    "You rewrite a follow-up question so that it can be understood without the "
    "conversation before it. Reply with the rewritten question only."
)
REQUEST = "{turns}\nFollow-up question: {question}"
# Worked examples as earlier chat turns: with instructions alone the 1.5B model echoed the
# question or rewrote the instructions. Their subjects (a library, a bakery) are far from
# any company's documents, so a copied example retrieves nothing and is easy to spot. They
# are the same on every call, so llama.cpp keeps them read (the rewrite saves its context).
EXAMPLES = (
    (
        "Question: What are the opening hours of the North Street library?\n"
        "Answer: The North Street library is open from 10:00 to 17:00.\n"
        "Follow-up question: And the Harbour Road library?",
        "What are the opening hours of the Harbour Road library?",
    ),
    (
        "Question: Who runs the bakery on Mill Street?\n"
        "Answer: Anna Berg runs the bakery on Mill Street.\n"
        "Follow-up question: What is her phone number?",
        "What is the phone number of Anna Berg, who runs the bakery on Mill Street?",
    ),
)
TURNS = 2  # earlier exchanges shown to the rewrite: a follow-up leans on the latest ones
ANSWER_CHARS = 300
_CITE = re.compile(r"\s*\[\d{1,3}\]")


def stands_alone(question: str) -> bool:
    """True when the question needs no earlier turn to be understood (cheap, no model)."""
    if _CONTINUING.match(question):
        return False
    if _REFERRING & set(_WORD.findall(question.lower())):
        return False
    return len(terms(question)) >= MIN_TERMS


@dataclass
class Rewrite:
    question: str  # what the answer prompt asks: the rewrite, else the question as asked
    search: str  # what retrieval runs on: the rewrite, else this and the previous question
    rewritten: bool  # False: the question stood alone, or the model's rewrite was unusable
    prompt_tokens: int = 0
    prompt_reused: int = 0
    seconds: float = 0.0


def reply_line(reply: str) -> str:
    """A rewritten question as the model wrote it: its first line, without a label
    ("Rewritten question:") or the quotes around it. (Also the hop's, hop.py.)"""
    line = next((ln.strip() for ln in reply.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(rewritten question|question|next question)\s*:\s*", "", line, flags=re.I)
    return line.strip().strip("\"'“”").strip()


def clean(reply: str, question: str) -> str | None:
    """The rewrite from the model's reply, or None if it is no usable question."""
    line = reply_line(reply)
    if not line or is_idk(line) or len(line) > 400 or not terms(line):
        return None
    if _CONTINUING.match(line) or terms(line) <= terms(question):
        return None  # the question echoed, or still leaning on the one before
    return line


def fallback(question: str, history: Sequence[Exchange]) -> str:
    """Without a usable rewrite: the previous question and this one together, which is what
    a keyword search would need anyway."""
    return f"{history[-1].question} {question}" if history else question


def rewrite_messages(question: str, history: Sequence[Exchange]) -> list[dict[str, str]]:
    """A short prompt of its own: the latest exchanges as plain text, then the follow-up.
    (Appended to the conversation under the answer prompt instead, the 1.5B model often
    replied "I don't know": that prompt's rule for questions its sources do not answer.)"""
    lines = []
    for ex in history[-TURNS:]:
        answer = _CITE.sub("", ex.answer).strip()[:ANSWER_CHARS]
        lines.append(f"Question: {ex.question.strip()}\nAnswer: {answer}")
    turns = "\n".join(lines)
    messages = [{"role": "system", "content": SYSTEM}]
    for asked, rewritten in EXAMPLES:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": rewritten})
    content = REQUEST.format(turns=turns, question=question.strip())
    return [*messages, {"role": "user", "content": content}]


def rewrite(
    model: LoadedModel,
    question: str,
    history: Sequence[Exchange],
    should_stop: StopCheck | None = None,
) -> Rewrite:
    messages = rewrite_messages(question, history)
    result = model.generate(
        messages,
        max_tokens=MAX_REWRITE_TOKENS,
        temperature=0.0,
        should_stop=should_stop,
        keep_state=True,
    )
    text = clean(result.text, question)
    return Rewrite(
        question=text or question,
        search=text or fallback(question, history),
        rewritten=text is not None,
        prompt_tokens=result.prompt_tokens,
        prompt_reused=result.prompt_reused,
        seconds=result.seconds,
    )
