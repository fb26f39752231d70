"""Tuning benchmark: MiniLM fine-tuned on the eval corpus's own synthetic questions, and a
cross-encoder reranker trained on them, beside plain MiniLM, in one run, on the dev-half
queries and on the held-out synthetic questions.

Each training runs in a child process of its own, so its peak RSS and CPU time are the
training's alone; the evaluation then reads the trained models from the eval work dir (the
`factvault eval` marker files), so `factvault eval --config tuned-structural-hybrid` reuses
them afterwards. Writes bench/results/tuning.md.

    python bench/tune.py [--epochs 1 2] [--no-reranker] [--mini-batch 8|0] [--out FILE]

Several ``--epochs`` train and score one tuned embedder each, side by side in the one run.
``--no-reranker`` leaves the cross-encoder out (its training is the long part).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval" / "contextual"
QUESTIONS = REPO / "bench" / "questions" / "codebase_chunks.jsonl.gz"
RESULTS = REPO / "bench" / "results" / "tuning.md"
sys.path.insert(0, str(REPO))  # ahead of bench/, whose ingest.py would shadow the package
BASE = ["structural-dense", "structural-hybrid"]
TUNED = ["tuned-structural-dense", "tuned-structural-hybrid"]
RERANKED = ["rerank-structural-hybrid", "tuned-rerank-structural-hybrid"]


def evaluator(work_dir: Path, epochs: int, mini_batch: int = 8):
    from app.core.config import get_settings
    from app.evaluation.dataset import load_corpus, load_queries
    from app.evaluation.runner import Evaluator
    from app.tuning.train_embedder import TrainSettings

    return Evaluator(
        load_corpus(EVAL / "codebase_chunks.json"),
        load_queries(EVAL / "evaluation_set_dev.jsonl"),
        work_dir,
        contexts_file=REPO / "bench" / "contexts" / "codebase_chunks.jsonl.gz",
        questions_file=QUESTIONS,
        settings=get_settings(),
        train_settings=TrainSettings(epochs=epochs, mini_batch_size=mini_batch),
    )


def train_only(work_dir: Path, epochs: int, kind: str, mini_batch: int) -> dict:
    """Child process: the base index (reused), then one training alone, measured."""
    from app.evaluation.runner import PRESETS

    ev = evaluator(work_dir, epochs, mini_batch)
    try:
        ev._index(PRESETS["structural-hybrid"])  # the base index, outside the timing
        cpu0, wall0 = time.process_time(), time.perf_counter()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        name, path, seconds = ev._tuned(PRESETS["structural-hybrid"], kind)
        report = ev.train_reports.get((kind, "structural"))
        return {
            "name": name,
            "seconds": seconds,
            "wall": time.perf_counter() - wall0,
            "cpu": time.process_time() - cpu0,
            "rss_before_mb": rss0 / 1024,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rows": (getattr(report, "pairs", None) or getattr(report, "examples", None))
            if report
            else None,
            "steps": report.steps if report else None,
            "loss": report.final_loss if report else None,
            "reused": report is None,
        }
    finally:
        ev.close()


def child(kind: str, epochs: int, work_dir: Path, mini_batch: int) -> dict:
    run = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--epochs", str(epochs),
         "--work-dir", str(work_dir), "--mini-batch", str(mini_batch)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"epochs": epochs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, nargs="+", default=[1])
    ap.add_argument("--no-reranker", action="store_true")
    ap.add_argument(
        "--mini-batch", type=int, default=8, help="GradCache mini-batch; 0: the whole batch"
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--work-dir", type=Path, default=REPO / "data" / "eval")
    ap.add_argument("--child", choices=["embedder", "reranker"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(train_only(args.work_dir, args.epochs[0], args.child, args.mini_batch)))
        return
    from app.core.machine import describe
    from app.evaluation.runner import PRESETS
    from app.evaluation.selfeval import questions_for, self_eval
    from app.retrieval.rerank import make_reranker

    machine = describe()
    training = [child("embedder", e, args.work_dir, args.mini_batch) for e in args.epochs]
    if not args.no_reranker:
        training.append(child("reranker", args.epochs[0], args.work_dir, args.mini_batch))
    plan = [(args.epochs[0], BASE)] + [(e, TUNED) for e in args.epochs]
    if not args.no_reranker:
        plan.append((args.epochs[0], RERANKED))
    rows, selfs = [], []
    questions = None  # one held-out set for every configuration, built once
    for epochs, names in plan:
        ev = evaluator(args.work_dir, epochs, args.mini_batch)
        try:
            if questions is None:
                base_rt, _, _ = ev._index(PRESETS["structural-hybrid"])
                questions = questions_for(base_rt)
            for name in names:
                config = PRESETS[name]
                result = ev.run(config)
                rt, _, _ = ev._index(config)
                reranker = None
                if config.reranker == "tuned":
                    _, path, _ = ev._tuned(config, "reranker")
                    reranker = make_reranker(f"tuned:{path.name}", cache_dir=path.parent.parent)
                # The same held-out set for all, with the configuration's own reranker.
                mine = self_eval(rt, questions, mode=config.mode, reranker=reranker)
                label = config.name
                if names is TUNED:
                    label += f", {epochs} epoch(s)"
                    how = f"GradCache {args.mini_batch}" if args.mini_batch else "whole batch"
                    label += f", {how}"
                rows.append((label, config, result))
                selfs.append(mine)
        finally:
            ev.close()
    lines = [
        "# Tuning: MiniLM fine-tuned on the corpus's synthetic questions",
        "",
        f"Machine: {machine}.",
        "",
        f"Questions: `{QUESTIONS.relative_to(REPO)}` (Qwen2.5-Coder-1.5B, "
        f"{len(questions.train)} train / {len(questions.held_out)} held-out after the BM25 "
        f"round trip, {questions.dropped} dropped). Dev half: 124 queries, never trained on.",
        "",
        "## Training (each in a child process, the base index already built)",
        "",
        "| model | training rows | steps | epochs | wall s | CPU s | RSS before MB "
        "| peak RSS MB | final loss |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {t['name']} | {t['rows'] or '-'} | {t['steps'] or '-'} | {t['epochs']} | "
            f"{t['seconds']:.0f} | "
            + (
                "- | - | - | - (trained by an earlier run: wall time only) |"
                if t["reused"]
                else f"{t['cpu']:.0f} | {t['rss_before_mb']:.0f} | {t['peak_rss_mb']:.0f} | "
                f"{'-' if t['loss'] is None else round(t['loss'], 3)} |"
            )
            for t in training
        ),
        "",
        "## Retrieval, one run",
        "",
        "| configuration | dev Pass@5 | dev Pass@10 | dev Pass@20 | dev MRR | self-eval Pass@5 | "
        "self-eval Pass@20 | self-eval MRR | ms/query |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (label, config, result), mine in zip(rows, selfs, strict=True):
        m, s = result.metrics, mine.metrics
        lines.append(
            f"| {label} ({config.describe()}) | {100 * m['Pass@5']:.2f} | "
            f"{100 * m['Pass@10']:.2f} | {100 * m['Pass@20']:.2f} | {m['MRR']:.3f} | "
            f"{100 * s['Pass@5']:.2f} | {100 * s['Pass@20']:.2f} | {s['MRR']:.3f} | "
            f"{result.ms_per_query:.1f} |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
