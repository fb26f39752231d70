"""How much sooner does the first word come with early release, and what does it change?
(issue 33)

The model writes the same reply either way: early release (``answer_early_release``,
app/answering/release.py) changes only when the words of the first sentence are shown,
and, where its supported first words are followed by words no source bears out, the
answer (the words shown stand as a sentence, the rest is withheld). So both can be
measured without the model, on the replies the answer benchmark already logged: each
reply is split into the model's own tokens (the bundled GGUF's vocabulary, no weights
read) and fed to the release token by token, once sentence by sentence (today) and once
with early release.

Only records the replay reproduces are counted: the sentence-by-sentence replay must give
the logged answer (a follow-up's rewritten question, a second chance or a computed total
is judged on a text the log does not keep, so those may not reproduce).

Reported per set of logs:
- answers that differ between the two (and how: early words kept as a sentence);
- how far into the reply the first word was shown (tokens), each way;
- the first visible word against the model's first token: observed in the log for the
  sentence-by-sentence release, and estimated for early release as the first token plus
  the logged time per reply token for each token until the first show (first attempts
  that answered only; the same estimate of today's is printed beside the observed figure
  to show how close it comes).

    python bench/early_release.py [LOG.jsonl ...]   # default: the committed default logs
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.answering.attribution import Attributor  # noqa: E402
from app.answering.release import ReplyRelease  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.models.bundled import BUNDLED, materialize  # noqa: E402
from bench.log_diff import answered_first_time  # noqa: E402

RESULTS = REPO / "bench" / "results" / "early-release.md"
SETS = REPO / "bench" / "results" / "answer-sets"
LOG = "default--qwen2.5-coder-1.5b.jsonl"


def pieces(llama, text: str) -> list[str]:
    """``text`` as the model streamed it: one piece per token (bytes held back until they
    make whole characters, as the service's stream does)."""
    out: list[str] = []
    held = b""
    for token in llama.tokenize(text.encode(), add_bos=False, special=False):
        held += llama.detokenize([token])
        try:
            out.append(held.decode())
            held = b""
        except UnicodeDecodeError:
            continue
    if held:
        out.append(held.decode(errors="replace"))
    return out


def replay(record: dict, tokens: list[str], early: bool) -> tuple[str, int | None, int]:
    """The answer, the number of tokens fed when something was first shown (None: only at
    the end), and the sentences withheld."""
    sources = [f"{s['source']}\n{s['text']}" for s in record["sources"]]
    fed = 0
    first: list[int] = []
    release = ReplyRelease(
        len(sources),
        show=lambda _t: first.append(fed) if not first else None,
        attributor=Attributor(record["question"], sources),
        early=early,
    )
    for fed, piece in enumerate(tokens, start=1):  # noqa: B007 - read by show
        release.feed(piece)
    fed = len(tokens) + 1  # shown at finish: after the last token
    final = release.finish()
    return final.text, (first[0] if first else None), final.withheld


def measure(path: Path, llama) -> dict:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = []
    for r in records:
        if not r.get("reply"):
            continue
        tokens = pieces(llama, r["reply"])
        late, late_at, _ = replay(r, tokens, early=False)
        if late != r["answer"]:
            continue  # judged on a text the log does not keep: not reproduced
        soon, soon_at, withheld = replay(r, tokens, early=True)
        rows.append((r, len(tokens), late, late_at, soon, soon_at))
    changed = [(r, late, soon) for r, _n, late, _a, soon, _b in rows if late != soon]
    timed = []
    for r, n, _late, late_at, _soon, soon_at in rows:
        if not answered_first_time(r) or not r.get("ttft_s"):  # r["answer"] == late here
            continue
        per_token = (r["total_s"] - r["ttft_s"]) / max(1, r["answer_tokens"] - 1)
        late_k = late_at if late_at is not None else n + 1
        soon_k = soon_at if soon_at is not None else n + 1
        timed.append(
            {
                "observed": r["first_shown_s"] / r["ttft_s"],
                "late_est": (r["ttft_s"] + (late_k - 1) * per_token) / r["ttft_s"],
                "soon_est": (r["ttft_s"] + (soon_k - 1) * per_token) / r["ttft_s"],
                "late_k": late_k,
                "soon_k": soon_k,
                "n": n,
            }
        )

    def med(key: str) -> float:
        return statistics.median(x[key] for x in timed) if timed else float("nan")

    return {
        "log": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path),
        "records": len(records),
        "reproduced": len(rows),
        "changed": [
            {"id": r["id"], "sentences": late, "early": soon, "correct": r["verdict"]["correct"]}
            for r, late, soon in changed
        ],
        "timed": len(timed),
        "reply_tokens": med("n"),
        "late_k": med("late_k"),
        "soon_k": med("soon_k"),
        "observed": med("observed"),
        "late_est": med("late_est"),
        "soon_est": med("soon_est"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="*", type=Path)
    args = ap.parse_args()
    logs = args.logs or sorted(SETS.glob(f"*/{LOG}"))
    from llama_cpp import Llama

    gguf = materialize(BUNDLED["qwen2.5-coder-1.5b"], Settings().models_dir)
    llama = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    results = [measure(p, llama) for p in logs]
    RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    lines = [
        "# Early release against sentence-by-sentence release, replayed on logged replies",
        "",
        f"`python bench/early_release.py`, {time.strftime('%Y-%m-%d')}: no model run (the "
        "logged replies, split into the bundled model's tokens). Ratios are the first visible "
        "word over the model's first token, medians over first attempts that answered; "
        "'estimated' adds the log's time per reply token for each token until the first "
        "show.",
        "",
        "| log | reproduced | answers changed | tokens to first show: sentences / early "
        "(of reply) | first word / first token: observed | estimated, sentences | "
        "estimated, early |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in results:
        lines.append(
            f"| {x['log'].split('/')[-2]} | {x['reproduced']}/{x['records']} | "
            f"{len(x['changed'])} | {x['late_k']:.0f} / {x['soon_k']:.0f} "
            f"({x['reply_tokens']:.0f}) | {x['observed']:.2f} | {x['late_est']:.2f} | "
            f"{x['soon_est']:.2f} |"
        )
    every = [c | {"log": x["log"].split("/")[-2]} for x in results for c in x["changed"]]
    lines += ["", f"## Answers that differ ({len(every)})", ""]
    lines += [
        f"- {c['log']} {c['id']} (logged {'correct' if c['correct'] else 'wrong'}): "
        f"{c['sentences']!r} → {c['early']!r}"
        for c in every
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
