from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.evaluation.dataset import load_corpus, load_queries
from app.evaluation.retrieval_metrics import pass_at_k, reciprocal_rank, summarize
from app.evaluation.runner import PRESETS, parse_config


def test_pass_at_k_is_the_share_of_golden_chunks_found() -> None:
    golden = frozenset({("d", 1), ("d", 2)})
    ranked = [("d", 9), ("d", 1), ("x", 0), ("d", 2)]
    assert pass_at_k(ranked, golden, 1) == 0.0
    assert pass_at_k(ranked, golden, 2) == 0.5
    assert pass_at_k(ranked, golden, 4) == 1.0
    assert reciprocal_rank(ranked, golden) == 0.5
    assert summarize([(ranked, golden)], ks=(2,)) == {"Pass@2": 0.5, "MRR": 0.5}


def test_config_parsing() -> None:
    assert parse_config("basic-dense") is PRESETS["basic-dense"]
    cfg = parse_config("embedder=e5,fusion=rrf,rrf_k=30,weights=0.8/0.2")
    assert (cfg.embedder, cfg.rrf_k, cfg.weights, cfg.context) == (
        "e5",
        30,
        (0.8, 0.2),
        "structural",
    )
    with pytest.raises(ValueError):
        parse_config("colour=blue")
    with pytest.raises(ValueError):
        parse_config("no-such-preset")


def test_dataset_loading(tmp_path: Path) -> None:
    corpus = [
        {"doc_id": "doc_1", "original_uuid": "u1", "content": "ab",
         "chunks": [{"chunk_id": "doc_1_chunk_1", "original_index": 1, "content": "b"},
                    {"chunk_id": "doc_1_chunk_0", "original_index": 0, "content": "a"}]},
    ]  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps(corpus))
    (tmp_path / "documents_meta.json").write_text(
        json.dumps({"u1": {"repo_name": "org/repo", "relative_path": "/src/a.py"}})
    )
    (tmp_path / "q.jsonl").write_text(
        json.dumps({"query": "what?", "golden_chunk_uuids": [["u1", 1]], "answer": "x"}) + "\n"
    )
    loaded = load_corpus(tmp_path / "c.json")
    doc = loaded.documents[0]
    assert doc.source == "org/repo/src/a.py" and doc.chunks == ("a", "b")
    item = loaded.source_files()[0]
    assert item.chunks == ("a", "b") and item.data == b"ab"
    assert load_queries(tmp_path / "q.jsonl")[0].golden == frozenset({("u1", 1)})


def test_cost_table_names_every_bundled_model_even_unpinned(tmp_path: Path) -> None:
    """SmolLM2 has no pinned sha256 (it ships whole), so its contexts are keyed by its file's
    hash; the cost table must still say which model wrote them, not a bare hash prefix."""
    import gzip

    from app.core.hashing import sha256_file
    from app.evaluation.report import context_cost_lines
    from app.models.bundled import BUNDLED

    smol_sha = sha256_file(BUNDLED["smollm2-135m"].parts()[0])
    rows = [
        {"document_sha256": doc, "model_sha256": sha, "prompt_version": "v", "cpu_seconds": cpu}
        for doc, sha, cpu in [("d1", smol_sha, 2.0), ("d1", smol_sha, 1.0), ("d2", "f" * 64, 4.0)]
    ]
    contexts = tmp_path / "contexts.jsonl.gz"
    with gzip.open(contexts, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    table = "\n".join(context_cost_lines(contexts, None))
    # 2 chunks in 3 CPU s reused; without reuse each costs its document's first (2 s).
    assert "| smollm2-135m | v | 2 chunks written, prefix reused | 3 | 1,500 |" in table
    assert "| smollm2-135m | v | same chunks, no reuse" in table and "| 4 | 2,000 |" in table
    assert "| ffffffffffff | v | 1 chunks written" in table  # an unknown model keeps its hash


def test_a_new_report_keeps_earlier_rows_and_hand_written_sections(tmp_path: Path) -> None:
    """A run of one configuration rewrites the report: the other configurations' rows and
    the notes written under their own headings stay; the cost section is rebuilt, not
    doubled."""
    from app.evaluation.report import markdown, previous_rows, previous_sections
    from app.evaluation.runner import EvalResult

    def result(name: str, p5: float) -> EvalResult:
        metrics = {"Pass@5": p5, "Pass@10": 0.9, "Pass@20": 0.95, "MRR": 0.6}
        return EvalResult(PRESETS[name], metrics, {"embed": 3.0}, False, 1.0, 10)

    report = tmp_path / "retrieval.md"
    costs = ["", "## LLM contexts: cost", "", "| model | prompt |", "|---|---|", "| m | v |"]
    first = markdown([result("basic-dense", 0.7), result("structural-hybrid", 0.8)], "q", "m")
    notes = "## A comparison, by hand\n\nint8 keeps Pass@5.\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"
    head, tail = first.split("\nProduced by")
    report.write_text(head + notes + "\n" + "\n".join(costs) + "\n\nProduced by" + tail)

    again = markdown(
        [result("structural-hybrid", 0.85)], "q", "m", previous_rows(report), costs,
        notes=previous_sections(report),
    )  # fmt: skip
    assert "| basic-dense (" in again and "| 70.00 |" in again  # not re-measured: kept
    assert "| structural-hybrid (" in again and "| 85.00 |" in again and "| 80.00 |" not in again
    assert "## A comparison, by hand\n\nint8 keeps Pass@5.\n\n| x | y |" in again
    assert again.count("## LLM contexts: cost") == 1 and again.count("Produced by") == 1
    assert again.index("## A comparison") < again.index("## LLM contexts") < again.index("Produced")
