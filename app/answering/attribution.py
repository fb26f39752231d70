"""Which numbered source supports each answer sentence, judged on the text, not the model.

A small model often writes a right sentence with a wrong ``[n]``, or none at all; throwing
such an answer away (the older rule) lost right answers. Here each sentence is compared with
every source it could come from: the IDF-free share of its content terms (numbers and codes
weigh double) found in that source. The model's own numbers are kept when their source
supports the sentence, wrong ones are replaced by the best supporting source, missing ones
added; a sentence no source supports is withheld. Terms the question already holds count
only half: echoing the question proves nothing about the answer, and a sentence that only
restates an open question ("The serial number is [1].") is not an answer at all.

Pure text, no model: testable on its own, and the same code judges a stream and a reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.text import squash, terms

# A sentence is supported by a source holding at least this share of its (weighted) terms.
SUPPORT = 0.6
_CITE = re.compile(r"\s*\[(\d{1,3})\]")
_NUMERIC = re.compile(r"\d")
# A question answered by a fact (not yes or no): its answer must say something it does not.
_OPEN = re.compile(r"(what|which|who|whom|whose|when|where|why|how|in what|on which)\b", re.I)


@dataclass(frozen=True)
class Attributed:
    text: str  # the sentence as the answer shows it, citations corrected
    supported: bool
    sources: tuple[int, ...]  # source numbers (1-based) that support it


@dataclass(frozen=True)
class Attributor:
    """Judges answer sentences against the numbered sources one question was answered from."""

    question: str
    sources: Sequence[str]  # source n's text is sources[n - 1]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_question_terms", terms(self.question))
        object.__setattr__(self, "_source_terms", [terms(s) for s in self.sources])
        object.__setattr__(self, "_source_text", [squash(s) for s in self.sources])
        object.__setattr__(self, "_open_question", bool(_OPEN.match(self.question.strip())))

    def content_terms(self, sentence: str) -> set[str]:
        return terms(_CITE.sub(" ", sentence))

    def coverage(self, sentence_terms: set[str], n: int) -> float:
        """Weighted share of the sentence's terms that source ``n`` holds (0..1)."""
        have = self._source_terms[n - 1]  # type: ignore[attr-defined]
        text = self._source_text[n - 1]  # type: ignore[attr-defined]
        asked = self._question_terms  # type: ignore[attr-defined]
        total = found = 0.0
        for t in sentence_terms:
            numeric = bool(_NUMERIC.search(t))
            w = 2.0 if numeric else 1.0
            if t in asked:
                w *= 0.5
            total += w
            # A number or code also counts inside glued text ("60Projector", "4455,priya").
            if t in have or (numeric and t in text):
                found += w
        return found / total if total else 0.0

    def attribute(self, sentence: str) -> Attributed:
        """The sentence with its citations checked: right ones kept, wrong ones replaced,
        missing ones added; unsupported when no source holds enough of it."""
        cited = [int(m) for m in _CITE.findall(sentence)]
        words = self.content_terms(sentence)
        if not words:  # "Yes." and the like: carried by the sentences around it
            return Attributed(sentence, False, ())
        asked = self._question_terms  # type: ignore[attr-defined]
        if self._open_question and words <= asked:  # type: ignore[attr-defined]
            # "The serial number of the golden unit is [1]." restates the question and
            # answers nothing, however well a source "supports" it.
            return Attributed(sentence, False, ())
        scores = {n: self.coverage(words, n) for n in range(1, len(self.sources) + 1)}
        keep = [n for n in dict.fromkeys(cited) if scores.get(n, 0.0) >= SUPPORT]
        if keep:
            sources = tuple(keep)
        else:
            best = max(scores, key=lambda n: (scores[n], -n), default=None)
            if best is None or scores[best] < SUPPORT:
                return Attributed(sentence, False, ())
            sources = (best,)
        if tuple(dict.fromkeys(cited)) == sources:
            return Attributed(sentence, True, sources)
        return Attributed(recite(sentence, sources), True, sources)


def recite(sentence: str, sources: Sequence[int]) -> str:
    """The sentence with its ``[n]`` markers replaced by ``sources``, placed before its
    closing punctuation (and the white space that ends it kept)."""
    body = _CITE.sub("", sentence)
    if sentence[:1].strip():  # a leading "[1] " goes without leaving its space behind
        body = body.lstrip()
    stripped = body.rstrip()
    trailing = body[len(stripped) :]
    m = re.search(r"[.!?:;]+[\"')]*$", stripped)
    end = m.start() if m else len(stripped)
    marks = "".join(f"[{n}]" for n in sources)
    return f"{stripped[:end].rstrip()} {marks}{stripped[end:]}{trailing}"
