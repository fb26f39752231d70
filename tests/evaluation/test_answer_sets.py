"""The answer benchmark over several sets: seeds parsed as people type them, the spread
over seeds computed, and bad options refused with the reason before anything is ingested."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.evaluation.answer_sets import parse_seeds, seed_group, spread


def test_seeds_are_read_as_ranges_and_lists_each_once() -> None:
    assert parse_seeds(["1000-1002", "7,1001", "3"]) == [1000, 1001, 1002, 7, 3]
    assert seed_group([1000, 1001, 1002]) == "generated 1000-1002 (report seeds)"
    assert seed_group([1, 2, 5]) == "generated 1,2,5"
    assert seed_group([999, 1000]) == "generated 999-1000"  # not all report seeds
    for bad in ("5-3", "x", "1-y", "-1"):
        with pytest.raises(ValueError, match="--generate"):
            parse_seeds([bad])


def test_spread_is_over_the_finite_values() -> None:
    s = spread([0.5, 0.75, 1.0, math.nan])
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.75)
    assert s["sd"] == pytest.approx(0.25) and (s["min"], s["max"]) == (0.5, 1.0)
    assert spread([math.nan])["n"] == 0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "nothing to answer"),
        (["--corpus", "x"], "--corpus and --questions go together"),
        (["--generate", "9-2"], "a range runs from low to high"),
        (["--share", "no-such-folder"], "no-such-folder/corpus: no such folder"),
        (["--generate", "4", "--ids", "g4-01,zz"], "no question ids zz"),
        (["--generate", "4", "--peer-log", "no-such.jsonl"], "no-such.jsonl: no such file"),
        (["--corpus", "c", "--questions", "q", "--peer-log", "p"], "--peer-log goes with"),
    ],
)
def test_bad_options_are_refused_with_the_reason(tmp_path: Path, args, reason) -> None:
    result = CliRunner().invoke(
        cli,
        ["eval", "answers", *args, "--work-dir", str(tmp_path), "--out", str(tmp_path / "o.md")],
    )
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert not (tmp_path / "o.md").exists()
