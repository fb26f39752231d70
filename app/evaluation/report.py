"""Writes evaluation results as a Markdown table beside the cookbook's published rows."""

from __future__ import annotations

from pathlib import Path

from app.evaluation.runner import EvalResult

# Anthropic's cookbook (all 248 queries; Claude 3 Haiku contexts, voyage-2, Cohere rerank).
COOKBOOK = [
    ("cookbook: basic RAG", 80.92, 87.15, 90.06),
    ("cookbook: contextual embeddings", 86.37, 92.81, 93.78),
    ("cookbook: contextual + BM25", 86.43, 93.21, 94.99),
    ("cookbook: contextual + rerank", 91.24, 94.79, 96.30),
]


def markdown(results: list[EvalResult], queries_file: str, machine: str) -> str:
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
    for r in results:
        m = r.metrics
        build = "reused" if r.index_reused else f"{sum(r.index_seconds.values()):.0f}"
        lines.append(
            f"| {r.config.name} ({r.config.describe()}) | {100 * m['Pass@5']:.2f} | "
            f"{100 * m['Pass@10']:.2f} | {100 * m['Pass@20']:.2f} | {m['MRR']:.3f} | {build} | "
            f"{1000 * r.query_seconds / max(1, r.queries):.1f} |"
        )
    for name, p5, p10, p20 in COOKBOOK:
        lines.append(f"| {name} | {p5:.2f} | {p10:.2f} | {p20:.2f} | | | |")
    lines += ["", "Produced by `factvault eval`; see README for what each configuration costs."]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
