"""The answer benchmark's results table: one row per (configuration, model).

Rows are kept in a JSON file beside the markdown, so models run one process each (each
process's peak memory is its own) add up to one table; a row measured again replaces the
old one. The machine and date are part of each row: figures from different sessions are
not comparable (machines differ up to 3x), rows measured together are.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from app.evaluation.answer_bench import ConfigResult

COLUMNS = [
    ("configuration", None),
    ("model", None),
    ("correct", "correct"),
    ("correct (readable)", "correct_readable"),
    ("answer", "answer_accuracy"),
    ("citation", "citation_accuracy"),
    ("I don't know", "idk_accuracy"),
    ("follow-ups", "followup_correct"),
    ("restricted denied", "restricted_denied"),
    ("TTFT p50 s", "ttft_p50_s"),
    ("total p50 s", "total_p50_s"),
    ("prompt tok p50", "prompt_tokens_p50"),
    ("tok/s p50", "tokens_per_s_p50"),
    ("cache hit ms", "cache_hit_p50_ms"),
    ("peak RSS MiB", "peak_rss_mib"),
]


def row_of(result: ConfigResult, questions: str, machine: str) -> dict:
    return {
        "configuration": result.config.name,
        "describe": result.config.describe(),
        "model": result.config.model,
        "metrics": result.metrics(),
        "skipped": result.skipped,
        "questions_file": questions,
        "machine": machine,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def update_rows(
    json_path: Path, rows: list[dict], key: tuple[str, ...] = ("configuration", "model")
) -> list[dict]:
    """Rows of earlier runs kept, a row measured again (same ``key`` fields) replaced."""
    old = json.loads(json_path.read_text()) if json_path.is_file() else []
    keyed = {tuple(r[k] for k in key): r for r in old}
    keyed.update({tuple(r[k] for k in key): r for r in rows})
    merged = list(keyed.values())
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(merged, indent=1) + "\n")
    return merged


def _cell(value: object) -> str:
    if value is None:  # a row measured before this column existed
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.2f}" if value < 10 else f"{value:,.0f}"
    return str(value)


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Answer benchmark",
        "",
        "Produced by `factvault eval answers` (`make bench-answers`). Dev set: "
        "../shared/eval/answers (Tarnwell Optics; scoring rule in its README). `correct`: "
        "the expected strings and a citation of a golden file, over the answerable "
        "questions; `correct (readable)`: the same over those with a golden file the "
        "ingest pipeline could read when the row was measured (Word, PowerPoint and Excel "
        "since 2026-11-30, session 10; the scanned PDF with tesseract-ocr installed); "
        "`I don't know`: unanswerable questions declined with no citation. TTFT: "
        "request start to the model's first token. Peak RSS: the whole "
        "benchmark process (embedder, model, stores). `follow-ups`: the two-turn "
        "conversations, asked in one conversation each (the last turn is scored; it is "
        "also counted in `correct`). Files under restricted/ are ingested into their own "
        "collection: restricted questions are asked by a caller who may read it, all "
        "others by one limited to the default collection; `restricted denied`: the "
        "restricted questions asked again by that ordinary caller, declined with no "
        "citation of a restricted file.",
        "",
        "| " + " | ".join(name for name, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in rows:
        cells = [r["configuration"], r["model"]]
        cells += [_cell(r["metrics"].get(key)) for _, key in COLUMNS[2:]]
        lines.append("| " + " | ".join(cells) + " |")
    formats = sorted({k for r in rows for k in r["metrics"] if k.startswith("format_")})
    if formats:
        lines += [
            "",
            "Correct by the format of the golden file (answerable questions):",
            "",
            "| configuration | model | "
            + " | ".join(f.removeprefix("format_") for f in formats)
            + " |",
            "|" + "---|" * (len(formats) + 2),
        ]
        for r in rows:
            cells = [_cell(r["metrics"].get(f)) for f in formats]
            lines.append(f"| {r['configuration']} | {r['model']} | " + " | ".join(cells) + " |")
    lines += ["", "Configurations:", ""]
    seen = set()
    for r in rows:
        if r["configuration"] not in seen:
            seen.add(r["configuration"])
            lines.append(f"- `{r['configuration']}`: {r['describe']}")
    lines += ["", "Where each row was measured (rows of one model come from one process):", ""]
    lines += [f"- {r['configuration']} / {r['model']}: {r['date']}, {r['machine']}" for r in rows]
    counts = rows[0]["metrics"] if rows else {}
    if counts:
        lines += [
            "",
            f"Questions: {counts['questions']:.0f} asked ({counts['answerable']:.0f} "
            f"answerable, {counts['readable']:.0f} of them readable), skipped: "
            + (", ".join(f"{k} {v}" for k, v in rows[0]["skipped"].items()) or "none"),
        ]
    return "\n".join(lines) + "\n"
