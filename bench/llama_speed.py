"""Prefill and decode speed: the llama.cpp that factvault runs against llama.cpp's own
`llama-bench`, built from the same source and version as the wheel, on the same GGUF with
the same threads, in one run (issue 33: "does the wheel's build lose speed?").

Three measurements per model and setting, each ``--reps`` times (medians):
- **llama-bench** (``make bench-llama`` builds it once from llama-cpp-python's sdist, with
  the wheel's CMake flags): ``pp`` prompt tokens/s and ``tg`` generated tokens/s, flash
  attention off and on (llama-bench's own default is "auto").
- **the wheel, bare**: the model loaded as factvault loads it (runner.load_llama: n_batch
  512, mmap, the service's threads), a prompt of the same length evaluated at once, then
  tokens decoded one at a time: llama.cpp through llama-cpp-python with nothing of ours.
- **the service's path**: ``LoadedModel.generate`` with a chat prompt of about that length
  and a reply that runs to the cap: template, tokenizer, sampling, stop checks, streaming.

The ratios say where speed goes: wheel/llama-bench is the build (CPU features, BLAS,
threads, batch), service/wheel is our Python around it. Writes
bench/results/llama-speed.md. Run on a quiet machine:

    python bench/llama_speed.py --llama-bench PATH [--model qwen2.5-coder-1.5b] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.config import Settings  # noqa: E402
from app.core.machine import describe  # noqa: E402
from app.models.bundled import BUNDLED, materialize  # noqa: E402
from app.models.runner import LoadedModel, load_llama  # noqa: E402

RESULTS = REPO / "bench" / "results" / "llama-speed.md"
# A reply that does not end before the cap: decode speed is measured over all of it.
COUNTING = "Write the whole numbers from 1 to 500 in words, separated by commas, nothing else."


def llama_bench(binary: Path, gguf: Path, threads: int, prompt: int, gen: int, reps: int):
    """llama-bench's pp and tg tokens/s, flash attention off and on: {(fa, test): t/s}."""
    cmd = [str(binary), "-m", str(gguf), "-t", str(threads), "-p", str(prompt), "-n", str(gen),
           "-b", "512", "-ub", "512", "-fa", "0,1", "-r", str(reps), "-o", "json"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for r in json.loads(out):
        test = "pp" if r["n_prompt"] else "tg"
        fa = r.get("flash_attn")
        fa = fa if isinstance(fa, bool) else str(fa).lower() in ("1", "true", "on", "enabled")
        rows[(fa, test)] = float(r["avg_ts"])
    return rows, " ".join(cmd[1:])


def bare(gguf: Path, n_ctx: int, threads: int, prompt: int, gen: int, reps: int, flash: bool):
    """The wheel's llama.cpp with nothing of ours: (prefill t/s, decode t/s), medians."""
    llama = load_llama(str(gguf), n_ctx=n_ctx, n_threads=threads, flash_attn=flash)
    vocab = llama.n_vocab()
    tokens = [(i * 7919) % (vocab - 1000) + 500 for i in range(prompt)]  # ordinary ids
    pp, tg = [], []
    for _ in range(reps):
        llama.reset()
        t0 = time.perf_counter()
        llama.eval(tokens)
        pp.append(prompt / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for i in range(gen):
            llama.eval([tokens[i]])
        tg.append(gen / (time.perf_counter() - t0))
    llama.close()
    return statistics.median(pp), statistics.median(tg)


def service_path(gguf: Path, name: str, n_ctx: int, threads: int, prompt: int, gen: int, reps: int):
    """``LoadedModel.generate`` as an answer runs it: (prompt tokens, prefill t/s to the
    first token, decode t/s after it), medians; the context emptied before each run."""
    llama = load_llama(str(gguf), n_ctx=n_ctx, n_threads=threads)
    model = LoadedModel(name=name, sha256="", path=str(gguf), llama=llama)
    words = " ".join(p.read_text() for p in sorted((REPO / "samples").rglob("*.md"))).split()

    def asking(n: int) -> list[dict[str, str]]:
        return [{"role": "user", "content": " ".join(words[:n]) + f"\n\n{COUNTING}"}]

    n = 0  # the most sample words (40 at a time) that keep the prompt within its size
    while n + 40 <= len(words) and len(model.render(asking(n + 40)).tokens) <= prompt:
        n += 40
    messages = asking(n)
    tokens, pp, tg = 0, [], []
    for _ in range(reps):
        llama.n_tokens = 0  # nothing reused from the last run
        r = model.generate(messages, max_tokens=gen, temperature=0.0)
        assert r.first_token_seconds is not None and r.completion_tokens > 8, r
        tokens = r.prompt_tokens
        pp.append(r.prompt_tokens / r.first_token_seconds)
        tg.append((r.completion_tokens - 1) / (r.seconds - r.first_token_seconds))
    model.close()
    return tokens, statistics.median(pp), statistics.median(tg)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-bench", type=Path, required=True)
    ap.add_argument("--model", action="append", help="bundled model name (repeatable)")
    ap.add_argument("--prompt", type=int, default=512, help="prompt tokens (llama-bench -p)")
    ap.add_argument("--gen", type=int, default=128, help="generated tokens (llama-bench -n)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    settings = Settings()
    threads, n_ctx = settings.llm_threads, settings.llm_context
    machine = describe()
    lines = [
        "# llama.cpp speed: factvault's wheel against llama-bench",
        "",
        f"`python bench/llama_speed.py --llama-bench PATH` (`make bench-llama`), "
        f"{time.strftime('%Y-%m-%d')}, {machine}. Threads {threads} and context {n_ctx} "
        f"(the service's `llm_threads`, `llm_context`), prompt {args.prompt} tokens, "
        f"{args.gen} generated, medians of {args.reps}. pp: prompt tokens/s (prefill); "
        "tg: generated tokens/s (decode). "
        "Ratios are against llama-bench with the same flash-attention setting.",
        "",
        "| model | flash attention | llama-bench pp | wheel pp | service pp | llama-bench tg | "
        "wheel tg | service tg | wheel/bench pp | wheel/bench tg | service/wheel pp | "
        "service/wheel tg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    commands = []
    for name in args.model or ["qwen2.5-coder-1.5b"]:
        gguf = materialize(BUNDLED[name], settings.models_dir)
        ref, cmd = llama_bench(args.llama_bench, gguf, threads, args.prompt, args.gen, args.reps)
        commands.append(f"llama-bench {cmd}")
        for flash in (False, True):
            pp, tg = bare(gguf, n_ctx, threads, args.prompt, args.gen, args.reps, flash)
            if flash:
                sp = stg = float("nan")  # the service loads with flash attention off
            else:
                _, sp, stg = service_path(
                    gguf, name, n_ctx, threads, args.prompt, args.gen, args.reps
                )
            bpp, btg = ref[(flash, "pp")], ref[(flash, "tg")]
            lines.append(
                f"| {name} | {'on' if flash else 'off'} | {bpp:.1f} | {pp:.1f} | {sp:.1f} | "
                f"{btg:.1f} | {tg:.1f} | {stg:.1f} | {pp / bpp:.2f} | {tg / btg:.2f} | "
                f"{sp / pp:.2f} | {stg / tg:.2f} |"
            )
            print(lines[-1], file=sys.stderr)
    lines += ["", "Commands: " + "; ".join(f"`{c}`" for c in commands)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
