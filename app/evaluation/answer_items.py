"""The answer benchmark's questions and how a reply is scored against them.

A questions file is JSON lines in the schema of ../shared/eval/answers/README.md: an id, a
kind, the question (or a conversation's turns), the strings a right answer holds
(``answer_any``: one of them; ``answer_all``: every one), the golden files a right answer
cites (none: the question is unanswerable and must be declined), and who may ask it.
Scoring needs no model: the benchmark, the generated shares' tests and the peer run all
judge replies here, the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Files under restricted/ go into their own collection. Restricted questions are asked by
# a caller who may read it; every other question, and the restricted ones a second time,
# by an ordinary caller limited to the default collection.
RESTRICTED_DIR = "restricted/"
RESTRICTED = "restricted"
# The dev set's accepted ways to decline (its README, "Unanswerable").
DECLINED = (
    "don't know", "do not know", "not know", "cannot answer", "no information", "not contain",
    "not mention", "not provide", "not specified", "not stated",
)  # fmt: skip


class DatasetError(ValueError):
    """A questions file that does not follow the schema; names the line and the field."""


@dataclass(frozen=True)
class AnswerItem:
    id: str
    kind: str
    question: str  # for a conversation, its last turn
    turns: tuple[str, ...]
    answer_any: tuple[str, ...]
    answer_all: tuple[str, ...]
    golden_files: tuple[str, ...]
    access: str

    @property
    def unanswerable(self) -> bool:
        return not self.golden_files


def load_items(path: Path) -> list[AnswerItem]:
    items = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {lineno}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{where}: not JSON ({exc})") from exc
        for name in ("id", "kind", "answer_any", "answer_all", "golden_files"):
            if name not in raw:
                raise DatasetError(f"{where}: field {name!r} is missing")
        turns = tuple(raw.get("turns") or ([raw["question"]] if raw.get("question") else []))
        if not turns:
            raise DatasetError(f"{where}: needs 'question' or 'turns'")
        items.append(
            AnswerItem(
                id=str(raw["id"]),
                kind=str(raw["kind"]),
                question=turns[-1],
                turns=turns,
                answer_any=tuple(s.lower() for s in raw["answer_any"]),
                answer_all=tuple(s.lower() for s in raw["answer_all"]),
                golden_files=tuple(raw["golden_files"]),
                access=str(raw.get("access", "public")),
            )
        )
    return items


@dataclass(frozen=True)
class Verdict:
    text_ok: bool  # the expected strings are there
    cited_ok: bool  # a golden file is cited (unanswerable: nothing is cited)
    correct: bool  # both


def _normalised(answer: str) -> str:
    """As the scorer compares: lower case, a typographic apostrophe as a plain one."""
    return answer.lower().replace("’", "'")


def declines(answer: str, phrases: tuple[str, ...] = DECLINED) -> bool:
    """Whether a reply says it does not know, in one of ``phrases``."""
    text = _normalised(answer)
    return any(p in text for p in phrases)


def score(item: AnswerItem, answer: str, cited_sources: list[str]) -> Verdict:
    text = _normalised(answer)
    has_any = not item.answer_any or any(s in text for s in item.answer_any)
    text_ok = has_any and all(s in text for s in item.answer_all)
    if item.unanswerable:
        cited_ok = not cited_sources
    else:
        cited_ok = any(c in item.golden_files for c in cited_sources)
    return Verdict(text_ok, cited_ok, text_ok and cited_ok)
