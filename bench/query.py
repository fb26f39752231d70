"""Query-service benchmark: retrieval latency by index size, answer latency and
time-to-first-token per bundled model, swap time, and throughput with 8 clients.

Writes bench/results/query.md. Run on a quiet machine:

    python bench/query.py [--sizes 1000,10000,100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.machine import describe  # noqa: E402
from app.core.sparse import Bm25Encoder  # noqa: E402
from app.core.vectorstore import PointRecord, SearchRequest  # noqa: E402
from app.core.vectorstore.edge import EdgeVectorStore  # noqa: E402

QUESTIONS = [
    "How many days of annual leave does an employee get?",
    "Where is the fire assembly point?",
    "Who must approve an expense above 500 EUR?",
]
RESULTS = REPO / "bench" / "results" / "query.md"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def retrieval_latency(
    sizes: list[int], n_queries: int = 200
) -> list[tuple[int, float, float, float]]:
    """Hybrid query latency on Qdrant Edge with synthetic 384-d vectors and BM25 text."""
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(20000)] + ["parseConfig", "token_bucket", "leave"])
    bm25 = Bm25Encoder()
    rows = []
    for size in sizes:
        tmp = Path(tempfile.mkdtemp())
        store = EdgeVectorStore(tmp)
        store.create_collection("bench", 384)
        t0 = time.perf_counter()
        for start in range(0, size, 1000):
            n = min(1000, size - start)
            vecs = rng.normal(size=(n, 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            texts = [" ".join(rng.choice(vocab, 60)) for _ in range(n)]
            sparse = bm25.encode_documents(texts)
            store.upsert(
                "bench",
                [
                    PointRecord(
                        str(uuid.uuid4()), vecs[i], sparse[i], start + i, 0, f"/b/{start + i}"
                    )
                    for i in range(n)
                ],
            )
        store.optimize("bench")  # as the ingest pipeline does after writing
        build = time.perf_counter() - t0
        lat = []
        for _ in range(n_queries):
            q = rng.normal(size=384).astype(np.float32)
            q /= np.linalg.norm(q)
            sq = bm25.encode_query(" ".join(rng.choice(vocab, 6)))
            t = time.perf_counter()
            store.search("bench", SearchRequest(dense=q, sparse=sq, limit=5, prefetch=50))
            lat.append((time.perf_counter() - t) * 1000)
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
        rows.append((size, pct(lat, 50), pct(lat, 95), build))
        print(f"retrieval {size}: p50 {pct(lat, 50):.2f} ms", file=sys.stderr)
    return rows


def _hammer(client, path: str, body: dict, clients: int, seconds: float) -> tuple[float, int]:
    """Requests/s of ``clients`` threads posting for ``seconds``; and the non-200 count."""
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop:
            ok = client.post(path, json=body).status_code == 200
            with lock:
                counts["ok" if ok else "bad"] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return counts["ok"] / (time.perf_counter() - t0), counts["bad"]


def service_figures(repeats: int) -> dict:
    from fastapi.testclient import TestClient

    from app.core.config import get_settings
    from app.core.migrate import upgrade
    from app.core.runtime import open_runtime
    from app.main import create_app
    from app.service import FactVault
    from ingest.pipeline import IngestPipeline

    root = Path(tempfile.mkdtemp())
    shutil.copytree(REPO / "samples", root / "corpus")
    settings = get_settings(
        data_dir=root / "data", default_model="smollm2-135m", auth_enabled=False
    )
    settings.ensure_dirs()
    upgrade(settings.sql_url)
    rt = open_runtime(settings)
    IngestPipeline(rt).ingest_paths([root / "corpus"])
    state = FactVault(settings, rt).start()
    out: dict = {"models": [], "swaps": [], "throughput": []}
    with TestClient(create_app(settings, state)) as client:
        # End-to-end latency and time to first token per model (warm: one unmeasured run).
        for name in ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
            client.put("/v1/models/active", json={"name": name}).raise_for_status()
            client.post("/v1/query", json={"question": QUESTIONS[0], "max_tokens": 64})
            total, ttft = [], []
            for i in range(repeats):
                body = client.post(
                    "/v1/query", json={"question": QUESTIONS[i % len(QUESTIONS)], "max_tokens": 64}
                ).json()
                t = body["timings"]
                total.append(t["total"])
                ttft.append(t.get("first_token", t["generate"]) + t["retrieve"])
            out["models"].append((name, statistics.median(total), statistics.median(ttft)))
            print(f"{name}: {statistics.median(total):.1f} s", file=sys.stderr)
        # Swap time: alternate the two small models.
        for i in range(repeats * 2):
            name = "qwen2.5-coder-0.5b" if i % 2 == 0 else "smollm2-135m"
            t = time.perf_counter()
            client.put("/v1/models/active", json={"name": name}).raise_for_status()
            out["swaps"].append(time.perf_counter() - t)
        # Throughput with 8 clients for a fixed time: retrieve-only, and answers on SmolLM2.
        client.put("/v1/models/active", json={"name": "smollm2-135m"}).raise_for_status()
        for label, path, body in (
            ("retrieve", "/v1/retrieve", {"question": QUESTIONS[1], "top_k": 5}),
            (
                "query (smollm2, 16 tokens)",
                "/v1/query",
                {"question": QUESTIONS[1], "max_tokens": 16},
            ),
        ):
            rates, errors = [], 0
            for _ in range(3):
                rate, errors = _hammer(client, path, body, clients=8, seconds=15)
                rates.append(rate)
            out["throughput"].append((label, statistics.median(rates), rates, errors))
    state.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    machine = describe()
    retrieval = retrieval_latency([int(s) for s in args.sizes.split(",")])
    svc = service_figures(args.repeats)
    lines = [
        "# Query benchmark",
        "",
        f"Machine: {machine}.",
        "",
        "## Retrieval latency (Qdrant Edge, hybrid dense+BM25 with RRF, top 5 of 50+50 prefetch)",
        "",
        "Synthetic 384-d unit vectors and 60-word BM25 documents; 200 queries each; the query",
        "embedding (MiniLM, ~15 ms) is not included.",
        "",
        "| chunks | p50 ms | p95 ms | build s (upsert + optimize) |",
        "|---|---|---|---|",
        *(f"| {n:,} | {p50:.2f} | {p95:.2f} | {b:.1f} |" for n, p50, p95, b in retrieval),
        "",
        f"## Answers (sample corpus, 4 chunks in the prompt, ≤64 tokens; median of {args.repeats})",
        "",
        "| model | end-to-end s | time to first token s (incl. retrieval) |",
        "|---|---|---|",
        *(f"| {m} | {t:.2f} | {f:.2f} |" for m, t, f in svc["models"]),
        "",
        f"Swap time (PUT /v1/models/active, SmolLM2 <-> Qwen-0.5B, {len(svc['swaps'])} swaps): "
        f"median {statistics.median(svc['swaps']):.2f} s, max {max(svc['swaps']):.2f} s.",
        "",
        "## Throughput, 8 concurrent clients for 15 s (median of 3)",
        "",
        "Every client sends the same question, so llama.cpp reuses the already evaluated",
        "prompt (its prefix cache): the query row measures queueing and generation, not",
        "prompt evaluation, which dominates the single-answer latencies above.",
        "",
        "| request | requests/s | runs | non-200 in last run |",
        "|---|---|---|---|",
        *(
            f"| {label} | {rate:.1f} | {', '.join(f'{r:.1f}' for r in rates)} | {err} |"
            for label, rate, rates, err in svc["throughput"]
        ),
        "",
        "Reproduce: `.venv/bin/python bench/query.py` on a quiet machine.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
