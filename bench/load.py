"""Load benchmark of the real service over loopback: requests/s and p50/p95/p99 latency for
retrieval only and for full answers at 1, 4 and 16 clients, each level with a model swap in
the middle (SmolLM2 -> Qwen2.5-Coder-0.5B) and back after it. Bounded: --seconds per level.

The service runs as `factvault serve` in its own process on a fresh data dir holding the
sample corpus, exactly as `make run` serves it. Writes bench/results/load.md. Run on a
quiet machine:

    python bench/load.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.machine import describe  # noqa: E402

RESULTS = REPO / "bench" / "results" / "load.md"
QUESTIONS = [
    "How many days of annual leave does an employee get?",
    "Where is the fire assembly point?",
    "Who must approve an expense above 500 EUR?",
    "How does the rate limiter refill its tokens?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(
    data_dir: Path, models_dir: Path, **settings: str
) -> tuple[subprocess.Popen, str]:
    """`factvault serve` on a fresh data dir holding the samples, auth off, SmolLM2 unless
    ``settings`` (lower-case names of FACTVAULT_ settings) say otherwise; once ready."""
    port = free_port()
    env = {
        **os.environ,
        "FACTVAULT_DATA_DIR": str(data_dir),
        "FACTVAULT_MODELS_PATH": str(models_dir),
        "FACTVAULT_PORT": str(port),
        "FACTVAULT_DEFAULT_MODEL": "smollm2-135m",
        "FACTVAULT_AUTH_ENABLED": "false",
        "FACTVAULT_LLM_MAX_QUEUE": "16",
        "HF_HUB_OFFLINE": "1",
        **{f"FACTVAULT_{name.upper()}": value for name, value in settings.items()},
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True)
    subprocess.run(
        [*cli, "ingest", str(REPO / "samples")], env=env, cwd=REPO, check=True, capture_output=True
    )
    proc = subprocess.Popen([*cli, "serve"], env=env, cwd=REPO, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("service did not become ready")


def run_level(url: str, kind: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    path = "/v1/retrieve" if kind == "retrieve" else "/v1/query"

    def client(i: int) -> None:
        n = i
        with httpx.Client(timeout=600) as http:
            while time.monotonic() < stop:
                body = {"question": QUESTIONS[n % len(QUESTIONS)], "top_k": 4}
                if kind == "answer":
                    body["max_tokens"] = 32
                t0 = time.perf_counter()
                r = http.post(f"{url}{path}", json=body)
                dt = time.perf_counter() - t0
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        latencies.append(dt)
                n += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds / 2)
    swap = httpx.put(f"{url}/v1/models/active", json={"name": "qwen2.5-coder-0.5b"}, timeout=600)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    back = httpx.put(f"{url}/v1/models/active", json={"name": "smollm2-135m"}, timeout=600)
    lat = np.array(latencies) if latencies else np.array([float("nan")])
    return {
        "kind": kind, "clients": clients, "ok": len(latencies), "statuses": statuses,
        "rps": len(latencies) / elapsed, "p50": np.percentile(lat, 50),
        "p95": np.percentile(lat, 95), "p99": np.percentile(lat, 99),
        "swap": swap.status_code == 200 and back.status_code == 200,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", default="1,4,16")
    args = ap.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="factvault-load-"))
    proc, url = start_service(tmp / "data", tmp / "models")
    rows = []
    try:
        for kind in ("retrieve", "answer"):
            for clients in levels:
                row = run_level(url, kind, clients, args.seconds)
                rows.append(row)
                print(row, flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "# Load benchmark",
        "",
        f"Machine: {describe()}. The service (`factvault serve`, SQLite + Qdrant Edge, sample",
        f"corpus) in its own process on loopback; {args.seconds:.0f} s per level; every level",
        "swaps SmolLM2-135M -> Qwen2.5-Coder-0.5B at half time (and back after). Answers: top 4",
        "chunks, <= 32 tokens. Latency of successful requests; statuses as counted.",
        "",
        "| workload | clients | requests/s | p50 s | p95 s | p99 s | statuses | swap ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        lines.append(
            f"| {r['kind']} | {r['clients']} | {r['rps']:.2f} | {r['p50']:.3f} | "
            f"{r['p95']:.3f} | {r['p99']:.3f} | {statuses} | {'yes' if r['swap'] else 'NO'} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
