"""Ingest benchmark: the 90 source files of the contextual-retrieval corpus, as files.

Each run is a fresh process with a fresh data dir (cold model load included, as a user's
first ingest would be), so peak RSS is that of one real ingest. Writes
bench/results/ingest.md with the median of the runs per stage.

    python bench/ingest.py [--runs 3] [--embedders minilm@torch,minilm@onnx,minilm-int8,e5]

``name@backend`` runs an embedder on a backend (``FACTVAULT_EMBEDDER_BACKEND``). The ONNX
export of ``minilm@onnx`` is a machine-wide cache, made once before the runs (its time is
reported apart): every ingest but a machine's very first finds it there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval" / "contextual"
RESULTS = REPO / "bench" / "results" / "ingest.md"


def write_corpus(target: Path) -> int:
    """The corpus documents as files at <repo>/<path>, as a checkout of them would be."""
    docs = json.loads((EVAL / "codebase_chunks.json").read_text())
    meta = json.loads((EVAL / "documents_meta.json").read_text())
    for doc in docs:
        m = meta[doc["original_uuid"]]
        path = target / m["repo_name"] / m["relative_path"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc["content"])
    return len(docs)


def export_once(cache: Path) -> float:
    """Seconds to export the packaged MiniLM for ONNX Runtime into ``cache``."""
    sys.path.insert(0, str(REPO))
    from app.core.embedder import MiniLMEmbedder
    from app.core.onnx_embedder import MiniLMOnnxEmbedder, export_minilm

    started = time.perf_counter()
    export_minilm(MiniLMEmbedder()._model_dir, MiniLMOnnxEmbedder(cache).path, quantize=False)
    return time.perf_counter() - started


def one_run(corpus: Path, data: Path) -> dict:
    """Runs inside a child process: migrate, ingest, report."""
    sys.path.insert(0, str(REPO))
    from app.core.config import get_settings
    from app.core.migrate import upgrade
    from app.core.runtime import open_runtime
    from ingest.pipeline import IngestPipeline

    settings = get_settings(data_dir=data)
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    rt = open_runtime(settings)
    try:
        report = IngestPipeline(rt).ingest_paths([corpus])
    finally:
        rt.close()
    return {
        "files": report.files_seen,
        "new": report.new,
        "failed": report.failed,
        "errors": report.errors,
        "chunks": report.chunks_written,
        "stages": report.stage_seconds,
        "elapsed": report.elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--embedders", default="minilm@torch,minilm@onnx,minilm-int8")
    parser.add_argument("--one-run", nargs=2, metavar=("CORPUS", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(Path(args.one_run[0]), Path(args.one_run[1]))))
        return

    from app.core.machine import describe

    machine = describe()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        n_docs = write_corpus(corpus)
        onnx_cache = Path(tmp) / "onnx-cache"
        wanted = [e.partition("@") for e in args.embedders.split(",")]
        on_onnx = any(n == "minilm" and b != "torch" for n, _, b in wanted)
        export_s = export_once(onnx_cache) if on_onnx else None
        for embedder in args.embedders.split(","):
            name, _, backend = embedder.partition("@")
            runs = []
            for i in range(args.runs):
                env = {**os.environ, "FACTVAULT_EMBEDDER": name,
                       "FACTVAULT_EMBEDDER_BACKEND": backend or "onnx",
                       "FACTVAULT_ONNX_CACHE_DIR": str(onnx_cache)}  # fmt: skip
                env.pop("FACTVAULT_DATABASE_URL", None)
                env.pop("FACTVAULT_QDRANT_URL", None)
                out = subprocess.run(
                    [sys.executable, __file__, "--one-run", str(corpus), f"{tmp}/d{len(rows)}-{i}"],
                    env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                result = json.loads(out.stdout.strip().splitlines()[-1])
                assert result["new"] == n_docs, result["errors"]
                runs.append(result)
                print(f"{embedder} run {i + 1}: {result['elapsed']:.1f} s", file=sys.stderr)
            rows.append((embedder, runs))

    lines = [
        "# Ingest benchmark",
        "",
        f"Corpus: the {n_docs} source files of `shared/eval/contextual/codebase_chunks.json`, "
        "written out as files and ingested with `factvault`'s default settings "
        "(256-token chunks, 32 overlap, structural context, Qdrant Edge, SQLite).",
        f"Each figure is the median of {args.runs} runs, each a fresh process and data dir "
        "(so the model load is included, as in a user's first ingest).",
        "",
        f"Machine: {machine}.",
        "",
    ]
    if export_s is not None:
        lines += [f"The ONNX export for `minilm@onnx` (once per machine, before the runs): "
                  f"{export_s:.1f} s.", ""]  # fmt: skip
    stages = ["read", "parse", "context", "model load", "embed", "bm25", "write"]
    lines.append(
        "| embedder | chunks | total s | chunks/s overall | "
        + " | ".join(f"{s} s (chunks/s)" for s in stages)
        + " | peak RSS MB |"
    )
    lines.append("|---" * (5 + len(stages)) + "|")
    for embedder, runs in rows:
        chunks = runs[0]["chunks"]
        total = statistics.median(r["elapsed"] for r in runs)
        cells = []
        for s in stages:
            sec = statistics.median(r["stages"].get(s, 0.0) for r in runs)
            rate = f"{chunks / sec:,.0f}" if sec > 0 and s != "model load" else "-"
            cells.append(f"{sec:.2f} ({rate})")
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        lines.append(
            f"| {embedder} | {chunks} | {total:.1f} | {chunks / total:.1f} | "
            + " | ".join(cells)
            + f" | {rss:.0f} |"
        )
    if len(rows) > 1:  # each embedder's embed stage against the first row's, same run
        base = statistics.median(r["stages"].get("embed", 0.0) for r in rows[0][1])
        lines.append("")
        for embedder, runs in rows[1:]:
            sec = statistics.median(r["stages"].get("embed", 0.0) for r in runs)
            lines.append(
                f"Embedding with {embedder} takes {sec / base:.2f}x the time of {rows[0][0]} "
                f"({base / sec:.1f}x as fast), medians of this run."
            )
    lines += [
        "",
        "All runs: " + "; ".join(
            f"{e}: " + ", ".join(f"{r['elapsed']:.1f} s" for r in runs) for e, runs in rows
        ),
        "",
        "Reproduce: `make bench-ingest` (or `.venv/bin/python bench/ingest.py`) on a quiet "
        "machine.",
    ]  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
