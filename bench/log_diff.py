"""Two runs of the answer benchmark, set by set: did the answers stay, and when did the
first word come? (issue 33)

The answer benchmark logs every question (``bench/results/answer-sets/<set>/<config>--
<model>.jsonl``). A change meant to be faster, not different (a release rule, a backend)
is checked by comparing a new run's logs with the committed ones: answers word for word,
right answers gained and lost, and the first visible word over the model's first token
(the ratio issue 33's target is set on; it is measured inside each run, so two runs on
machines of different speed still compare). The medians are over every question that
showed a word and over first attempts that answered (no "I don't know", no second chance
or computed total: the release's own case).

    python bench/log_diff.py BEFORE_DIR AFTER_DIR [--log default--qwen2.5-coder-1.5b.jsonl]
        [--after-log early--qwen2.5-coder-1.5b.jsonl] [--out FILE.md]

Each directory holds one folder per set, as ``bench/results/answer-sets/`` does; the
committed logs of a revision come out with ``git archive REV bench/results/answer-sets``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.answering.prompts import is_idk  # noqa: E402

LOG = "default--qwen2.5-coder-1.5b.jsonl"


def records(path: Path) -> dict[str, dict]:
    lines = path.read_text().splitlines() if path.is_file() else []
    return {r["id"]: r for r in (json.loads(x) for x in lines if x.strip())}


def answered_first_time(r: dict) -> bool:
    """The release's own case: an answer, written by the first attempt (no second chance,
    no computed total, whose text the release did not judge alone)."""
    return not is_idk(r["answer"]) and not {"second_chance", "figures"} & set(r.get("timings", {}))


def ratios(rs: list[dict]) -> tuple[list[float], list[float]]:
    """first shown / first token: every record that showed a word; first attempts that
    answered."""
    shown = [r for r in rs if r.get("ttft_s") and r.get("first_shown_s")]
    every = [r["first_shown_s"] / r["ttft_s"] for r in shown]
    first = [r["first_shown_s"] / r["ttft_s"] for r in shown if answered_first_time(r)]
    return every, first


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f}" if xs else "–"


def compare(name: str, before: dict[str, dict], after: dict[str, dict]) -> dict:
    both = sorted(before.keys() & after.keys())
    b = [before[i] for i in both]
    a = [after[i] for i in both]
    gained = [
        i for i in both if after[i]["verdict"]["correct"] and not before[i]["verdict"]["correct"]
    ]
    lost = [
        i for i in both if before[i]["verdict"]["correct"] and not after[i]["verdict"]["correct"]
    ]
    b_every, b_first = ratios(b)
    a_every, a_first = ratios(a)
    changed = [
        {"id": i, "before": before[i]["answer"], "after": after[i]["answer"]}
        for i in both
        if before[i]["answer"] != after[i]["answer"]
    ]
    return {
        "set": name,
        "questions": len(both),
        "same": len(both) - len(changed),
        "correct_before": sum(x["verdict"]["correct"] for x in b),
        "correct_after": sum(y["verdict"]["correct"] for y in a),
        "gained": gained,
        "lost": lost,
        "ratio_before": med(b_every),
        "ratio_after": med(a_every),
        "answered_before": med(b_first),
        "answered_after": med(a_first),
        "ttft_before": med([x["ttft_s"] for x in b if x.get("ttft_s")]),
        "ttft_after": med([y["ttft_s"] for y in a if y.get("ttft_s")]),
        "changed": changed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--log", default=LOG)
    ap.add_argument("--after-log", help="the after run's log name, if not --log's")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    after_log = args.after_log or args.log
    sets = sorted(
        p.parent.name
        for p in args.after.glob(f"*/{after_log}")
        if (args.before / p.parent.name / args.log).is_file()
    )
    if not sets:
        sys.exit(f"no set has {args.log} under {args.before} and {after_log} under {args.after}")
    before = {s: records(args.before / s / args.log) for s in sets}
    after = {s: records(args.after / s / after_log) for s in sets}
    rows = [compare(s, before[s], after[s]) for s in sets]
    changed = [c | {"set": r["set"]} for r in rows for c in r["changed"]]
    seeds = [s for s in sets if s.startswith("seed-")]
    if len(seeds) > 1:  # the generated seeds pooled: one median over all their questions
        rows.append(
            compare(
                f"{seeds[0]}..{seeds[-1].removeprefix('seed-')} pooled",
                {f"{s}/{i}": r for s in seeds for i, r in before[s].items()},
                {f"{s}/{i}": r for s in seeds for i, r in after[s].items()},
            )
        )
    lines = [
        "| set | questions | answers the same | correct before / after (gained, lost) | "
        "first word / first token, before / after | first attempts that answered | "
        "first token s, before / after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['questions']} | {r['same']} | {r['correct_before']} / "
            f"{r['correct_after']} ({len(r['gained'])}, {len(r['lost'])}) | "
            f"{r['ratio_before']} / {r['ratio_after']} | {r['answered_before']} / "
            f"{r['answered_after']} | {r['ttft_before']} / {r['ttft_after']} |"
        )
    lines += ["", f"Answers that differ ({len(changed)}):", ""]
    lines += [f"- {c['set']} {c['id']}: {c['before']!r} → {c['after']!r}" for c in changed]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
