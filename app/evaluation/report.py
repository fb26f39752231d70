"""Writes evaluation results as a Markdown table beside the cookbook's published rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from app.evaluation.runner import EvalResult

# Anthropic's cookbook (all 248 queries; Claude 3 Haiku contexts, voyage-2, Cohere rerank).
COOKBOOK = [
    ("cookbook: basic RAG", 80.92, 87.15, 90.06),
    ("cookbook: contextual embeddings", 86.37, 92.81, 93.78),
    ("cookbook: contextual + BM25", 86.43, 93.21, 94.99),
    ("cookbook: contextual + rerank", 91.24, 94.79, 96.30),
]


def result_row(r: EvalResult) -> str:
    m = r.metrics
    build = "reused" if r.index_reused else f"{sum(r.index_seconds.values()):.0f}"
    return (
        f"| {r.config.name} ({r.config.describe()}) | {100 * m['Pass@5']:.2f} | "
        f"{100 * m['Pass@10']:.2f} | {100 * m['Pass@20']:.2f} | {m['MRR']:.3f} | {build} | "
        f"{r.ms_per_query:.1f} |"
    )


def previous_rows(path: Path) -> dict[str, str]:
    """Rows of an earlier report, by configuration name, so runs of different configs add up."""
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            break  # later sections (costs) are rebuilt, not rows
        if line.startswith("| ") and not line.startswith(("| configuration", "| cookbook")):
            rows[line[2:].split(" ", 1)[0]] = line
    return rows


REBUILT_SECTIONS = ("## LLM contexts: cost",)  # what markdown() writes again each run
TRAILER = "Produced by `factvault eval`"


def previous_sections(path: Path) -> list[str]:
    """The sections of an earlier report that a run does not rebuild (notes written by hand
    under their own ``## `` heading, each kept whole), so a run never deletes them."""
    if not path.is_file():
        return []
    kept: list[str] = []
    keeping = False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            keeping = line.strip() not in REBUILT_SECTIONS
        elif line.startswith(TRAILER):
            keeping = False
        if keeping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return ["", *kept] if kept else []


def bundled_model_names() -> dict[str, str]:
    """sha256 -> bundled model name, so the cost table names SmolLM2 (unpinned: its sha256 is
    its installed file's hash) like the pinned models."""
    from app.models.bundled import BUNDLED, BundledModelMissing

    names = {}
    for model in BUNDLED.values():
        try:
            names[model.weights_sha256()] = model.name
        except BundledModelMissing:
            continue  # unpinned and not installed: its contexts keep their bare hash
    return names


def context_cost_lines(contexts_file: Path | None, bench_json: Path | None) -> list[str]:
    """What the LLM contexts cost: the whole corpus from the cache file (every context keeps
    the CPU seconds it took), and the reuse / no-reuse comparison from bench/contexts.py."""
    names = bundled_model_names()
    lines: list[str] = []
    if contexts_file is not None and contexts_file.is_file():
        totals: dict[tuple[str, str], list[float]] = {}
        per_doc: dict[tuple[str, str], dict[str, list[float]]] = {}
        with gzip.open(contexts_file, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    model = names.get(row["model_sha256"], row["model_sha256"][:12])
                    key = (model, row["prompt_version"])
                    seconds = float(row.get("cpu_seconds", 0.0))
                    totals.setdefault(key, []).append(seconds)
                    per_doc.setdefault(key, {}).setdefault(row["document_sha256"], []).append(
                        seconds
                    )
        for (model, version), seconds in sorted(totals.items()):
            lines.append(
                f"| {model} | {version} | {len(seconds)} chunks written, prefix reused | "
                f"{sum(seconds):,.0f} | {1000 * sum(seconds) / len(seconds):,.0f} |"
            )
            # A document's first chunk is written with nothing to reuse, so its cost is what
            # every chunk of that document would cost without reuse.
            cold = sum(max(v) * len(v) for v in per_doc[(model, version)].values())
            lines.append(
                f"| {model} | {version} | same chunks, no reuse (each at its document's "
                f"cold first-chunk cost) | {cold:,.0f} | {1000 * cold / len(seconds):,.0f} |"
            )
    if bench_json is not None and bench_json.is_file():
        b = json.loads(bench_json.read_text())
        for mode, label in (("reuse", "prefix reused"), ("no-reuse", "no reuse")):
            cost = b["cpu_s_per_1k_chunks"][mode]
            lines.append(
                f"| {b['model']} | bench sample | {b['chunks']} chunks, {label} | "
                f"{cost * b['chunks'] / 1000:,.0f} | {cost:,.0f} |"
            )
    if not lines:
        return []
    return [
        "",
        "## LLM contexts: cost",
        "",
        "CPU seconds (process time, both cores counted) spent writing contexts; the "
        "bench rows come from `bench/contexts.py` (same chunks with and without the "
        "document's KV prefix reused; see context-cost.md).",
        "",
        "| model | prompt | chunks | CPU s | CPU s per 1k chunks |",
        "|---|---|---|---|---|",
        *lines,
    ]


def markdown(
    results: list[EvalResult],
    queries_file: str,
    machine: str,
    keep: dict[str, str] | None = None,
    extra: list[str] | None = None,
    notes: list[str] | None = None,
) -> str:
    """The report; rows in ``keep`` (from an earlier run) stay unless re-measured, and
    ``notes`` (sections kept from it, previous_sections) follow the table unchanged."""
    lines = [
        "# Retrieval evaluation",
        "",
        f"Queries: `{queries_file}` ({results[0].queries if results else 0} queries). "
        "Pass@k = share of a query's golden chunks in the top k, averaged over queries "
        "(the cookbook's definition); chunks as the dataset gives them.",
        "",
        f"Machine: {machine}.",
        "",
        "| configuration | Pass@5 | Pass@10 | Pass@20 | MRR | index build s | ms/query |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = dict(keep or {})
    rows.update({r.config.name: result_row(r) for r in results})
    lines += rows.values()
    for name, p5, p10, p20 in COOKBOOK:
        lines.append(f"| {name} | {p5:.2f} | {p10:.2f} | {p20:.2f} | | | |")
    lines += notes or []
    lines += extra or []
    lines += [
        "",
        f"{TRAILER}; see README for what each configuration costs. Second "
        "stages tried on the best first stage (LLM judge, HyDE, nanoranker): rerank.md.",
    ]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
