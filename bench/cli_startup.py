"""Start-up cost of one-shot commands, this checkout against another (e.g. an older commit).

Each checkout runs `factvault retrieve` (and `factvault docs list`) on the same data dir
holding the sample corpus, as a fresh process; the two checkouts take turns, so machine
noise falls on both alike. Reports the median wall time of --runs runs per command and
checkout, and whether the process started any background thread (a one-shot command should
start none). Writes bench/results/cli-startup.md.

    git worktree add /tmp/before <commit>
    python bench/cli_startup.py --before /tmp/before [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.machine import describe  # noqa: E402

RESULTS = REPO / "bench" / "results" / "cli-startup.md"
COMMANDS = {
    "retrieve": ["retrieve", "How many days of annual leave does an employee get?", "-k", "2"],
    "docs list": ["docs", "list"],
}
# Run inside the measured process after the command: the threads still alive at exit show
# what it started in the background (only the main thread is expected).
THREAD_PROBE = (
    "import atexit, threading, sys; "
    "atexit.register(lambda: sys.stderr.write('threads: %s\\n' % ', '.join(sorted("
    "t.name for t in threading.enumerate() if t is not threading.main_thread()))))"
)


def run_once(checkout: Path, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    code = f"{THREAD_PROBE}; sys.argv = ['factvault', *{args!r}]; from app.cli import main; main()"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=checkout, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {' '.join(args)} failed: {done.stderr[-1500:]}")
    threads = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in done.stderr.splitlines()
            if ln.startswith("threads:")
        ),
        "?",
    )
    return seconds, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": REPO}
    work = Path(tempfile.mkdtemp(prefix="fv-startup-"))
    env = {**os.environ, "FACTVAULT_DATA_DIR": str(work / "data"), "COLUMNS": "200"}
    env.pop("FACTVAULT_DATABASE_URL", None)
    env.pop("FACTVAULT_QDRANT_URL", None)
    try:
        for setup in (["db", "upgrade"], ["ingest", str(REPO / "samples")]):
            subprocess.run(
                [sys.executable, "-m", "app.cli", *setup], cwd=REPO, env=env, check=True,
                capture_output=True,
            )  # fmt: skip
        times: dict[tuple[str, str], list[float]] = {}
        threads: dict[tuple[str, str], str] = {}
        for _ in range(args.runs):
            for command, argv in COMMANDS.items():
                for label, checkout in checkouts.items():
                    seconds, alive = run_once(checkout, argv, env)
                    times.setdefault((command, label), []).append(seconds)
                    threads[(command, label)] = alive
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# One-shot command start-up: before and after",
        "",
        f"Machine: {describe()}",
        f"`before` = {args.before} (`git -C` it for its commit), `after` = this checkout. "
        f"Median wall seconds of {args.runs} fresh processes each, the two checkouts taking "
        "turns on one data dir with the sample corpus; `threads` lists the background threads "
        "still running when the command finished.",
        "",
        "| command | checkout | median s | min s | max s | threads |",
        "|---|---|---|---|---|---|",
    ]
    for (command, label), values in times.items():
        lines.append(
            f"| `factvault {command}` | {label} | {statistics.median(values):.2f} | "
            f"{min(values):.2f} | {max(values):.2f} | {threads[(command, label)] or 'none'} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
