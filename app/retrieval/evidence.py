"""Evidence windows: the passages of the retrieved chunks that answer, not the whole chunks.

A small model reads its prompt at 50-130 tokens/s on two cores, so every token in front of
it costs time to first token, and a long prompt also dilutes what it attends to. Within the
retrieved chunks, each sentence (or line, for code and tables) is scored against the
question, lexically (IDF-weighted term overlap) and, when an embedder is given, by
embedding similarity; the best units are taken with a neighbour on each side until the
token budget is spent, and each chunk keeps its selected units in document order, with
"…" where text was left out. No model is involved: this is retrieval, testable on its own.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.text import terms
from app.retrieval.types import RetrievedChunk

GAP = " … "
# Words that announce a change of a rule or a value: what follows them is the new one
# ("with effect from ..." states it, and is not followed further).
_CHANGE = re.compile(
    r"\b(supersed\w*|replac\w*|amend\w*|changes? (?:to|in|of)|updated?)\b",
    re.I,
)
# Units scoring under this share of the best unit's score are not shown, budget or not.
RELATIVE_FLOOR = 0.5
# Sentences end at . ! ? followed by white space, except after a section number ("3. ") or
# "e.g."; lines always end a unit (code, tables, lists and headings are line-shaped).
_SENTENCE = re.compile(r"(?<=[.!?])(?<!\b\d\.)(?<!\b\d\d\.)(?<!\be\.g\.)[\"')\]]*\s+(?=\S)")


@dataclass(frozen=True)
class Unit:
    start: int  # offsets into the chunk's text
    end: int
    whole_line: bool = False  # a line of its own (code, a table row, a list item)

    def text(self, chunk_text: str) -> str:
        return chunk_text[self.start : self.end]


def split_units(text: str, max_chars: int = 400) -> list[Unit]:
    """Sentences within lines; a unit longer than ``max_chars`` is cut at white space."""
    units: list[Unit] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        body = line.rstrip()
        if not body.strip():
            continue
        lead = len(body) - len(body.lstrip())
        starts = [lead] + [m.end() for m in _SENTENCE.finditer(body, lead)]
        bounds = list(zip(starts, [*starts[1:], len(body)], strict=True))
        if len(bounds) == 1 and len(body) <= max_chars:
            units.append(Unit(line_start + lead, line_start + len(body), whole_line=True))
            continue
        for a, b in bounds:
            while b - a > max_chars:
                cut = body.rfind(" ", a, a + max_chars)
                cut = cut if cut > a else a + max_chars
                units.append(Unit(line_start + a, line_start + cut))
                a = cut
            if body[a:b].strip():
                units.append(Unit(line_start + a, line_start + b))
    return units


@dataclass(frozen=True)
class EvidenceBlock:
    chunk: RetrievedChunk
    text: str  # the selected units, in document order, "…" between the non-adjacent ones
    span: tuple[int, int]  # document offsets from the first to the last selected unit


def select_evidence(
    question: str,
    chunks: Sequence[RetrievedChunk],
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    embed: Callable[[list[str]], np.ndarray] | None = None,
    window: int = 1,
) -> list[EvidenceBlock]:
    """The passages of ``chunks`` that best answer ``question``, within ``budget_tokens``.

    Blocks come best first (by their best unit's score; the prompt numbers sources in this
    order); a chunk none of whose units was selected is left out. ``embed`` maps texts to
    unit-norm vectors (the question first); without it the scoring is lexical alone.
    """
    c = _Candidates.of(chunks)
    if not c.flat:
        return []
    scores = _lexical(question, c.scored)
    if embed is not None:
        vectors = embed([question, *c.scored])
        scores = scores + np.clip(vectors[1:] @ vectors[0], 0.0, None)
    # A little weight on retrieval rank breaks ties towards the better-ranked chunk.
    scores = scores - 0.01 * np.array([ci for ci, _ in c.flat], dtype=float)
    chosen = _choose(c, scores, budget_tokens, count_tokens, window)
    # Best passage first: a small model leans on source [1], and the passage that matches
    # the question best is a finer signal than the chunk's retrieval rank.
    best = {ci: -1.0 for ci in range(len(chunks))}
    for i, (ci, ui) in enumerate(c.flat):
        if ui in chosen[ci]:
            best[ci] = max(best[ci], float(scores[i]))
    order = sorted((ci for ci in best if chosen[ci]), key=lambda ci: -best[ci])
    return [
        _render(chunks[ci], c.units[ci], c.shown[ci], sorted(chosen[ci]), c.tables[ci])
        for ci in order
    ]


@dataclass(frozen=True)
class _Candidates:
    """The retrieved chunks cut into units: what each unit shows, which chunks are tables,
    each Markdown table row's header, and the units that may be chosen (``flat``, as
    (chunk, unit) pairs) with the text each is scored by (``scored``)."""

    chunks: Sequence[RetrievedChunk]
    units: list[list[Unit]]
    shown: list[list[str]]
    tables: list[bool]
    heads: list[dict[int, int]]
    flat: list[tuple[int, int]]
    scored: list[str]

    @classmethod
    def of(cls, chunks: Sequence[RetrievedChunk]) -> _Candidates:
        units = [split_units(c.text) for c in chunks]
        tables = [is_table(c) for c in chunks]
        shown = [[u.text(c.text).strip() for u in us] for c, us in zip(chunks, units, strict=True)]
        # A table's header row is shown with its rows, never as a row of its own; a row is
        # scored with the header's words, which say what its values are ("extension").
        # A Markdown table inside a text is read the same way: each row under its header.
        heads = [_pipe_headers(texts) for texts in shown]
        flat = [
            (ci, ui)
            for ci, us in enumerate(units)
            for ui in range(len(us))
            if not (tables[ci] and shown[ci][ui] == chunks[ci].title)
            and ui not in heads[ci].values()
            and not _PIPE_RULE.match(shown[ci][ui])
        ]
        scored = [
            f"{chunks[ci].title}\n{shown[ci][ui]}" if tables[ci]
            else f"{shown[ci][heads[ci][ui]]}\n{shown[ci][ui]}" if ui in heads[ci]
            else shown[ci][ui]
            for ci, ui in flat
        ]  # fmt: skip
        return cls(chunks, units, shown, tables, heads, flat, scored)


def _choose(
    c: _Candidates,
    scores: np.ndarray,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    window: int,
) -> list[set[int]]:
    """Each chunk's chosen units: the best-scoring units in turn, each with what must be
    read with it (its neighbours, its table header), until the budget is spent or the
    rest score under the floor."""
    chosen: list[set[int]] = [set() for _ in c.chunks]
    spent = 0
    floor = RELATIVE_FLOOR * float(scores.max())
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < floor:
            break  # the rest matches the question far worse than the best: noise to a reader
        ci, ui = c.flat[i]
        if ui in chosen[ci]:
            continue
        # Table rows are records of their own: a neighbouring row is another customer (a
        # near-duplicate name, often), never context.
        if ui in c.heads[ci]:  # a Markdown row: itself under its header and rule lines
            head = c.heads[ci][ui]
            near = [head, head + 1, ui]
        elif c.tables[ci]:
            near = range(ui, ui + 1)
        else:
            near = _with_the_change(_neighbourhood(c.units[ci], ui, window), c.shown[ci])
        wanted = [u for u in near if u not in chosen[ci]]
        cost = sum(count_tokens(c.shown[ci][u]) + 1 for u in wanted)
        if c.tables[ci] and not chosen[ci]:
            cost += count_tokens(c.chunks[ci].title or "") + 1  # the header line, shown once
        if spent + cost > budget_tokens:
            if spent == 0:  # the best unit always goes in, alone, whatever its length
                chosen[ci].add(ui)
                spent = budget_tokens
            if spent >= budget_tokens * 0.9:
                break
            continue
        chosen[ci].update(wanted)
        spent += cost
    return chosen


_PIPE_ROW = re.compile(r"^\|.*\|$")
_PIPE_RULE = re.compile(r"^\|[\s:|-]+\|$")


def _pipe_headers(texts: list[str]) -> dict[int, int]:
    """The data rows of the Markdown tables among a chunk's units, each mapped to its
    table's header row (the pipe row above a ``|---|`` rule)."""
    rows: dict[int, int] = {}
    for i in range(len(texts) - 1):
        if _PIPE_ROW.match(texts[i]) and _PIPE_RULE.match(texts[i + 1]):
            j = i + 2
            while j < len(texts) and _PIPE_ROW.match(texts[j]) and not _PIPE_RULE.match(texts[j]):
                rows[j] = i
                j += 1
    return rows


