"""Which numbered source supports each answer sentence, judged on the text, not the model.

A small model often writes a right sentence with a wrong ``[n]``, or none at all; throwing
such an answer away (the older rule) lost right answers. Here each sentence is compared with
every source it could come from: the IDF-free share of its content terms (numbers and codes
weigh double) found in that source. The model's own numbers are kept when their source
supports the sentence, wrong ones are replaced by the best supporting source, missing ones
added; a sentence no source supports is withheld. Every figure a sentence adds to the question
must be in its source (a right sentence with a wrong number is wrong), and a sentence that
joins two sources (an approver from one file, their extension from another) cites both
when neither holds enough of it alone. Terms the question already holds count
only half: echoing the question proves nothing about the answer, and a sentence that only
restates an open question ("The serial number is [1].") is not an answer at all.

Pure text, no model: testable on its own, and the same code judges a stream and a reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from app.core.text import squash, terms

# A sentence is supported by a source holding at least this share of its (weighted) terms.
SUPPORT = 0.6
# Two sources are cited for one sentence when together they cover this much more of it than
# the best one alone (or when neither supports it alone and together they do).
JOINT = 0.25
_CITE = re.compile(r"\s*\[(\d{1,3})\]")
_NUMERIC = re.compile(r"\d")
# A question answered by a fact (not yes or no): its answer must say something it does not.
_OPEN = re.compile(r"(what|which|who|whom|whose|when|where|why|how|in what|on which)\b", re.I)
# A question whose answer is a figure: a sentence without one does not answer it ("The
# discount for Drordu Hospital Trust is [2]." lost its number).
_FIGURE_ASKED = re.compile(
    r"\b(how many|how much|what number|which number|what percentage|"
    r"(?:what|which) (?:phone )?extension|extension (?:of|for|does|do)|"
    r"(?:what|which) (?:is|are) the (?:\w+ )?(?:price|cost|fee|discount)s?)\b",
    re.I,
)
# A question for a time or a date: a sentence with neither a figure nor a month or a day's
# name does not answer it ("The file server migration is scheduled for [1].").
_WHEN_ASKED = re.compile(
    r"^\s*(?:when\b|(?:by |at |on |from )?(?:what|which) (?:time|date|day|month|year)\b)", re.I
)
# A sentence that stops where its value should be ("The quoted price after the tier
# discount is [1].", "… is the."): the value was lost, whatever it was. Unless the verb
# closes a clause that a question word opened: "… and say where the fire is [1]." is whole.
_DANGLING = re.compile(r"\b(?:is|are|was|were|be|of|for|to|the|a|an)\W*$", re.I)
_WH_CLAUSE = re.compile(
    r"\b(?:where|what|who|which|how|when|whatever|wherever)\b[^.,;:]*\b(?:is|are|was|were)\W*$",
    re.I,
)
_WHEN = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:noon|midnight|today|tomorrow)\b",
    re.I,
)


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
    # Terms that tie two sources together beyond the sentence's own (the bridge a second
    # search went through: second_chance.py).
    links: frozenset[str] = frozenset()
    # The reply was asked for without "I don't know" on offer (prompts.PRESSED_TASK), so
    # the model answers something even where the sources do not: a sentence must also say
    # what the question asks about (one of its words beyond its names), not only something
    # about its names ("There are 20 dock doors at Stealdo." for "How many cars can park at
    # Stealdo?").
    strict: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "_question_terms", terms(self.question))
        object.__setattr__(self, "_source_terms", [terms(s) for s in self.sources])
        object.__setattr__(self, "_source_text", [squash(s) for s in self.sources])
        object.__setattr__(self, "_source_words", [_words(s) for s in self.sources])
        object.__setattr__(self, "_names", _names(self.question))
        # What the question asks about its names ("parking spaces" of the site), in terms.
        named = terms(" ".join(_capitalised(self.question)))
        object.__setattr__(self, "_name_terms", named)
        object.__setattr__(self, "_attribute_terms", terms(self.question) - named)
        object.__setattr__(self, "_open_question", bool(_OPEN.match(self.question.strip())))
        object.__setattr__(self, "_figure_asked", bool(_FIGURE_ASKED.search(self.question)))
        object.__setattr__(self, "_when_asked", bool(_WHEN_ASKED.search(self.question)))

    def on_topic(self, text: str) -> bool:
        """``text`` names what an open question asks about (one of its words beyond its
        names), when it asks about anything: the bar for showing the first words of a
        sentence before its end (release.py), where "There are 47" could yet go on "dock
        doors" for a question about parking spaces."""
        attribute = self._attribute_terms  # type: ignore[attr-defined]
        if not (self._open_question and attribute):  # type: ignore[attr-defined]
            return True
        return bool(self.content_terms(text) & attribute)

    def adds_figure(self, text: str) -> bool:
        """``text`` holds a number or code the question does not."""
        asked = self._question_terms  # type: ignore[attr-defined]
        return any(_NUMERIC.search(t) for t in self.content_terms(text) - asked)

    def content_terms(self, sentence: str) -> set[str]:
        return terms(_CITE.sub(" ", sentence))

    def coverage(self, sentence_terms: set[str], *ns: int) -> float:
        """Weighted share of the sentence's terms that sources ``ns`` hold together (0..1)."""
        asked = self._question_terms  # type: ignore[attr-defined]
        total = found = 0.0
        for t in sentence_terms:
            w = 2.0 if _NUMERIC.search(t) else 1.0
            if t in asked:
                w *= 0.5
            total += w
            if any(self._holds(n, t) for n in ns):
                found += w
        return found / total if total else 0.0

    def _holds(self, n: int, term: str) -> bool:
        if term in self._source_terms[n - 1]:  # type: ignore[attr-defined]
            return True
        # A number or code also counts inside glued text ("60Projector", "4455,priya"),
        # but never as part of a longer number: "330" is not in "3301", nor "2" in "24".
        return bool(_NUMERIC.search(term)) and _inside(term, self._source_text[n - 1])  # type: ignore[attr-defined]

    def _supports(self, words: set[str], *ns: int) -> bool:
        """Sources ``ns`` hold enough of the sentence, and every number it adds to the
        question: a sentence with a wrong figure is wrong however much else matches."""
        if self.coverage(words, *ns) < SUPPORT or self._namesake(*ns):
            return False
        # A sentence that says the asked-for attribute its sources never mention is about
        # another one ("parking spaces ... is 47": 47 is the dock doors).
        said = words & self._attribute_terms  # type: ignore[attr-defined]
        # (Fewer than a third of them: a paraphrase keeps some of the question's words.)
        if len(said) >= 2 and 3 * sum(any(self._holds(n, t) for n in ns) for t in said) < len(said):
            return False
        asked = self._question_terms  # type: ignore[attr-defined]
        figures = [t for t in words if _NUMERIC.search(t) and t not in asked]
        return all(any(self._holds(n, t) for n in ns) for t in figures)

    def _about_the_question(self, words: set[str], ns: tuple[int, ...]) -> bool:
        """A pressed reply's sources hold one of the question's names (or the bridge's,
        ``links``) when it has any, and every code of the question the sentence repeats:
        "The IT helpdesk is on extension 3888." does not answer a question about Kesto
        Weahapi, nor does "The price of KR-8936 is 17 pounds." stand on a source without
        KR-8936."""
        names = self._name_terms | self.links  # type: ignore[attr-defined]
        if self._name_terms and not any(self._holds(n, t) for n in ns for t in names):  # type: ignore[attr-defined]
            return False
        codes = {t for t in words & self._question_terms if _NUMERIC.search(t)}  # type: ignore[attr-defined]
        return all(any(self._holds(n, t) for n in ns) for t in codes)

    def _namesake(self, *ns: int) -> bool:
        """The sources name someone one letter away from a name the question asks about,
        and never that name itself: they are about a namesake ("Heathtruha" for the
        question's "Heathtruhas"), so whatever they say does not answer it."""
        held = set().union(*(self._source_words[n - 1] for n in ns))  # type: ignore[attr-defined]
        return any(
            name not in held and any(_one_apart(name, w) for w in held)
            for name in self._names  # type: ignore[attr-defined]
        )

    def _pair(self, words: set[str], floor: float) -> tuple[int, ...]:
        """Two sources that together cover more than ``floor`` of the sentence (an approver
        from one file, their extension from another); the best-covering pair, or ()."""
        best: tuple[float, tuple[int, ...]] = (floor, ())
        for a, b in combinations(range(1, len(self.sources) + 1), 2):
            score = self.coverage(words, a, b)
            if score <= best[0] or not self._supports(words, a, b):
                continue
            held = {t: (self._holds(a, t), self._holds(b, t)) for t in words}
            # Each adds to the other, and they are linked by a term of the sentence both hold
            # that the question did not (the approver's name): not the asked-for name from
            # one row and a number from another.
            asked = self._question_terms  # type: ignore[attr-defined]
            linked = any(h == (True, True) and t not in asked for t, h in held.items()) or any(
                self._holds(a, t) and self._holds(b, t) for t in self.links
            )
            if (True, False) in held.values() and (False, True) in held.values() and linked:
                best = (score, (a, b))
        return best[1]

    def attribute(self, sentence: str) -> Attributed:
        """The sentence with its citations checked: right ones kept, wrong ones replaced,
        missing ones added; unsupported when no source (or pair of sources) holds enough
        of it."""
        cited = [int(m) for m in _CITE.findall(sentence)]
        words = self.content_terms(sentence)
        if not words:  # "Yes." and the like: carried by the sentences around it
            return Attributed(sentence, False, ())
        asked = self._question_terms  # type: ignore[attr-defined]
        if self._open_question and words <= asked:  # type: ignore[attr-defined]
            # "The serial number of the golden unit is [1]." restates the question and
            # answers nothing, however well a source "supports" it.
            return Attributed(sentence, False, ())
        bare = _CITE.sub(" ", sentence)
        if _DANGLING.search(bare) and not _WH_CLAUSE.search(bare):
            return Attributed(sentence, False, ())
        attribute = self._attribute_terms  # type: ignore[attr-defined]
        if self.strict and self._open_question and attribute and not words & attribute:  # type: ignore[attr-defined]
            return Attributed(sentence, False, ())
        # The question's own codes and numbers ("TQ-3302", "Q1 2026") are not a value.
        figures = any(_NUMERIC.search(t) for t in words - asked)
        if self._figure_asked and not figures:  # type: ignore[attr-defined]
            return Attributed(sentence, False, ())  # "how many" answered without a number
        named_day = _WHEN.search(_NUMERIC.sub(" ", _CITE.sub(" ", sentence)))
        if self._when_asked and not (figures or named_day):  # type: ignore[attr-defined]
            return Attributed(sentence, False, ())  # "when" answered without a time or date
        count = len(self.sources)
        keep = [n for n in dict.fromkeys(cited) if 1 <= n <= count and self._supports(words, n)]
        if not keep:
            ranked = sorted(range(1, count + 1), key=lambda n: (-self.coverage(words, n), n))
            keep = [n for n in ranked if self._supports(words, n)][:1]
        sources = tuple(keep)
        if len(sources) < 2:
            # A second file that explains a good part more of the sentence is cited too.
            alone = self.coverage(words, *sources) + JOINT if sources else SUPPORT - 1e-9
            sources = self._pair(words, alone) or sources
        if not sources or (self.strict and not self._about_the_question(words, sources)):
            return Attributed(sentence, False, ())
        if tuple(dict.fromkeys(cited)) == sources and not _CITE.match(sentence):
            return Attributed(sentence, True, sources)  # (a leading "[1] " goes to the end)
        return Attributed(recite(sentence, sources), True, sources)


