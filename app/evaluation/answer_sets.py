"""The answer benchmark over several sets at once: the dev set, generated organisation shares
and real corpora, each configuration reported as one line per set.

A set is a corpus folder and a questions file. Generated seeds are one set each, written
first (``generated.write_share``) and reported together as a group: the mean and spread
over the seeds, overall and per question kind, because one seed's 30 questions say little
and ten seeds' spread says how much a difference between configurations can be trusted.
Seeds below 1000 are for tuning; a group of report seeds (1000-1009) is marked as such in
the output, as a reminder that nothing may be tuned on it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.evaluation.answer_bench import ConfigResult
from app.evaluation.answer_items import load_items
from app.evaluation.generated import REPORT_SEEDS, write_share

# The headline figures of a set's line, in order.
HEADLINE = ("correct", "idk_accuracy", "followup_correct", "restricted_denied", "ttft_p50_s",
            "first_shown_p50_s", "total_p50_s")  # fmt: skip
LABELS = {"correct": "correct", "idk_accuracy": "declined", "followup_correct": "follow-ups",
          "restricted_denied": "denied", "ttft_p50_s": "TTFT s",
          "first_shown_p50_s": "first word s", "total_p50_s": "total s"}  # fmt: skip


@dataclass(frozen=True)
class AnswerSet:
    name: str  # "dev", "seed 1003", a corpus folder's name
    corpus: Path
    questions: Path
    group: str  # sets of one group are reported together ("generated 1000-1009")


def log_folder(set_name: str) -> str:
    """The folder a set's per-question logs go in ("seed 1000" -> "seed-1000"); the peer's
    table reads them back by the same name."""
    return set_name.replace(" ", "-")


def parse_seeds(specs: Iterable[str]) -> list[int]:
    """ "1000-1009", "3", "1,2,5" -> seeds, in order, each once."""
    seeds: list[int] = []
    for spec in specs:
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            low, dash, high = part.partition("-")
            try:
                lo = int(low)
                hi = int(high) if dash else lo
            except ValueError:
                raise ValueError(f"--generate {spec!r}: give seeds as N, N-M or N,M") from None
            if lo < 0 or hi < lo:
                raise ValueError(f"--generate {spec!r}: a range runs from low to high, from 0")
            seeds += [s for s in range(lo, hi + 1) if s not in seeds]
    return seeds


def seed_group(seeds: list[int]) -> str:
    report = all(s in REPORT_SEEDS for s in seeds)
    span = f"{seeds[0]}" if len(seeds) == 1 else f"{min(seeds)}-{max(seeds)}"
    if len(seeds) > 1 and sorted(seeds) != list(range(min(seeds), max(seeds) + 1)):
        span = ",".join(map(str, seeds))
    return f"generated {span}" + (" (report seeds)" if report else "")


def generated_sets(seeds: list[int], root: Path) -> list[AnswerSet]:
    """Write each seed's share under ``root/seed-N`` (again: the bytes are the seed's) and
    return its set."""
    group = seed_group(seeds)
    sets = []
    for seed in seeds:
        folder = Path(root) / f"seed-{seed}"
        write_share(seed, folder)
        sets.append(AnswerSet(f"seed {seed}", folder / "corpus", folder / "questions.jsonl", group))
    return sets


def folder_set(folder: Path, name: str | None = None) -> AnswerSet:
    """A set laid out as the dev set is: ``corpus/`` and ``questions.jsonl`` in one folder."""
    folder = Path(folder)
    label = name or folder.resolve().name
    return AnswerSet(label, folder / "corpus", folder / "questions.jsonl", label)


def load(sets: list[AnswerSet], ids: str | None = None) -> list[tuple[AnswerSet, list]]:
    """Each set with its questions: only those of ``ids`` (comma-separated) when given, and
    then the sets left with none dropped. A missing folder or file, a malformed questions
    file or an id in no set raises ValueError naming it, before anything is ingested."""
    wanted = {i.strip() for i in (ids or "").split(",") if i.strip()}
    loaded = []
    for s in sets:
        if not s.corpus.is_dir():
            raise ValueError(f"{s.corpus}: no such folder")
        if not s.questions.is_file():
            raise ValueError(f"{s.questions}: no such file")
        items = load_items(s.questions)  # DatasetError is a ValueError naming the line
        loaded.append((s, [i for i in items if i.id in wanted] if wanted else items))
    if wanted:
        unknown = sorted(wanted - {i.id for _, items in loaded for i in items})
        if unknown:
            raise ValueError(f"no question ids {', '.join(unknown)} in the sets given")
        loaded = [(s, items) for s, items in loaded if items]
    return loaded


def spread(values: list[float]) -> dict[str, float]:
    """Mean, standard deviation, lowest and highest of the finite values."""
    vs = [v for v in values if isinstance(v, float | int) and not math.isnan(v)]
    if not vs:
        return {"mean": math.nan, "sd": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {
        "mean": statistics.fmean(vs),
        "sd": statistics.stdev(vs) if len(vs) > 1 else 0.0,
        "min": min(vs),
        "max": max(vs),
        "n": len(vs),
    }


def group_row(group: str, results: list[ConfigResult], machine: str) -> dict:
    """One row per (group, configuration, model): every metric as mean and spread over the
    group's sets (one set: its own figures, spread 0), and the questions counted."""
    metrics = [r.metrics() for r in results]
    keys = sorted({k for m in metrics for k in m})
    cfg = results[0].config
    return {
        "set": group,
        "configuration": cfg.name,
        "describe": cfg.describe(),
        "model": cfg.model,
        "sets": len(results),
        "metrics": {k: spread([m.get(k, math.nan) for m in metrics]) for k in keys},
        "questions": sum(len(r.records) for r in results),
        "machine": machine,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def line_of(row: dict) -> str:
    """The one line a set gets in the command's output."""
    parts = []
    for key in HEADLINE:
        s = row["metrics"].get(key)
        if not s or not s["n"]:
            continue
        parts.append(f"{LABELS[key]} {_value(s)}")
    head = f"{row['set']}: {row['configuration']} {row['model']}"
    return f"{head} [{row['questions']} questions]: " + ", ".join(parts)


def kinds_line(row: dict) -> str:
    kinds = sorted(k.removeprefix("kind_") for k in row["metrics"] if k.startswith("kind_"))
    cells = [f"{k} {_value(row['metrics'][f'kind_{k}'])}" for k in kinds]
    return "  by kind: " + ", ".join(cells)


def _value(s: dict) -> str:
    if s["n"] > 1:
        return f"{s['mean']:.2f} ± {s['sd']:.2f} ({s['min']:.2f}-{s['max']:.2f})"
    return f"{s['mean']:.2f}"


def markdown(rows: list[dict]) -> str:
    """The results table: one line per set and configuration, then correct by kind."""
    lines = [
        "# Answer benchmark by set",
        "",
        "Produced by `factvault eval answers` with `--generate` and `--share` (`make "
        "bench-answers`). A group of generated seeds shows the mean ± standard deviation "
        "(lowest-highest) over its seeds; report seeds (1000-1009) are never tuned on. "
        "`correct`: the expected strings and a citation of a golden file; `declined`: "
        "unanswerable questions declined with no citation; `denied`: restricted questions "
        "declined for a caller who may not read them. Times are medians per set.",
        "",
        "| set | configuration | model | questions | "
        + " | ".join(LABELS[k] for k in HEADLINE)
        + " |",
        "|" + "---|" * (4 + len(HEADLINE)),
    ]
    for r in rows:
        cells = [r["set"], r["configuration"], r["model"], str(r["questions"])]
        cells += [_cell(r["metrics"].get(k)) for k in HEADLINE]
        lines.append("| " + " | ".join(cells) + " |")
    kinds = sorted({k for r in rows for k in r["metrics"] if k.startswith("kind_")})
    if kinds:
        lines += [
            "",
            "Correct by question kind:",
            "",
            "| set | configuration | model | "
            + " | ".join(k.removeprefix("kind_") for k in kinds)
            + " |",
            "|" + "---|" * (3 + len(kinds)),
        ]
        for r in rows:
            cells = [_cell(r["metrics"].get(k)) for k in kinds]
            lines.append(
                f"| {r['set']} | {r['configuration']} | {r['model']} | " + " | ".join(cells) + " |"
            )
    lines += ["", "Where each row was measured:", ""]
    lines += [f"- {r['set']} / {r['configuration']} / {r['model']}: {r['date']}, {r['machine']}"
              for r in rows]  # fmt: skip
    return "\n".join(lines) + "\n"


def _cell(s: dict | None) -> str:
    if not s or not s["n"]:
        return "–"
    if s["n"] > 1:
        return f"{s['mean']:.2f} ± {s['sd']:.2f}"
    return f"{s['mean']:.2f}"
