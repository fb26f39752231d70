"""Configurations beside the peer: counted on the questions both sides were asked, from the
per-question logs as `eval answers` and `bench-peers` write them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.evaluation.answer_peer import beside_peer, markdown, peer_answers

MODEL = "qwen2.5-coder-1.5b"


def _peer(set_name: str, group: str, qid: str, kind: str, right: bool, system="peer") -> dict:
    return {"set": set_name, "group": group, "id": qid, "kind": kind, "system": system,
            "correct": right, "answer": "…"}  # fmt: skip


def _ours(logs: Path, folder: str, config: str, rights: dict[str, bool]) -> None:
    path = logs / folder / f"{config}--{MODEL}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [{"id": q, "verdict": {"correct": r}} for q, r in rights.items()]
    # a restricted question asked again by an ordinary caller is not a second answer
    lines.append({"id": "q9", "verdict": {"correct": False}, "as_ordinary": True})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_each_configuration_is_counted_on_the_questions_the_peer_was_asked(tmp_path) -> None:
    peer_log = tmp_path / "peers.jsonl"
    records = [
        _peer("dev", "dev", "q1", "fact", True),
        _peer("dev", "dev", "q1", "fact", False, system="factvault"),  # not the peer's side
        _peer("dev", "dev", "q2", "unanswerable", False),
        _peer("seed 1000", "report seeds", "g1", "table", False),
        _peer("seed 1001", "report seeds", "g1", "table", True),
        _peer("seed 1001", "report seeds", "g2", "fact", False),
    ]
    peer_log.write_text("".join(json.dumps(r) + "\n" for r in records))
    logs = tmp_path / "logs"
    _ours(logs, "dev", "before", {"q1": True, "q2": False, "q9": True})
    _ours(logs, "dev", "after", {"q1": True, "q2": True, "q9": True})
    _ours(logs, "seed-1000", "before", {"g1": False})
    _ours(logs, "seed-1000", "after", {"g1": True})
    _ours(logs, "seed-1001", "before", {"g1": True, "g2": False})
    _ours(logs, "seed-1001", "after", {"g1": True})  # a slice: g2 not asked

    rows = beside_peer(peer_log, logs, ["before", "after"], MODEL)
    got = {(r["group"], r["kind"]): (r["questions"], r["ours"], r["peer"]) for r in rows}
    assert got == {
        ("dev", "all"): (2, {"before": 1, "after": 2}, 1),
        ("dev", "fact"): (1, {"before": 1, "after": 1}, 1),
        ("dev", "unanswerable"): (1, {"before": 0, "after": 1}, 0),
        ("report seeds", "all"): (2, {"before": 1, "after": 2}, 1),
        ("report seeds", "table"): (2, {"before": 1, "after": 2}, 1),
    }
    assert [(r["group"], r["kind"]) for r in rows][:2] == [("dev", "all"), ("dev", "fact")]
    table = markdown(rows, ["before", "after"], peer_log)
    assert "| set | kind | questions | before | after | peer |" in table
    assert "| report seeds | table | 2 | 1 | 2 | 1 |" in table


def test_a_configuration_never_run_on_a_set_shows_a_dash(tmp_path) -> None:
    peer_log = tmp_path / "peers.jsonl"
    peer_log.write_text(json.dumps(_peer("python-library", "python-library", "p1", "fact", True)))
    logs = tmp_path / "logs"
    _ours(logs, "python-library", "after", {"p1": False})
    rows = beside_peer(peer_log, logs, ["before", "after"], MODEL)
    assert rows[0]["ours"] == {"after": 0}
    table = markdown(rows, ["before", "after"], peer_log)
    assert "| python-library | all | 1 | – | 0 | 1 |" in table


def test_a_log_that_is_not_the_peers_is_refused_naming_the_line(tmp_path) -> None:
    bad = tmp_path / "peers.jsonl"
    bad.write_text(json.dumps(_peer("dev", "dev", "q1", "fact", True)) + '\n{"set": 1}\n')
    with pytest.raises(ValueError, match=r"peers.jsonl: line 2 is not a peer log record"):
        peer_answers(bad)
