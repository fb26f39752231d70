"""The second hop of a two-document question, asked as a question of its own.

"How do I phone the account manager of Dreambre Laboratories?" needs the account manager
from the customer list and the extension from the directory. The second chance finds the
bridge ("account manager: Gasce Lurrudra", second_chance.py), but with the customer rows
and the directory row in front of it the 1.5B model still declined: it does not make the
hop itself, and it declines "how do I" questions whose source gives a value ("How do I
phone Gasce Lurrudra?" got "I don't know" with the row holding the extension shown, "What
is the phone number of Gasce Lurrudra?" got the extension). So the model is first asked a
smaller thing, with two worked examples as the follow-up rewrite is (rewrite.py): put the
bridge's value in place of what the question describes, as a "what is" question. That
question is one hop, answered from evidence drawn for it; the answer still cites both
files, through the bridge's terms (attribution.py).

Like the rewrite, this is a short prompt of its own (~150 tokens), and its reply is checked
before use: a reply that is no question, or that does not hold the bridge's value, is not
used and the second chance asks the question as it was.
"""

from __future__ import annotations

from app.answering.prompts import is_idk
from app.answering.rewrite import reply_line
from app.core.text import terms
from app.models.runner import GenerationResult, LoadedModel, StopCheck

MAX_HOP_TOKENS = 48
SYSTEM = (
    "You rewrite a question using a fact: the person or thing the question describes is "
    "replaced by the name the fact gives. Reply with the rewritten question only."
)
REQUEST = "Fact: {fact}\nQuestion: {question}"
# Worked examples as earlier chat turns (their subjects, a bakery and a chess club, are far
# from any company's documents, so a copied example is easy to spot and finds nothing).
EXAMPLES = (
    (
        "Fact: head baker: Anna Berg\n"
        "Question: How do I call the head baker at the Mill Street bakery?",
        "What is the phone number of Anna Berg?",
    ),
    (
        "Fact: member: Tom Reed; level: gold\n"
        "Question: What yearly fee does the chess club charge its member Tom Reed?",
        "What yearly fee does the chess club charge gold members?",
    ),
)


def hop_messages(question: str, fact: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": SYSTEM}]
    for asked, rewritten in EXAMPLES:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": rewritten})
    content = REQUEST.format(fact=" ".join(fact.split()), question=question.strip())
    return [*messages, {"role": "user", "content": content}]


def clean(reply: str, question: str, value: str) -> str | None:
    """The second hop's question from the model's reply, or None: no question, the
    question echoed, or one that does not name what the bridge gave (``value``)."""
    line = reply_line(reply)
    if not line or is_idk(line) or len(line) > 400 or terms(line) <= terms(question):
        return None
    if not terms(line) & terms(value):
        return None
    return line


def second_hop(
    model: LoadedModel,
    question: str,
    fact: str,
    value: str,
    should_stop: StopCheck | None = None,
) -> tuple[str | None, GenerationResult]:
    """The one-hop question (or None), and the generation that wrote it (its tokens count
    in the answer's)."""
    result = model.generate(
        hop_messages(question, fact),
        max_tokens=MAX_HOP_TOKENS,
        temperature=0.0,
        should_stop=should_stop,
        keep_state=True,
    )
    return clean(result.text, question, value), result
