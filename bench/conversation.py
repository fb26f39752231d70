"""Conversation benchmark: a 5-turn conversation, per-turn time to first token and prompt
tokens read, with llama.cpp's context reuse and without it, same machine, one run.

"Without reuse" empties the model's context before each turn (and keeps no saved
contexts), so every turn reads its whole prompt: system, earlier turns, new evidence. "With
reuse" is the service as it runs. Both answer the same turns with the same model and data.
Writes bench/results/conversation.md. Run on a quiet machine:

    python bench/conversation.py [--model qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.config import Settings  # noqa: E402
from app.core.machine import describe  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.service import AskRequest, FactVault  # noqa: E402

RESULTS = REPO / "bench" / "results" / "conversation.md"
FLEET = """# Company vehicles

The delivery van is a Brindle V7. Its registration is KX-4821, and it is serviced every
9,000 km at Harlow Motors.

The pool car is a Corvane S2. Its registration is PT-3307, and it is serviced every
15,000 km at Dunmere Garage.
"""
TURNS = [
    "Which model is the company's delivery van?",
    "What is its registration?",
    "And how often is it serviced?",
    "Where is it serviced?",
    "How many days of annual leave does an employee get?",
]


def forget(service: FactVault) -> None:
    """Empty the model's context and its saved contexts: the next prompt is read whole."""
    model = service.models.current
    assert model is not None
    model.llama.n_tokens = 0
    if model.states is not None:
        model.states.clear()


def run(service: FactVault, reuse: bool) -> list[dict]:
    forget(service)  # neither run starts from what the other left behind
    conv = service.new_conversation(None)
    rows = []
    for n, question in enumerate(TURNS, start=1):
        if not reuse:  # nothing kept: llama.cpp reads the whole prompt again
            forget(service)
        reply = service.say(None, conv.id, AskRequest(question))
        a = reply.answer
        t = a.timings
        ttft = t.get("rewrite", 0) + t["retrieve"] + t.get("evidence", 0) + t.get("first_token", 0)
        rows.append({
            "turn": n, "question": question, "answer": a.answer, "ttft": ttft,
            "prompt": a.prompt_tokens, "read": a.prompt_evaluated, "reused": a.prompt_reused,
            "history": a.history_turns, "rewritten": a.rewritten,
        })  # fmt: skip
        print(f"reuse={reuse} turn {n}: ttft {ttft:.2f}s read {a.prompt_evaluated} "
              f"of {a.prompt_tokens} {a.answer[:60]!r}", file=sys.stderr)  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fv-conv-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(REPO / "samples", corpus)
        (corpus / "fleet.md").write_text(FLEET)
        base = Settings()
        settings = base.model_copy(
            update={
                "data_dir": work / "data", "database_url": None,
                "models_path": base.models_dir, "auth_enabled": False,
                "default_model": args.model, "answer_cache": False,
            }
        )  # fmt: skip
        settings.ensure_dirs()
        upgrade(settings.sql_url)
        service = FactVault(settings)
        files = [(p.relative_to(corpus).as_posix(), p) for p in sorted(corpus.rglob("*.*"))]
        service.ingest_files(files)
        service.start(background=False)
        try:
            without = run(service, reuse=False)
            with_ = run(service, reuse=True)
        finally:
            service.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# Conversation benchmark",
        "",
        f"`python bench/conversation.py --model {args.model}`, {time.strftime('%Y-%m-%d')}, "
        f"{describe()}. A 5-turn conversation (turns 2-4 are follow-ups the model rewrites; "
        "turn 5 changes the subject). Tokens read: prompt tokens llama.cpp evaluated for "
        "the turn (the rewrite's and the answer's); TTFT: request start to the first "
        "answer token (rewrite, retrieval, evidence, prompt reading). Without reuse, the "
        "model's context is emptied before each turn; with reuse it is the service as it "
        "runs (each turn extends the last; saved contexts put back after the rewrite).",
        "",
        "| turn | question | prompt tokens | read without reuse | read with reuse | "
        "read ratio | TTFT without s | TTFT with s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a, b in zip(without, with_, strict=True):
        lines.append(
            f"| {a['turn']} | {a['question']} | {b['prompt']} | {a['read']} | {b['read']} | "
            f"{b['read'] / max(a['read'], 1):.2f} | {a['ttft']:.2f} | {b['ttft']:.2f} |"
        )
    last_a, last_b = without[-1], with_[-1]
    ratio = last_b["read"] / max(last_a["read"], 1)
    lines += [
        "",
        f"Turn 5 reads {last_b['read']} tokens with reuse against {last_a['read']} without: "
        f"{100 * ratio:.0f} % (target: at most 25 %).",
        "",
        "Answers with reuse: " + "; ".join(f"{r['turn']}. {r['answer']}" for r in with_),
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
