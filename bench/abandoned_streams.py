"""Abandoned requests against a running service: what do they cost the next question?

The probe of issue 29: with a queue of 2, six streams opened and closed at once delayed the
next question to 6.6-7.0 s (1.65 s alone), after up to five 503s, because a request whose
client had gone was still prefilled once it left the queue. This runs `factvault serve`
(auth off, the sample corpus, the answer cache off, FACTVAULT_LLM_MAX_QUEUE=2) and, per
round: a question alone (after another question, so its prompt is read whole); then another
question again, six streamed questions sent at once and closed as soon as their response
starts (or refused), and right after them the same question as before. Each round uses new
questions. Reports the median over the rounds of (time after the abandoned streams -
time alone). Writes bench/results/abandoned-streams.md.

    python bench/abandoned_streams.py [--rounds 5] [--model qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.machine import describe  # noqa: E402
from bench.hostile_files import start  # noqa: E402

RESULTS = REPO / "bench" / "results" / "abandoned-streams.md"
TOPICS = [
    "annual leave", "the fire assembly point", "expense approval", "the wifi password",
    "the rate limiter", "the parental leave policy", "the travel policy", "the office hours",
    "the security badge", "the onboarding checklist", "the backup schedule", "sick leave",
]  # fmt: skip


def ask(url: str, question: str, refused: list[int] | None = None) -> float:
    """Seconds until the answer, asking again 0.25 s after each 503 (the queue full of
    abandoned requests), as a client would; each 503 is counted in ``refused``."""
    t0 = time.perf_counter()
    while True:
        r = httpx.post(
            f"{url}/v1/query", json={"question": question, "max_tokens": 48}, timeout=600
        )
        if r.status_code != 503 or time.perf_counter() - t0 > 300:
            break
        if refused is not None:
            refused.append(503)
        time.sleep(0.25)
    r.raise_for_status()
    return time.perf_counter() - t0


def abandon(url: str, question: str, outcomes: list[int]) -> None:
    """A streamed question closed as soon as its response starts."""
    body = {"question": question, "stream": True, "max_tokens": 48}
    with httpx.Client(timeout=600) as http, http.stream("POST", f"{url}/v1/query", json=body) as r:
        outcomes.append(r.status_code)  # leaving the block closes the connection


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(
            Path(tmp), default_model=args.model, llm_max_queue="2", answer_cache="false"
        )
        try:
            ask(url, "What is this knowledge base about?")  # warm: the first answer loads
            for n in range(args.rounds):
                topic = TOPICS[n % len(TOPICS)]
                question = f"What does the handbook say about {topic}?"
                other = f"Who is responsible for {TOPICS[(n + 5) % len(TOPICS)]}?"
                # The same question twice, each time after another one has filled the
                # model's context, so neither time reuses the other's prompt.
                ask(url, other)
                alone = ask(url, question)
                ask(url, other)
                outcomes: list[int] = []
                senders = [
                    threading.Thread(
                        target=abandon, args=(url, f"Question {n}.{i} about {topic}?", outcomes)
                    )
                    for i in range(6)
                ]
                for s in senders:
                    s.start()
                for s in senders:
                    s.join()
                refused: list[int] = []
                after = ask(url, question, refused)
                rows.append((alone, after, sorted(outcomes), len(refused)))
                print(f"round {n}: alone {alone:.2f} s, after six abandoned {after:.2f} s "
                      f"({len(refused)} x 503 first), their statuses {sorted(outcomes)}",
                      flush=True)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    delays = [after - alone for alone, after, _, _ in rows]
    lines = [
        "# Abandoned streams against a running service",
        "",
        f"Machine: {describe()}. `python bench/abandoned_streams.py --rounds {args.rounds} "
        f"--model {args.model}`; FACTVAULT_LLM_MAX_QUEUE=2, answer cache off, 48-token replies.",
        "Per round: a question alone (after another one, so its prompt is read whole), then",
        "the other again, six streamed questions opened at once and closed as soon as each",
        "response started (or was refused), then the same question at once.",
        "",
        "The next question is asked again 0.25 s after a 503 (counted), as a client would.",
        "",
        "| round | alone s | after six abandoned s | delay s | its 503s first "
        "| the six streams' statuses |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for n, ((alone, after, statuses, refused), delay) in enumerate(zip(rows, delays, strict=True)):
        lines.append(f"| {n} | {alone:.2f} | {after:.2f} | {delay:+.2f} | {refused} | {statuses} |")
    lines += [
        "",
        f"Median delay over its time alone: **{statistics.median(delays):+.2f} s** "
        f"(median alone {statistics.median(r[0] for r in rows):.2f} s, after "
        f"{statistics.median(r[1] for r in rows):.2f} s). Target: under 1 s.",
        "",
        "Before this change (the issue's probe): 6.6-7.0 s after, 1.65 s alone, with up to "
        "five 503s.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
