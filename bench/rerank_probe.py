"""Can anything that runs here lift the fused ranking's Pass@5? Second stages tried on the
best first stage (e5-small dense + structural BM25, RRF k=10 inside Qdrant Edge):

- ``llm-judge``: a bundled GGUF reads (question, candidate) and its "yes" vs "no" logit
  scores the candidate, the question's KV prefix reused across candidates (pointwise
  LLM reranking; no cross-encoder ships with its weights on PyPI);
- ``hyde``: the GGUF writes the code excerpt it expects the answer in (hypothetical
  document), which is searched dense and BM25 beside the question, fused by RRF;
- ``nanoranker``: the one PyPI reranker found that works offline (``pip install nanoranker``
  first; it is not a factvault dependency).

Each row compares Pass@k on the same queries before and after, with wall and CPU seconds
per query. Rows merge into bench/results/rerank.md by (method, model, queries, depth):

    python bench/rerank_probe.py --method hyde --model qwen2.5-coder-0.5b [--queries 124]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from app.core.config import get_settings  # noqa: E402
from app.core.machine import describe  # noqa: E402
from app.evaluation.dataset import load_corpus, load_queries  # noqa: E402
from app.evaluation.retrieval_metrics import summarize  # noqa: E402
from app.evaluation.runner import Evaluator, parse_config  # noqa: E402
from app.models.bundled import BUNDLED, materialize  # noqa: E402
from app.models.runner import load_llama  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "contextual"
RESULTS = REPO / "bench" / "results" / "rerank.md"
FIRST_STAGE = "e5-structural-hybrid"
Key = tuple[str, int]
PASS_KS = ("Pass@5", "Pass@10", "Pass@20")

JUDGE_SYSTEM = "You judge search results for a code base. Reply with yes or no only."
HYDE_SYSTEM = (
    "You are an expert programmer. Given a question about a code base, write the short code "
    "excerpt (a few lines, with the likely class, method and identifier names) that the answer "
    "would be found in. Output only code."
)


def rrf(lists: Sequence[Sequence[Key]], k: int = 10) -> list[Key]:
    scores: dict[Key, float] = {}
    for ranked in lists:
        for rank, key in enumerate(ranked):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores, key=lambda key: -scores[key])


def chatml(system: str, user: str) -> str:
    """Qwen2.5's template written out, so the judge can reuse the question's KV prefix."""
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


class LlmJudge:
    def __init__(self, llama) -> None:
        self.llama = llama
        self.yes = [self._token(w) for w in ("yes", "Yes", " yes")]
        self.no = [self._token(w) for w in ("no", "No", " no")]

    def _token(self, word: str) -> int:
        return self.llama.tokenize(word.encode(), add_bos=False)[0]

    def score(self, question: str, source: str, text: str) -> float:
        user = (
            f'Question: {question}\n\n<snippet source="{source}">\n{text[:1500]}\n</snippet>\n'
            "Does this snippet contain the code or text that answers the question? "
            "Answer yes or no."
        )
        tokens = self.llama.tokenize(chatml(JUDGE_SYSTEM, user).encode(), special=True)
        cached = 0
        for a, b in zip(self.llama.input_ids[: self.llama.n_tokens], tokens, strict=False):
            if a != b:
                break
            cached += 1
        self.llama.n_tokens = min(cached, len(tokens) - 1)
        self.llama.eval(tokens[self.llama.n_tokens :])
        logits = np.ctypeslib.as_array(self.llama._ctx.get_logits(), shape=(self.llama.n_vocab(),))
        return float(logits[self.yes].max() - logits[self.no].max())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["llm-judge", "hyde", "nanoranker"], required=True)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b", choices=sorted(BUNDLED))
    ap.add_argument("--queries", type=int, default=0, help="first N dev queries (0 = all)")
    ap.add_argument("--depth", type=int, default=20, help="candidates reranked")
    args = ap.parse_args()
    settings = get_settings()
    corpus = load_corpus(DATA / "codebase_chunks.json")
    queries = load_queries(DATA / "evaluation_set_dev.jsonl")
    queries = queries[: args.queries] if args.queries else queries
    evaluator = Evaluator(corpus, queries, settings.data_dir / "eval")
    first_stage = evaluator.ranker(parse_config(FIRST_STAGE))
    text = {(d.uuid, n): c for d in corpus.documents for n, c in enumerate(d.chunks)}
    source = {d.uuid: d.source for d in corpus.documents}

    def search(q: str, mode: str) -> list[Key]:
        return first_stage(q, 100, mode)

    before = [search(q.text, "hybrid") for q in queries]
    with tempfile.TemporaryDirectory() as tmp:
        llama = None
        if args.method != "nanoranker":
            path = materialize(BUNDLED[args.model], Path(tmp))
            llama = load_llama(str(path), 2048, settings.llm_threads)
        method = make_method(args.method, llama, search, text, source, args.depth)
        after, walls, cpus = [], [], []
        for q, first in zip(queries, before, strict=True):
            w0, c0 = time.perf_counter(), time.process_time()
            after.append(method(q.text, first))
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            print(f"{len(after)}/{len(queries)} {walls[-1]:.1f}s", flush=True)
        if llama is not None:
            llama.close()
    evaluator.close()
    golden = [q.golden for q in queries]
    m0 = summarize(list(zip(before, golden, strict=True)))
    m1 = summarize(list(zip(after, golden, strict=True)))
    model = args.model if args.method != "nanoranker" else "-"
    row = (
        f"| {args.method} | {model} | {len(queries)} | {args.depth} | "
        + " | ".join(f"{100 * m0[k]:.2f} → {100 * m1[k]:.2f}" for k in PASS_KS)
        + f" | {statistics.median(walls):.1f} | {statistics.median(cpus):.1f} |"
    )
    write_row(row)
    print(row)


def make_method(
    name: str,
    llama,
    search: Callable[[str, str], list[Key]],
    text: dict[Key, str],
    source: dict[str, str],
    depth: int,
) -> Callable[[str, list[Key]], list[Key]]:
    if name == "llm-judge":
        judge = LlmJudge(llama)

        def judged(question: str, first: list[Key]) -> list[Key]:
            top = first[:depth]
            scores = [judge.score(question, source[k[0]], text[k]) for k in top]
            order = sorted(range(len(top)), key=lambda i: (-scores[i], i))
            return [top[i] for i in order] + first[depth:]

        return judged
    if name == "hyde":

        def expanded(question: str, first: list[Key]) -> list[Key]:
            out = llama.create_chat_completion(
                messages=[
                    {"role": "system", "content": HYDE_SYSTEM},
                    {"role": "user", "content": question},
                ],
                max_tokens=64, temperature=0.0, top_k=1,
            )  # fmt: skip
            guess = re.sub(r"```\w*", "", out["choices"][0]["message"]["content"] or "").strip()
            both = f"{question}\n{guess}"
            return rrf([search(question, "dense"), search(question, "sparse"),
                        search(both, "dense"), search(both, "sparse")])  # fmt: skip

        return expanded
    from nanoranker import rank  # not a dependency: pip install nanoranker

    def nano(question: str, first: list[Key]) -> list[Key]:
        top = first[:depth]
        texts = [text[k] for k in top]
        order = [top[texts.index(t)] for t, _ in rank(question, texts)]
        return order + [k for k in first if k not in order]

    return nano


def write_row(row: str) -> None:
    head = [
        "# Second-stage rerankers that run here",
        "",
        f"First stage: `{FIRST_STAGE}` (e5-small dense + structural BM25, RRF k=10, top 100); "
        "dev half of the contextual-retrieval set; Pass@k before → after on the same queries; "
        f"seconds per query are medians. Machine: {describe()}. Written by bench/rerank_probe.py.",
        "",
        "| method | model | queries | depth | Pass@5 | Pass@10 | Pass@20 "
        "| wall s/query | CPU s/query |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    if RESULTS.is_file():
        rows = [ln for ln in RESULTS.read_text().splitlines() if ln.startswith("| ") and "→" in ln]
    key = row.split("|")[1:5]
    rows = [r for r in rows if r.split("|")[1:5] != key] + [row]
    RESULTS.write_text("\n".join(head + rows) + "\n")


if __name__ == "__main__":
    main()
