"""bench/log_diff.py, the check that a change meant to be faster left the answers alone:
on committed benchmark logs with one answer altered and one first word made later."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures import REPO

SCRIPT = REPO / "bench" / "log_diff.py"
LOGS = REPO / "bench" / "results" / "issue33" / "early-release-tuning"
LOG = "default--qwen2.5-coder-1.5b.jsonl"


def _copy(into: Path, edit=None) -> None:
    for src in sorted(LOGS.glob(f"seed-*/{LOG}")):
        records = [json.loads(x) for x in src.read_text().splitlines() if x.strip()]
        if edit:
            edit(src.parent.name, records)
        (into / src.parent.name).mkdir(parents=True)
        (into / src.parent.name / LOG).write_text("".join(json.dumps(r) + "\n" for r in records))


def test_an_altered_answer_and_a_later_first_word_are_reported(tmp_path: Path) -> None:
    def edit(seed: str, records: list[dict]) -> None:
        if seed != "seed-7":
            return
        right = next(r for r in records if r["verdict"]["correct"] and r.get("first_shown_s"))
        right["answer"] = "I don't know"
        right["verdict"] = {**right["verdict"], "correct": False}
        for r in records:  # every first word twice as late after the first token
            if r.get("first_shown_s") and r.get("ttft_s"):
                r["first_shown_s"] = r["ttft_s"] + 2 * (r["first_shown_s"] - r["ttft_s"])

    _copy(tmp_path / "before")
    _copy(tmp_path / "after", edit)
    out = tmp_path / "diff.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "before"), str(tmp_path / "after"),
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {r["set"]: r for r in json.loads(out.with_suffix(".json").read_text())}
    assert set(rows) == {"seed-7", "seed-8", "seed-7..8 pooled"}
    seven, eight = rows["seed-7"], rows["seed-8"]
    assert seven["same"] == seven["questions"] - 1 and len(seven["lost"]) == 1
    assert seven["correct_after"] == seven["correct_before"] - 1 and not seven["gained"]
    assert float(seven["ratio_after"]) > float(seven["ratio_before"])
    assert eight["same"] == eight["questions"] and eight["ratio_after"] == eight["ratio_before"]
    assert rows["seed-7..8 pooled"]["questions"] == seven["questions"] + eight["questions"]
    assert "Answers that differ (1)" in out.read_text()


def test_no_common_set_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(LOGS), str(tmp_path / "empty")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode != 0 and "no set has" in done.stderr
