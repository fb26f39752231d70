"""A second chance before "I don't know": what to search for again, from the first evidence.

The most common wrong answer is "I don't know" with the answer in reach: the question needs
a second file (the account manager is named in the customer list, their extension is in
the directory), or the first windows stopped just short of the fact. So a reply that
declines, or whose every sentence was withheld, gets one more try before the service says
so: the line of the first evidence that names what the question is about (its capitalised
names and codes) is added to the question and retrieval runs again; the new chunks join
the first ones and the evidence windows are drawn again, wider, around both.

Pure text, no model and no store: the answerer runs the searches (answerer.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.text import terms

# How much wider the second evidence is than the first (windows' token budget).
WIDER = 2
# Chunks the second evidence is drawn from, beyond the first retrieval's top_k.
EXTRA_CHUNKS = 2
_WORD = re.compile(r"[\w][\w'’.-]*\w|\w")
MAX_BRIDGE_CHARS = 300


def named_terms(question: str) -> set[str]:
    """The question's names and codes: capitalised words after its first, and words with a
    digit ("Drordu Hospital Trust", "SD-1884"). What the question is about, as opposed to
    what it asks ("extension", "discount")."""
    words = _WORD.findall(question)
    named = [w for i, w in enumerate(words) if any(ch.isdigit() for ch in w)
             or (i > 0 and w[0].isupper() and w != "I")]  # fmt: skip
    return terms(" ".join(named))


def bridge(question: str, sources: Sequence[str]) -> str:
    """What the second search adds to the question: from the passage of the first
    evidence that holds most of the question's names (a customer's row, a site's section),
    the fields the question asks through ("account manager: Suwai Leancego", "Assembled at:
    Kelderby"), or the whole passage when no field does; "" when no line names anything the
    question does."""
    names = named_terms(question)
    if not names:
        return ""
    best: tuple[int, str, int] = (0, "", 0)  # (score, text, line index)
    lines_of = [text.splitlines() for text in sources]
    for si, lines in enumerate(lines_of):
        for li, line in enumerate(lines):
            score = len(names & terms(line))
            if score > best[0]:
                best = (score, f"{si}", li)
    if not best[0]:
        return ""
    lines = lines_of[int(best[1])]
    passage = _section(lines, best[2])
    asks = terms(question) - names
    fields = [f for f in _FIELD.split(passage) if terms(f) & asks and not terms(f) & names]
    chosen = "; ".join(f.strip() for f in fields) if fields else passage
    return chosen.strip(" …")[:MAX_BRIDGE_CHARS]


def _section(lines: list[str], i: int, most: int = 6) -> str:
    """The line, and when it is a heading or a short label ("## Tollfe"), the lines under
    it up to the next heading: a site's manager is a few lines below its name."""
    line = lines[i].strip()
    if not (line.startswith("#") or len(line) < 40):
        return line
    block = [line]
    for nxt in lines[i + 1 : i + 1 + most]:
        if nxt.lstrip().startswith("#"):
            break
        block.append(nxt.strip())
    return "\n".join(block)


# A passage's fields: "key: value" pairs split at ";", "|", tabs and line breaks.
_FIELD = re.compile(r"\s*[;|\t\n]\s*")


def bridge_value(question: str, line: str) -> str:
    """The words of the bridge the question does not already hold, in their order
    ("account manager: Gasce Lurrudra" -> "Gasce Lurrudra"): what the second file is read
    around. The directory row of the person named, not the rows that share the question's
    words ("Account Manager" is also a job title, of other people)."""
    asked = terms(question)
    return " ".join(w for w in _WORD.findall(line) if not terms(w) <= asked)


def bridge_origin(line: str, sources: Sequence[str]) -> int | None:
    """Which of ``sources`` (0-based) the bridge ``line`` was taken from: the first that
    holds every term of it."""
    wanted = terms(line)
    return next((i for i, text in enumerate(sources) if wanted <= terms(text)), None)


def linking_terms(question: str, line: str) -> set[str]:
    """What the bridge line adds to the question (the account manager's name, the tier):
    two sources that both hold one of these are linked, so a sentence drawing on both cites
    both (attribution.py)."""
    return terms(line) - terms(question)