def _with_the_change(near: range, texts: list[str], most: int = 2) -> range:
    """A passage that announces a change ("This bulletin supersedes the rule (20
    minutes).") is followed by what the rule now is: the units after it come too, up to
    ``most``, while each still announces one. Else the window shows the old value and
    stops short of the new."""
    hi = near.stop - 1
    for _ in range(most):
        if hi + 1 >= len(texts) or not _CHANGE.search(texts[hi]):
            break
        hi += 1
    return range(near.start, hi + 1)


def _neighbourhood(units: list[Unit], i: int, window: int, short: int = 120) -> range:
    """``window`` units on each side, stretched over short whole lines (code, lists): a
    comment line's meaning is often in the few lines under it."""
    lo = hi = i
    for step in (-1, 1):
        taken = chars = 0
        j = i + step
        while 0 <= j < len(units) and taken < 4:
            size = units[j].end - units[j].start
            stretch = units[j].whole_line and size <= short // 2 and chars < short
            if taken >= window and not stretch:
                break
            taken += 1
            chars += size
            lo, hi = min(lo, j), max(hi, j)
            j += step
    return range(lo, hi + 1)


def _lexical(question: str, texts: list[str]) -> np.ndarray:
    """IDF-weighted share of the question's terms each text contains (0..1); the IDF is
    over the candidate texts, so a term every sentence has (the company's name) counts
    little and a rare one (a product code) counts most."""
    q = terms(question)
    if not q:
        return np.zeros(len(texts))
    sets = [terms(t) for t in texts]
    n = len(texts)
    idf = {t: math.log(1 + n / (1 + sum(t in s for s in sets))) for t in q}
    total = sum(idf.values())
    return np.array([sum(idf[t] for t in q & s) / total for s in sets])


TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}


def is_table(chunk: RetrievedChunk) -> bool:
    """A delimited table whose header row (its first line, which the text loader makes the
    document's title) names at least two columns."""
    delimiter = TABLE_SUFFIXES.get(Path(chunk.source).suffix.lower())
    if delimiter is None or not chunk.title:
        return False
    return len(next(csv.reader([chunk.title], delimiter=delimiter), [])) >= 2


def _render(
    chunk: RetrievedChunk, units: list[Unit], shown: list[str], picked: list[int], table: bool
) -> EvidenceBlock:
    """The selected units in document order; a table's rows under its header line."""
    if table:
        # A table: its header line once, then the selected rows, each a record of its own.
        rows = "\n".join(shown[u] for u in picked if shown[u] != chunk.title)
        first, last = units[picked[0]], units[picked[-1]]
        return EvidenceBlock(
            chunk=chunk,
            text=f"{chunk.title}\n{rows}",
            span=(chunk.char_start + first.start, chunk.char_start + last.end),
        )
    parts: list[str] = []
    prev = None
    for u in picked:
        piece = shown[u]
        if prev is None:
            parts.append(piece)
        elif u == prev + 1:
            # Adjacent units: keep the line break between them if there was one.
            gap = chunk.text[units[prev].end : units[u].start]
            parts.append(("\n" if "\n" in gap else " ") + piece)
        elif _PIPE_ROW.match(piece) and _PIPE_ROW.match(shown[prev]):
            parts.append("\n…\n" + piece)  # rows left out between two table rows
        else:
            parts.append(GAP + piece)
        prev = u
    first, last = units[picked[0]], units[picked[-1]]
    lead = "… " if picked[0] > 0 else ""
    tail = " …" if picked[-1] < len(units) - 1 else ""
    return EvidenceBlock(
        chunk=chunk,
        text=lead + "".join(parts) + tail,
        span=(chunk.char_start + first.start, chunk.char_start + last.end),
    )
