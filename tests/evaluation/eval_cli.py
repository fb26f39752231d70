"""`factvault eval answers` run as users run it: a subprocess of the CLI over a data dir and
work dir of the test's own, with the assembled bundled models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures import REPO


def eval_answers(
    args: list[str], tmp_path: Path, models_dir: Path
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "app.cli", "eval", "answers", *args,
           "--work-dir", str(tmp_path / "work")]  # fmt: skip
    env = {
        **os.environ,
        "FACTVAULT_DATA_DIR": str(tmp_path / "data"),
        "FACTVAULT_MODELS_PATH": str(models_dir),
    }
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
