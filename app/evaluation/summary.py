"""The latest `factvault eval` figures as JSON in the data dir, for the service to show.

The Markdown report lives in the repository (bench/results); a running service cannot rely
on finding that, so every eval run also merges its rows here, keyed by configuration name,
exactly as the report keeps rows of earlier runs.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the service reads summaries without importing the eval machinery
    from app.evaluation.runner import EvalResult

FILE_NAME = "eval-summary.json"


def summary_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_summary(data_dir: Path) -> dict[str, Any] | None:
    """The saved summary, or None if eval never ran here (or the file is unreadable)."""
    path = summary_path(data_dir)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def save_summary(data_dir: Path, queries_file: str, queries: int, rows: list[dict]) -> Path:
    """Merge ``rows`` (each with a ``config`` name) into the summary; written atomically."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    previous = load_summary(data_dir) or {}
    merged = {r["config"]: r for r in previous.get("rows", [])}
    for row in rows:
        merged[row["config"]] = {**row, "measured_at": now}
    summary = {
        "updated_at": now,
        "queries_file": queries_file,
        "queries": queries,
        "rows": sorted(merged.values(), key=lambda r: -r["pass@5"]),
    }
    path = summary_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=1))
    os.replace(tmp, path)
    return path


def save_results(data_dir: Path, queries_file: str, results: list[EvalResult]) -> Path | None:
    """Save an eval run's results (nothing if it evaluated no configuration)."""
    if not results:
        return None
    rows = [
        {
            "config": r.config.name,
            "describe": r.config.describe(),
            **{k.lower(): round(v, 4) for k, v in r.metrics.items()},
            "ms_per_query": round(r.ms_per_query, 1),
        }
        for r in results
    ]
    return save_summary(data_dir, queries_file, results[0].queries, rows)
