"""The answer benchmark's configurations beside the peer, question for question.

`make bench-peers` asks a PrivateGPT-style LlamaIndex pipeline (bench/peers) the same sets
and logs every answer (bench/results/peers.jsonl). The peer does not change when factvault
does, so its logged answers stand beside every later factvault configuration without asking
it again; what must match is the questions: the peer was asked a sample of the library
pages and no restricted questions (it has no access control), so each cell counts only the
questions both sides were asked, and says how many that is.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.evaluation.answer_sets import log_folder

# The peer log's set names -> the per-question log folders of `eval answers`.
_GROUP_ORDER = ("dev", "report seeds", "python-library")


def _records(path: Path) -> dict[str, bool]:
    """Question id -> right, from one per-question log (restricted re-asks left out)."""
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if not r.get("as_ordinary"):
            out[r["id"]] = bool(r["verdict"]["correct"])
    return out


def peer_answers(peer_log: Path) -> list[dict]:
    """The peer's side of the side-by-side log: set, group, id, kind, right, machine."""
    if not Path(peer_log).is_file():
        raise ValueError(f"{peer_log}: no such file (`make bench-peers` writes it)")
    rows = []
    for n, line in enumerate(Path(peer_log).read_text().splitlines(), 1):
        try:
            r = json.loads(line)
            if r["system"] == "peer":
                rows.append({k: r[k] for k in ("set", "group", "id", "kind", "correct")})
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{peer_log}: line {n} is not a peer log record ({exc})") from None
    return rows


def beside_peer(peer_log: Path, logs: Path, configs: list[str], model: str) -> list[dict]:
    """Per set group and kind (and "all"): the questions both sides were asked, how many
    each configuration got right (from its per-question logs under ``logs``) and how many
    the peer did. A configuration with no log for a set counts nothing there (None)."""
    peer = peer_answers(peer_log)
    ours: dict[tuple[str, str], dict[str, bool] | None] = {}
    for set_name in dict.fromkeys(p["set"] for p in peer):
        for cfg in configs:
            path = logs / log_folder(set_name) / f"{cfg}--{model}.jsonl"
            ours[set_name, cfg] = _records(path) if path.is_file() else None
    tally: dict[tuple[str, str], dict] = {}
    for p in peer:
        shared = [ours[p["set"], c] for c in configs]
        if any(s is not None and p["id"] not in s for s in shared):
            continue  # a question one configuration was not asked (a slice): not comparable
        for kind in ("all", p["kind"]):
            t = tally.setdefault((p["group"], kind), {"questions": 0, "peer": 0, "ours": {}})
            t["questions"] += 1
            t["peer"] += p["correct"]
            for cfg, s in zip(configs, shared, strict=True):
                if s is not None:
                    t["ours"][cfg] = t["ours"].get(cfg, 0) + s[p["id"]]
    order = {g: i for i, g in enumerate(_GROUP_ORDER)}
    keys = sorted(tally, key=lambda k: (order.get(k[0], len(order)), k[0], k[1] != "all", k[1]))
    return [{"group": g, "kind": k, **tally[g, k]} for g, k in keys]


def markdown(rows: list[dict], configs: list[str], peer_log: Path) -> str:
    """The section the answer-sets table ends with."""
    lines = [
        "",
        "## Beside the peer",
        "",
        f"Right answers on the questions both were asked: each configuration from its "
        f"per-question logs, the PrivateGPT-style peer from `{peer_log}` (`make "
        "bench-peers`; the peer is not changed by factvault's configurations, so its logged "
        "answers are not asked again). Unanswerable questions count as right when declined. "
        "Restricted questions are factvault's alone (the peer has no access control) and "
        "the library pages are the peer run's sample.",
        "",
        "| set | kind | questions | " + " | ".join(configs) + " | peer |",
        "|" + "---|" * (4 + len(configs)),
    ]
    for r in rows:
        cells = [str(r["ours"][c]) if c in r["ours"] else "–" for c in configs]
        lines.append(
            f"| {r['group']} | {r['kind']} | {r['questions']} | "
            + " | ".join(cells)
            + f" | {r['peer']} |"
        )
    return "\n".join(lines) + "\n"
