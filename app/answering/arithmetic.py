"""Figures computed, not guessed: a sum or a difference of numbers the sources give.

A small model asked "how many dock doors do Tollfe and Surca have together?" declines, or
adds wrongly. So for a question that asks for a total or a difference the model is asked
only to copy the numbers it needs, one per line with its source (``FIGURES_TASK``); each
line is checked against its source like any answer sentence (attribution.py: the number
must be in it), and the service does the arithmetic: exact decimals, addition and
subtraction only, no ``eval``. The answer shows the figures with their citations and the
result: "Tollfe: 23 [1]. Surca: 21 [1]. 23 + 21 = 44."

Pure text, no model: the answerer runs the generation (answerer.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.answering.attribution import Attributed, Attributor

_SUM = re.compile(
    r"\b(together|combined|in total|altogether|add up|added up|sum of|total number|"
    r"between them|all together)\b",
    re.I,
)
_DIFFERENCE = re.compile(
    r"\b(difference between|how many more|how much more|how many fewer|how much less)\b", re.I
)
# What the model is asked instead of an answer (the sources and question come before it).
# Measured against other wordings with the 1.5B model: asked for "what = number" lines or
# shown an example, it wrote bare numbers or the sum; asked for the name a number belongs
# to, it wrote "Tollfe: 23 [1] Surca: 21 [1]".
FIGURES_TASK = (
    "Do not add them up. For each number the question needs, write one line: the name it "
    "belongs to, a colon, the number as the source writes it, and its source like [1]."
)
# "Tollfe: 23 [1]" or "Tollfe dock doors = 23 doors [1]", one per line or run together.
_FIGURE = re.compile(
    r"(?:^|(?<=[\]\n;,]))\s*(?:[-*•]\s*|\d+[.)]\s+)?(?P<label>[^\W\d][^:=\[\]\n]{0,80}?)"
    r"\s*[=:]\s*(?P<number>[-−]?\d[\d,]*(?:\.\d+)?)(?![\d.]\d)(?P<rest>[^\[\]\n]{0,40}?)"
    r"(?P<cites>(?:\s*\[\d{1,3}\])+)"
)


@dataclass(frozen=True)
class Figure:
    label: str
    value: Decimal
    text: str  # the line as the answer shows it, its citations checked
    sources: tuple[int, ...]


# "the Pildrea and Kolsto sites", "Lumen Mini and TQ-4710": two names joined by "and".
_NAME = r"[A-Z][\w'’-]*(?: [A-Z0-9][\w'’-]*)*"
_PAIR = re.compile(rf"\b({_NAME}) and (?:the |one |a )?({_NAME})")


def one_each(question: str) -> list[str]:
    """The question asked of each of the two things it sums ("How many dock doors do the
    Pildrea sites have together?", then the same of Kolsto), or [] when it names no pair."""
    m = _PAIR.search(question)
    if m is None:
        return []
    return [question[: m.start()] + name + question[m.end() :] for name in (m[1], m[2])]


def operation(question: str) -> str | None:
    """ "sum" or "difference" when the question asks for one, else None."""
    if _DIFFERENCE.search(question):
        return "difference"
    if _SUM.search(question):
        return "sum"
    return None


def figures(reply: str, attributor: Attributor) -> list[Figure]:
    """The reply's "name: number [n]" figures that their sources support, once each."""
    found: list[Figure] = []
    for m in _FIGURE.finditer(reply):
        number = m["number"].replace(",", "").replace("−", "-")
        try:
            value = Decimal(number)
        except InvalidOperation:
            continue
        unit = m["rest"].strip(" .;,")
        said = " ".join(p for p in (f"{m['label']}:", m["number"], unit, m["cites"].strip()) if p)
        verdict: Attributed = attributor.attribute(said)
        texts = [attributor.sources[n - 1] for n in verdict.sources]
        if not verdict.supported or not _after_its_name(m["label"], number, texts):
            continue
        if all(f.label.lower() != m["label"].lower() for f in found):
            found.append(Figure(m["label"], value, verdict.text, verdict.sources))
    return found


def _after_its_name(label: str, number: str, texts: list[str]) -> bool:
    """The number stands in its name's record: after the name, before the next record
    (the next line that starts as the name's line does: a table row, "Code: ...", a
    "## Site" heading) and within ``NEAR`` characters, or before the name on its line.
    "Pildrea: 15" is wrong where 15 sits in the row above Pildrea's."""
    names = re.findall(r"[A-Z][\w'’-]*(?: [A-Z0-9][\w'’-]*)*", label)
    name = names[0] if names else next(iter(re.findall(r"[^\W\d_]{3,}", label)), "")
    if not name:
        return True
    figure = re.compile(rf"(?<![\d.]){re.escape(number)}(?![\d]|[.,]\d)")
    for text in texts:
        flat = text.replace(",", "") if "," not in number else text
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", flat, re.I):
            line_start = flat.rfind("\n", 0, m.start()) + 1
            line = flat[line_start : flat.find("\n", m.start()) % (len(flat) + 1)]
            lead = line.split(maxsplit=1)[0] if line.split() else ""
            end = m.end() + NEAR
            if lead:  # the next record starts as this one does
                nxt = re.search(rf"\n\s*{re.escape(lead)}", flat[m.end() : end])
                end = m.end() + nxt.start() if nxt else end
            if figure.search(flat[m.end() : end]) or figure.search(flat[line_start : m.start()]):
                return True
    return False


# How far after its name (in characters) a figure may stand: a table row, a short section.
NEAR = 160


def compute(op: str, values: list[Decimal]) -> Decimal | None:
    """The sum of two or more values, or the difference of exactly two (larger less
    smaller); None when the figures do not fit the operation."""
    if op == "sum" and len(values) >= 2:
        return sum(values, Decimal(0))
    if op == "difference" and len(values) == 2:
        return abs(values[0] - values[1])
    return None


def worked(op: str, found: list[Figure]) -> str | None:
    """The answer: each figure with its citation, then the calculation; None when the
    figures do not give one."""
    result = compute(op, [f.value for f in found])
    if result is None:
        return None
    lines = [f.text.rstrip(".") + "." for f in found]
    sign = " + " if op == "sum" else " - "
    values = [str(f.value) for f in found]
    if op == "difference" and found[0].value < found[1].value:
        values.reverse()
    lines.append(f"{sign.join(values)} = {_plain(result)}.")
    return " ".join(lines)


def _plain(value: Decimal) -> str:
    """1234.50 -> "1234.5", 44 -> "44": as a person writes a result."""
    return format(value.normalize(), "f")
