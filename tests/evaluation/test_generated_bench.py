"""`factvault eval answers --generate` on a fixed slice of one tuning seed, with the default
model: the CI floor of the generated benchmark. One command writes the share, ingests it
(OCR included), asks, scores and prints the set's line; the full run over the report seeds
is `make bench-answers` (bench/results/answer-sets.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.loaders import ocr
from tests.evaluation.eval_cli import eval_answers

pytestmark = pytest.mark.slow
SEED = "11"  # a tuning seed: the report seeds 1000-1009 are never used by a test
# One question per format or trap: SQL and HTML facts, a CSV and an Excel row, a speaker
# note, a mail's attachment, the scanned notice, a counterfactual house rule; two near
# misses (a missing attribute, a namesake one letter away); a restricted question, asked
# again by an ordinary caller.
SLICE = "g11-01,g11-05,g11-11,g11-12,g11-15,g11-17,g11-18,g11-24,g11-30,g11-31,g11-33"
# Measured on this slice in the full run of 2026-12-02 (bench/results/answer-sets/seed-11/,
# default configuration and model, 2 cores): 8 of 9 answerable right (g11-05, the Wi-Fi
# network's name, is answered without it), both near misses declined, the restricted one
# declined for an ordinary caller. The floors allow one more miss each: greedy decoding,
# but llama.cpp on another CPU can differ by a token. Access is not a matter of chance.
FLOOR_CORRECT = 0.75
FLOOR_DECLINED = 0.5
FLOOR_DENIED = 1.0


@pytest.mark.skipif(not ocr.available(), reason="tesseract-ocr is not installed (make ocr)")
def test_a_generated_seed_slice_meets_its_floor(tmp_path: Path, models_dir: Path) -> None:
    out = tmp_path / "sets.md"
    args = ["--generate", SEED, "--ids", SLICE, "--config", "default", "--out", str(out)]
    run = eval_answers(args, tmp_path, models_dir)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith(f"generated {SEED}: default "))
    assert "[11 questions]" in line
    figures = dict(re.findall(r"(correct|declined|denied) ([0-9.]+)", line))
    assert float(figures["correct"]) >= FLOOR_CORRECT, run.stderr[-3000:]
    assert float(figures["declined"]) >= FLOOR_DECLINED, run.stderr[-3000:]
    assert float(figures["denied"]) >= FLOOR_DENIED, run.stderr[-3000:]
    # The share was written where the command says, byte for byte the seed's.
    from app.evaluation.generated import write_share

    write_share(int(SEED), tmp_path / "again")
    written = tmp_path / "work" / "generated" / f"seed-{SEED}"
    for path in (tmp_path / "again").rglob("*"):
        if path.is_file():
            twin = written / path.relative_to(tmp_path / "again")
            assert path.read_bytes() == twin.read_bytes(), path
    assert f"| generated {SEED} | default | qwen2.5-coder-1.5b |" in out.read_text()
