"""Generated organisation shares: a fictional company drawn from a seed, written as files in
every format the loaders read, with questions whose answers and golden files are known by
construction (issue 30).

A fixed dev set of 56 questions is too small to tune an answer stage on: every rule that
fixes one of its questions is a guess about the next corpus. A seed gives a new company
(world.py), its files (files.py, formats.py) and its questions (questions.py). Seeds below
1000 are for tuning; 1000-1009 are for reporting and are never tuned on.

Everything is deterministic from the seed: the same seed writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.evaluation.generated.files import share_files
from app.evaluation.generated.questions import questions
from app.evaluation.generated.world import Organisation, organisation

REPORT_SEEDS = range(1000, 1010)

__all__ = ["REPORT_SEEDS", "Organisation", "organisation", "questions", "share_files",
           "write_share"]  # fmt: skip


def write_share(seed: int, folder: Path) -> list[Path]:
    """Write seed's share under ``folder/corpus`` and its ``questions.jsonl`` into
    ``folder`` (created); the paths written, the questions file last."""
    org = organisation(seed)
    corpus = Path(folder) / "corpus"
    written = []
    for name, data in share_files(org).items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    lines = [json.dumps(q, ensure_ascii=False) for q in questions(org)]
    (Path(folder) / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(Path(folder) / "questions.jsonl")
    return written
