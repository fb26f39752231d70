"""Cut the eval dataset down to the documents whose LLM contexts are all written, for an
A/B of context models while a full context run is still going (a 737-chunk run with
Qwen2.5-Coder-1.5B takes ~6 h here, more than one session; the SQL cache resumes it).

Keeps a document only if every chunk has a context for EVERY listed model (same prompt
version), and a dev query only if all its golden chunks lie in kept documents, so every
configuration is compared on the same index contents and queries. Scores on a subset are
higher than on the full corpus (fewer distractors): only differences between rows mean
anything.

    python bench/subset.py --models qwen2.5-coder-0.5b qwen2.5-coder-1.5b --out /tmp/subset
    factvault eval --corpus /tmp/subset/codebase_chunks.json \
        --queries /tmp/subset/evaluation_set_dev.jsonl --config ... \
        --out bench/results/retrieval-llm-subset.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.hashing import sha256_text  # noqa: E402
from app.models.bundled import BUNDLED  # noqa: E402
from ingest.contextualize.writer import WriterSettings, prompt_version  # noqa: E402

EVAL = REPO.parent / "shared" / "eval" / "contextual"


def covered(contexts: Path, model_sha: str, version: str) -> dict[str, set[str]]:
    """document sha256 -> chunk sha256s that have a context from this model and prompt."""
    out: dict[str, set[str]] = defaultdict(set)
    with gzip.open(contexts, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["model_sha256"] == model_sha and row["prompt_version"] == version:
                out[row["document_sha256"]].add(row["chunk_sha256"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", required=True, choices=sorted(BUNDLED))
    shipped = REPO / "bench" / "contexts" / "codebase_chunks.jsonl.gz"
    ap.add_argument("--contexts", type=Path, default=shipped)
    ap.add_argument("--corpus", type=Path, default=EVAL / "codebase_chunks.json")
    ap.add_argument("--queries", type=Path, default=EVAL / "evaluation_set_dev.jsonl")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    version = prompt_version(WriterSettings())
    have = []
    for name in args.models:
        model_sha = BUNDLED[name].sha256
        if model_sha is None:
            sys.exit(f"{name}: no pinned sha256; its cached contexts cannot be matched here")
        have.append(covered(args.contexts, model_sha, version))

    docs = json.loads(args.corpus.read_text())

    def complete(doc: dict) -> bool:
        chunks = {sha256_text(c["content"]) for c in doc["chunks"]}
        return all(chunks <= h.get(sha256_text(doc["content"]), set()) for h in have)

    kept = [d for d in docs if complete(d)]
    if not kept:
        sys.exit(f"{args.contexts}: no document has contexts from all of {args.models} ({version})")
    kept_ids = {d["original_uuid"] for d in kept}
    lines = [ln for ln in args.queries.read_text().splitlines() if ln.strip()]
    queries = [
        ln for ln in lines if all(u in kept_ids for u, _ in json.loads(ln)["golden_chunk_uuids"])
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / args.corpus.name).write_text(json.dumps(kept))
    shutil.copy(args.corpus.with_name("documents_meta.json"), args.out / "documents_meta.json")
    (args.out / args.queries.name).write_text("\n".join(queries) + "\n")
    chunks = sum(len(d["chunks"]) for d in kept)
    print(
        f"{len(kept)} of {len(docs)} documents ({chunks} chunks) have contexts from "
        f"{', '.join(args.models)} ({version}); {len(queries)} of {len(lines)} queries "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main()
