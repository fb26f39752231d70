"""`factvault eval answers` on a fixed 10-question slice of the answers dev set, with the
default model: the CI floor of the answer benchmark. The full run (every question, every
bundled model, old and new configuration side by side) is `make bench-answers`, and its
figures are in bench/results/answers.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.evaluation.eval_cli import eval_answers
from tests.fixtures import SHARED

pytestmark = pytest.mark.slow
ANSWERS = SHARED / "eval" / "answers"
# Eight answerable questions, one per readable format or trap (Markdown, an HTML table, text,
# a PDF, Python, a CSV row, a counterfactual house rule, a superseded rule) and two
# unanswerable ones. Fixed: the floor below is only meaningful on the same questions.
SLICE = "q01,q05,q08,q11,q14,q18,q29,q35,q42,q46,q47,c01,c04"
# Measured on this slice with the default configuration and model (bench/results/answers/
# default--qwen2.5-coder-1.5b.jsonl, 2026-11-30): 7 of 8 answerable correct (q18 is answered
# from the wrong source), 2 of 2 declined. The floor allows one more miss: greedy decoding,
# but llama.cpp on another CPU can differ by a token.
# c01 and c04 are conversations (the follow-up needs the first turn), both right when
# measured; the floor allows one miss.
FLOOR_CORRECT = 0.75
FLOOR_IDK = 1.0
FLOOR_FOLLOWUP = 0.5
# q47 is restricted: answered for a caller who may read restricted/, and asked again by an
# ordinary caller it must be declined with no citation (access is not a matter of chance).
FLOOR_DENIED = 1.0


@pytest.mark.skipif(not ANSWERS.exists(), reason="../shared/eval/answers is not present")
def test_answer_benchmark_slice_meets_its_floor(tmp_path: Path, models_dir: Path) -> None:
    out = tmp_path / "answers.md"
    args = [
        "--corpus", str(ANSWERS / "corpus"), "--questions", str(ANSWERS / "questions.jsonl"),
        "--ids", SLICE, "--config", "default", "--out", str(out),
    ]  # fmt: skip
    run = eval_answers(args, tmp_path, models_dir)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = dict(re.findall(r"^(\w+): ([0-9.]+)$", run.stdout, re.M))
    assert float(figures["questions"]) == 13
    assert float(figures["correct"]) >= FLOOR_CORRECT, run.stderr[-3000:]
    assert float(figures["idk_accuracy"]) >= FLOOR_IDK, run.stderr[-3000:]
    assert float(figures["followup_correct"]) >= FLOOR_FOLLOWUP, run.stderr[-3000:]
    assert float(figures["restricted_denied"]) >= FLOOR_DENIED, run.stderr[-3000:]
    # The per-question log says what the model was shown and what it wrote.
    log = tmp_path / "answers" / "default--qwen2.5-coder-1.5b.jsonl"
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    records = [r for r in logged if not r.get("as_ordinary")]
    assert [r["id"] for r in records] == SLICE.split(",")
    # The restricted question asked again by an ordinary caller is logged too, declined.
    [again] = [r for r in logged if r.get("as_ordinary")]
    assert again["id"] == "q47" and again["verdict"]["correct"]
    assert all(r["reply"] and r["sources"] for r in records)
    assert "| default | qwen2.5-coder-1.5b |" in out.read_text()
