"""The answer benchmark over several sets: every configuration on every set, each result
logged per question, said as it finishes and merged into the results table (one row per
configuration for the dev set alone, one per set group otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from app.core.config import Settings
from app.core.machine import describe
from app.evaluation import answer_peer, answer_report, answer_sets
from app.evaluation.answer_bench import AnswerBench, Service, write_log
from app.evaluation.answer_configs import AnswerConfig
from app.evaluation.answer_items import AnswerItem
from app.evaluation.answer_sets import AnswerSet

Say = Callable[[str], None]


def run_answer_benchmark(
    configs: Sequence[AnswerConfig],
    loaded: Sequence[tuple[AnswerSet, list[AnswerItem]]],
    settings: Settings,
    open_service: Callable[[Settings], Service],
    out_path: Path,
    logs: Path,
    root: Path,
    single_dir: Path | None,
    say: Say,
    warn: Say,
    peer_log: Path | None = None,
) -> None:
    single = len(loaded) == 1 and loaded[0][0].name == "dev"  # the per-model table

    def set_dir(s: AnswerSet) -> Path:
        """Where a set is ingested: the work dir itself for one set, else one folder each."""
        if single and single_dir is not None:
            return single_dir
        slug = s.corpus.resolve().name if s.name == "dev" else s.name.replace(" ", "-")
        return root / f"answers-{slug}"

    machine = describe()
    rows, set_rows = [], []
    for cfg in configs:
        results: dict[str, list] = {}
        for s, items in loaded:
            bench = AnswerBench(
                s.corpus, items, set_dir(s), settings, open_service=open_service, log=warn
            )
            result = bench.run(cfg)
            results.setdefault(s.group, []).append(result)
            if single:
                say(f"== {cfg.name} {cfg.model} ({cfg.describe()})")
                for metric, value in result.metrics().items():
                    shown = f"{value:.2f}" if isinstance(value, float) else f"{value}"
                    say(f"{metric}: {shown}")
                write_log(logs / f"{cfg.name}--{cfg.model}.jsonl", result)
                rows.append(answer_report.row_of(result, str(s.questions), machine))
            else:
                folder = answer_sets.log_folder(s.name)
                write_log(logs / folder / f"{cfg.name}--{cfg.model}.jsonl", result)
        if not single:
            say(f"== {cfg.name} {cfg.model} ({cfg.describe()})")
            for group, group_results in results.items():
                row = answer_sets.group_row(group, group_results, machine)
                set_rows.append(row)
                say(answer_sets.line_of(row))
                say(answer_sets.kinds_line(row))
    if single:
        merged = answer_report.update_rows(out_path.with_suffix(".json"), rows)
        out_path.write_text(answer_report.markdown(merged))
    else:
        merged = answer_report.update_rows(
            out_path.with_suffix(".json"), set_rows, key=("set", "configuration", "model")
        )
        peers = peer_section(peer_log, merged, logs, settings)
        out_path.write_text(answer_sets.markdown(merged) + peers)


def peer_section(peer_log: Path | None, rows: list[dict], logs: Path, settings: Settings) -> str:
    """The table's last section: every configuration of the default model beside the peer's
    logged answers (nothing when no peer log is given)."""
    if peer_log is None:
        return ""
    model = settings.default_model  # the model the peer was asked with (bench/peers)
    configs = list(dict.fromkeys(r["configuration"] for r in rows if r["model"] == model))
    table = answer_peer.beside_peer(peer_log, logs, configs, model)
    return answer_peer.markdown(table, configs, peer_log)