_RAW_WORD = re.compile(r"[^\W_][\w'’-]*[^\W_]")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _RAW_WORD.findall(text)}


def _capitalised(question: str) -> list[str]:
    """The question's words after its first that start with a capital: its names."""
    return [w for w in _RAW_WORD.findall(question)[1:] if w[0].isupper()]


def _names(question: str) -> set[str]:
    """The question's names as written: capitalised words after its first, of five letters
    or more, a possessive "'s" taken off."""
    names = {re.sub(r"['’]s$", "", w).lower() for w in _capitalised(question)}
    return {n for n in names if len(n) >= 5 and n.isalpha() and n.rstrip("s") not in _CALENDAR}


# Capitalised words a question may pluralise ("on Fridays") that are no one's name.
_CALENDAR = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "june", "july", "august", "september",
    "october", "november", "december",
}  # fmt: skip


def _one_apart(a: str, b: str) -> bool:
    """One letter changed, added or dropped (both five letters or more)."""
    if a == b or abs(len(a) - len(b)) > 1 or len(b) < 5:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


def _inside(term: str, text: str) -> bool:
    """``term`` occurs in ``text`` with no digit glued to either side of it."""
    return re.search(rf"(?<!\d){re.escape(term)}(?!\d)", text) is not None


# A reply that put its source's number where the value belongs: "The list price of the
# TQ-3302 lamp is [2] GBP.", "… are [1].", "… is [4]%." (a unit at most after the number).
_LOST_VALUE = re.compile(
    r"\b(?:is|are|was|were|be|of|for|to|at)(?:\s*\[\d{1,3}\])+\s*(?:[£$€%]|[A-Z]{3}\b)?\s*"
    r"(?:[.!?]|$)"
)


def lost_value(reply: str) -> bool:
    """The model answered but wrote a citation in its value's place (whatever the question):
    asked again the same way it does it again; asked for the number first, it mostly writes
    the value (prompts.PRESSED_TASK)."""
    for m in _LOST_VALUE.finditer(reply):
        before = _CITE.sub(" ", reply[: m.start()] + m.group(0).split("[", 1)[0])
        if not _WH_CLAUSE.search(before.rsplit(".", 1)[-1]):  # not "say where it is [1]."
            return True
    return False


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
