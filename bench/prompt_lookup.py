"""Does prompt-lookup decoding make answers come faster on this CPU? (issue 33)

Answers copy names and numbers from the evidence, so a draft of the next tokens can be
taken from the prompt itself (the tokens that followed the last n-gram where it occurred
before) and checked by the model in one batch: every draft token the model agrees with
is a decode step saved. That pays where one batch of k+1 tokens costs about what one
token does (a GPU, or a CPU starved of memory bandwidth); it does not where decoding is
compute-bound. This measures which, on the answer benchmark's own prompts: the first
attempt of each dev-set question, rebuilt from the committed log of the default (its
question and the evidence it was shown) and rendered with the model's template.

For each prompt, the prompt is read once, then the reply is decoded greedily to its end
(or ``--max-tokens``) by:
- **one token a step**: what the service does today (argmax of each step's logits);
- **prompt lookup, k**: llama-cpp-python's ``LlamaPromptLookupDecoding`` search (longest
  n-gram up to 3) drafts up to k tokens; the model checks [last token + draft] in one
  batch; the agreed prefix and the model's own next token are kept;
- **llama-cpp-python's draft_model path** (``Llama(draft_model=LlamaPromptLookupDecoding)``
  through ``create_completion``): as a user of the library would switch it on. It forces
  logits for every prompt token (``logits_all``), so its time to the first token is
  reported beside the plain load's.

Reported: decode time of each against one-a-step (median of per-question ratios; above
1 is faster), the decode steps taken, and how many replies came out identical to
one-a-step's (the answer cache and attestation need the same greedy reply on every
endpoint). Writes bench/results/prompt-lookup.md. Run on a quiet machine:

    python bench/prompt_lookup.py [--questions 20] [--draft 2 --draft 4 --draft 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.answering.prompts import PromptSource, build_messages  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.machine import describe  # noqa: E402
from app.models.bundled import BUNDLED, materialize  # noqa: E402
from app.models.runner import ChatTemplate, load_llama  # noqa: E402

RESULTS = REPO / "bench" / "results" / "prompt-lookup.md"
LOG = REPO / "bench" / "results" / "answer-sets" / "dev" / "default--qwen2.5-coder-1.5b.jsonl"


class Decoder:
    """Greedy decoding on a loaded llama.cpp context, one token a step or with drafts."""

    def __init__(self, llama, stops: set[int]) -> None:
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        self.llama = llama
        self.stops = stops
        self.vocab = llama.n_vocab()
        self.lookup = LlamaPromptLookupDecoding(max_ngram_size=3)

    def _argmax(self, tokens: list[int], n_past: int) -> np.ndarray:
        """Decode ``tokens`` after ``n_past`` context tokens; the greedy next token after
        each of them."""
        llama = self.llama
        llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llama._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
        llama._ctx.decode(llama._batch)
        logits = np.ctypeslib.as_array(
            llama._ctx.get_logits(), shape=(len(tokens) * self.vocab,)
        ).reshape(len(tokens), self.vocab)
        return logits.argmax(axis=1)

    def read(self, prompt: list[int]) -> None:
        """The prompt less its last token, which each decoding below feeds first."""
        self.llama.reset()
        self.llama.eval(prompt[:-1])

    def decode(self, prompt: list[int], draft: int, cap: int) -> tuple[list[int], float, int]:
        """(reply tokens, seconds, decode steps); ``draft`` 0 is one token a step."""
        out: list[int] = []
        steps, started = 0, time.perf_counter()
        while len(out) < cap:
            seq = prompt + out
            guess: list[int] = []
            if draft:
                self.lookup.num_pred_tokens = draft
                guess = [int(t) for t in self.lookup(np.asarray(seq, dtype=np.intc))]
            picked = self._argmax([seq[-1], *guess], len(seq) - 1)
            steps += 1
            for i, token in enumerate(int(t) for t in picked):
                if token in self.stops:
                    return out, time.perf_counter() - started, steps
                out.append(token)
                if len(out) >= cap or i >= len(guess) or guess[i] != token:
                    break
        return out, time.perf_counter() - started, steps


def library_path(gguf: Path, messages, threads: int, n_ctx: int, cap: int, draft: int):
    """(first-token seconds, reply) through llama-cpp-python's own draft_model option,
    or (with ``draft`` 0) the same call without it."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    # logits_all=True with it: in 0.3.36 the option alone sizes the score buffer for one
    # batch and the first prompt longer than that fails ("could not broadcast").
    kwargs = (
        {"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=draft), "logits_all": True}
        if draft
        else {}
    )
    llama = Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads,
                  n_threads_batch=threads, n_batch=512, verbose=False, **kwargs)  # fmt: skip
    firsts, replies = [], []
    for m in messages:
        rendered = ChatTemplate(llama).render(m)
        llama.reset()
        started, first, parts = time.perf_counter(), None, []
        for chunk in llama.create_completion(prompt=rendered.tokens, max_tokens=cap,
                                             temperature=0.0, top_k=1, stream=True,
                                             stop=rendered.stop):  # fmt: skip
            if first is None:
                first = time.perf_counter() - started
            parts.append(chunk["choices"][0]["text"])
        firsts.append(first or 0.0)
        replies.append("".join(parts))
    llama.close()
    return firsts, replies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--draft", type=int, action="append", help="draft tokens (repeatable)")
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    drafts = args.draft or [2, 4, 8]
    settings = Settings()
    threads, n_ctx = settings.llm_threads, settings.llm_context
    gguf = materialize(BUNDLED["qwen2.5-coder-1.5b"], settings.models_dir)
    records = [json.loads(line) for line in LOG.read_text().splitlines()][: args.questions]
    messages = [
        build_messages(
            r["question"], [PromptSource(s["n"], s["source"], s["text"]) for s in r["sources"]]
        )  # fmt: skip
        for r in records
    ]
    machine = describe()
    llama = load_llama(str(gguf), n_ctx=n_ctx, n_threads=threads)
    template = ChatTemplate(llama)
    eos = llama.token_eos()
    end = llama.tokenize(b"<|im_end|>", add_bos=False, special=True)
    decoder = Decoder(llama, {eos, *end[:1]})
    rows = []
    for r, m in zip(records, messages, strict=True):
        prompt = template.render(m).tokens
        decoder.read(prompt)
        base, base_s, base_steps = decoder.decode(prompt, 0, args.max_tokens)
        row = {"id": r["id"], "prompt": len(prompt), "tokens": len(base), "s": base_s}
        for k in drafts:
            out, s, steps = decoder.decode(prompt, k, args.max_tokens)
            row[k] = (out == base, s, steps)
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    llama.close()
    RESULTS.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    plain_first, plain = library_path(gguf, messages, threads, n_ctx, args.max_tokens, 0)
    lib_first, lib = library_path(gguf, messages, threads, n_ctx, args.max_tokens, max(drafts))

    n = len(rows)
    tokens = sum(r["tokens"] for r in rows)
    lines = [
        "# Prompt-lookup decoding on this CPU",
        "",
        f"`python bench/prompt_lookup.py --questions {args.questions}"
        + "".join(f" --draft {k}" for k in drafts)
        + f"`, {time.strftime('%Y-%m-%d')}, {machine}. Model qwen2.5-coder-1.5b (Q4_K_M), "
        f"{threads} threads. Prompts: the first attempt of the first {n} dev-set questions, "
        f"rebuilt from `{LOG.relative_to(REPO)}`; replies decoded greedily to their end "
        f"(cap {args.max_tokens}), {tokens} tokens in all.",
        "",
        "| decoding | decode s (all) | speed vs one a step (median) | decode steps | "
        "identical replies |",
        "|---|---|---|---|---|",
        f"| one token a step | {sum(r['s'] for r in rows):.1f} | 1.00 | "
        f"{sum(r['tokens'] + 1 for r in rows)} | {n}/{n} |",
    ]
    for k in drafts:
        ratio = statistics.median(r["s"] / r[k][1] for r in rows)
        lines.append(
            f"| prompt lookup, k={k} | {sum(r[k][1] for r in rows):.1f} | {ratio:.2f} | "
            f"{sum(r[k][2] for r in rows)} | {sum(r[k][0] for r in rows)}/{n} |"
        )
    same = sum(a == b for a, b in zip(plain, lib, strict=True))
    lines += [
        "",
        f"llama-cpp-python's own `draft_model=LlamaPromptLookupDecoding(num_pred_tokens="
        f"{max(drafts)})` through `create_completion` (a fresh context each question): first "
        f"token after a median {statistics.median(lib_first):.2f} s against "
        f"{statistics.median(plain_first):.2f} s without it (it computes logits for every "
        f"prompt token), {same}/{n} replies identical to the same call without it.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
