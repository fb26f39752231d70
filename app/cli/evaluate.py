"""`factvault eval`: retrieval configurations scored on a dataset with golden chunks, and
`factvault eval answers`: answers scored on a folder of real files with expected answers.

Each retrieval configuration's index is built with the product's own pipeline (progress on stderr:
a bar on a terminal, log lines in a log), then every query is ranked; the figures go to a
markdown table and a chart, and the console's Index page shows the latest of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, out, say, settings

if TYPE_CHECKING:
    from app.evaluation.answer_bench import AnswerConfig
    from app.evaluation.answer_items import AnswerItem
    from app.evaluation.answer_sets import AnswerSet
    from app.evaluation.runner import EvalConfig, EvalResult, Evaluator


def eval_cmd(
    ctx: typer.Context,
    corpus: Annotated[
        Path | None, typer.Option(help="Corpus JSON (documents with fixed chunks).")
    ] = None,
    queries: Annotated[
        Path | None, typer.Option(help="Queries JSONL with golden chunk ids.")
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(help="Preset name or key=value,... (repeatable). Default: the ablation set."),
    ] = None,
    out_file: Annotated[Path, typer.Option("--out")] = Path("bench/results/retrieval.md"),
    work_dir: Annotated[Path | None, typer.Option(help="Where eval indexes are kept.")] = None,
    contexts: Annotated[
        Path | None,
        typer.Option(
            help="LLM context cache file (gzip JSONL) read before and extended after an "
            "llm-context index is built. Default: bench/contexts/<corpus>.jsonl.gz."
        ),
    ] = None,
    questions_file: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="Synthetic questions (gzip JSONL) the tuned embedder trains on. "
            "Default: bench/questions/<corpus>.jsonl.gz.",
        ),
    ] = None,
    self_eval: Annotated[
        bool,
        typer.Option(
            "--self",
            help="Score this installation's index on its held-out synthetic questions "
            "(`factvault tune queries` first).",
        ),
    ] = False,
    mode: Annotated[str, typer.Option(help="With --self: hybrid, dense or sparse.")] = "hybrid",
    fail_under: Annotated[
        float | None,
        typer.Option(help="With --self: exit 1 if Pass@5 (in %) is below this (a CI check)."),
    ] = None,
) -> None:
    """Evaluate retrieval configurations: Pass@5/10/20 and MRR per configuration.

    `factvault eval --self`: this installation's index on its own synthetic questions.
    `factvault eval answers --help`: the answer benchmark."""
    if ctx.invoked_subcommand is not None:
        return
    if self_eval:
        _self_eval(mode, fail_under)
        return
    if corpus is None or queries is None:
        raise fail("retrieval evaluation needs --corpus and --queries (or: eval answers ...)")
    _retrieval_eval(corpus, queries, config, out_file, work_dir, contexts, questions_file)


def _retrieval_eval(
    corpus: Path,
    queries: Path,
    config: list[str] | None,
    out_file: Path,
    work_dir: Path | None,
    contexts: Path | None,
    questions_file: Path | None,
) -> None:
    """Build each configuration's index, rank every query, print and write the figures."""
    from app.evaluation.dataset import load_corpus, load_queries
    from app.evaluation.report import (
        context_cost_lines,
        markdown,
        previous_rows,
        previous_sections,
        write,
    )
    from app.evaluation.runner import DEFAULT_CONFIGS, Evaluator, parse_config
    from ingest.progress import terminal_progress

    try:
        configs = [parse_config(c) for c in (config or DEFAULT_CONFIGS)]
    except ValueError as exc:
        raise fail(str(exc)) from exc
    for path in (corpus, queries):
        if not path.is_file():
            raise fail(f"{path}: no such file")
    eval_corpus = load_corpus(corpus)
    evaluator = Evaluator(
        eval_corpus,
        load_queries(queries),
        work_dir or settings().data_dir / "eval",
        contexts_file=contexts or Path("bench/contexts") / f"{corpus.stem}.jsonl.gz",
        questions_file=questions_file or Path("bench/questions") / f"{corpus.stem}.jsonl.gz",
        progress=terminal_progress(),
        settings=settings(),
    )
    results = []
    try:
        for cfg in configs:
            result = evaluator.run(cfg)
            results.append(result)
            _print_result(evaluator, cfg, result)
    finally:
        evaluator.close()
    from app.core.machine import describe
    from app.evaluation.plot import draw

    costs = context_cost_lines(evaluator.contexts_file, out_file.with_name("context-cost.json"))
    report = markdown(
        results, str(queries), describe(), previous_rows(out_file), costs,
        notes=previous_sections(out_file),
    )  # fmt: skip
    write(out_file, report)
    image = draw(out_file, out_file.with_suffix(".png"))
    from app.evaluation.summary import save_results

    save_results(settings().data_dir, str(queries), results)
    out.print(f"results written to {out_file} and {image}")


def _print_result(evaluator: Evaluator, cfg: EvalConfig, result: EvalResult) -> None:
    """One configuration's figures, build times, training and LLM-context costs."""
    out.print(f"== {cfg.name} ({cfg.describe()})", markup=False)
    for metric, value in result.metrics.items():
        out.print(f"{metric}: {value:.3f}")
    build = (
        "reused"
        if result.index_reused
        else ", ".join(f"{k} {v:.1f}" for k, v in result.index_seconds.items())
    )
    out.print(
        f"seconds: index ({build}), queries {result.query_seconds:.1f} "
        f"({result.ms_per_query:.0f} ms/query)",
        markup=False,
        highlight=False,
    )
    for kind in ("embedder", "reranker"):
        trained = evaluator.train_reports.pop((kind, cfg.context), None)
        if trained is not None:
            out.print(
                f"tuned {kind} {trained.name}: {trained.steps} steps, "
                f"{trained.seconds:.0f} s of training",
                markup=False,
                highlight=False,
            )
    stats = evaluator.context_stats.pop(cfg.context_model, None) if cfg.uses_llm else None
    if stats is not None:
        per_1k = 1000 * stats.cpu_seconds / max(1, stats.written)
        out.print(
            f"llm contexts ({cfg.context_model}): {stats.cached} cached, "
            f"{stats.written} written in {stats.cpu_seconds:.0f} CPU s "
            f"({per_1k:.0f} CPU s per 1k chunks)",
            markup=False,
            highlight=False,
        )


def answers_cmd(
    corpus: Annotated[
        Path | None, typer.Option(help="Folder of documents to ingest as one share (dev set).")
    ] = None,
    questions: Annotated[
        Path | None, typer.Option(help="Questions JSONL for --corpus (answers README schema).")
    ] = None,
    generate: Annotated[
        list[str] | None,
        typer.Option(
            help="Generated shares to write, ingest, ask and score: seeds as N, N-M or N,M "
            "(repeatable). Tune below 1000; 1000-1009 are the report seeds."
        ),
    ] = None,
    share: Annotated[
        list[Path] | None,
        typer.Option(help="A folder with corpus/ and questions.jsonl, one set (repeatable)."),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(help="Preset or key=value,... (repeatable). Default: baseline, default."),
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="Model name (repeatable). Default: the config's.")
    ] = None,
    ids: Annotated[
        str | None, typer.Option(help="Only these question ids, comma-separated (a slice).")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Results table. Default: bench/results/answers.md for --corpus alone, "
            "bench/results/answer-sets.md with --generate or --share.",
        ),
    ] = None,
    log_dir: Annotated[
        Path | None, typer.Option(help="Per-question logs (default: beside --out).")
    ] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where the sets are ingested.")] = None,
) -> None:
    """Answer benchmark: accuracy, citations, "I don't know", latency and tokens.

    With --corpus and --questions alone: one set, one row per configuration in
    bench/results/answers.md. With --generate and/or --share (and the dev set's --corpus
    if given): every configuration prints one line per set, generated seeds as one group
    (mean ± spread over the seeds, and per question kind).
    """
    from app.evaluation import answer_sets
    from app.evaluation.answer_bench import DEFAULT_CONFIGS, parse_config

    if (corpus is None) != (questions is None):
        raise fail("--corpus and --questions go together")
    if corpus is None and not generate and not share:
        raise fail("nothing to answer: give --corpus and --questions, --generate or --share")
    root = work_dir or settings().data_dir / "eval"
    try:  # each --generate is a group of its own (tuning seeds apart from report seeds)
        seed_groups = [answer_sets.parse_seeds([spec]) for spec in generate or []]
        names = config or DEFAULT_CONFIGS
        configs = [parse_config(c, m) for m in (model or [None]) for c in names]
        sets = _answer_sets(corpus, questions, share or [], seed_groups, root)
        loaded = answer_sets.load(sets, ids)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    single = not seed_groups and not share  # the dev set alone: the per-model table
    out_path = out_file or Path(
        "bench/results/answers.md" if single else "bench/results/answer-sets.md"
    )
    logs = log_dir or out_path.with_suffix("")
    _answer_and_write(configs, loaded, single, work_dir if single else None, root, out_path, logs)
    say(f"results written to {out_path}; per-question logs in {logs}/")


def _answer_sets(
    corpus: Path | None,
    questions: Path | None,
    shares: list[Path],
    seed_groups: list[list[int]],
    root: Path,
) -> list[AnswerSet]:
    """The sets asked for: the dev set, shares from folders, generated shares (written)."""
    from app.cli.common import warn
    from app.evaluation import answer_sets

    sets: list[AnswerSet] = []
    if corpus is not None and questions is not None:
        sets.append(answer_sets.AnswerSet("dev", corpus, questions, "dev"))
    for folder in shares:
        sets.append(answer_sets.folder_set(folder))
    for group_seeds in seed_groups:
        group = answer_sets.seed_group(group_seeds)
        sets += answer_sets.generated_sets(group_seeds, root / "generated")
        say(f"{group}: {len(group_seeds)} shares written under {root / 'generated'}")
        if "report seeds" in group:
            warn("report seeds: measure on them, never tune on them")
    return sets


def _answer_and_write(
    configs: list[AnswerConfig],
    loaded: list[tuple[AnswerSet, list[AnswerItem]]],
    single: bool,
    single_dir: Path | None,
    root: Path,
    out_path: Path,
    logs: Path,
) -> None:
    """Every configuration on every set, printed as it finishes and merged into the
    results table: one row per configuration (the dev set alone) or per set group."""
    from app.cli.common import warn
    from app.core.machine import describe
    from app.evaluation import answer_report, answer_sets
    from app.evaluation.answer_bench import AnswerBench, write_log
    from app.service import FactVault

    def set_dir(s: AnswerSet) -> Path:
        """Where a set is ingested: --work-dir itself for one set, else one folder each."""
        if single_dir is not None:
            return single_dir
        slug = s.corpus.resolve().name if s.name == "dev" else s.name.replace(" ", "-")
        return root / f"answers-{slug}"

    machine = describe()
    rows, set_rows = [], []
    for cfg in configs:
        results: dict[str, list] = {}
        for s, items in loaded:
            bench = AnswerBench(
                s.corpus, items, set_dir(s), settings(), open_service=FactVault, log=warn
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
                slug = s.name.replace(" ", "-")
                write_log(logs / slug / f"{cfg.name}--{cfg.model}.jsonl", result)
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
        out_path.write_text(answer_sets.markdown(merged))


def share_cmd(
    seed: Annotated[int, typer.Argument(help="Below 1000 to tune on; 1000-1009 to report.")],
    write: Annotated[Path, typer.Option("--write", help="The folder to write it into.")],
) -> None:
    """Write a generated organisation share: its files under DIR/corpus and its questions in
    DIR/questions.jsonl (score it with `eval answers --corpus DIR/corpus --questions
    DIR/questions.jsonl`). The same seed writes the same bytes."""
    from app.evaluation.generated import write_share

    written = write_share(seed, write)
    say(f"seed {seed}: {len(written) - 1} files and questions.jsonl written to {write}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        invoke_without_command=True,
        help="Evaluate: retrieval (options here), answers (`eval answers`), or write a "
        "generated share to answer (`eval share SEED --write DIR`).",
    )
    group.callback()(eval_cmd)
    group.command("answers")(answers_cmd)
    group.command("share")(share_cmd)
    app.add_typer(group, name="eval")


def _self_eval(mode: str, fail_under: float | None) -> None:
    from app.cli.common import open_runtime
    from app.evaluation.selfeval import NoQuestions, questions_for
    from app.evaluation.selfeval import self_eval as score
    from app.retrieval.search import NoIndex

    if mode not in ("hybrid", "dense", "sparse"):
        raise fail(f"--mode {mode!r}: choose hybrid, dense or sparse")
    rt = open_runtime()
    try:
        questions = questions_for(rt)
        result = score(rt, questions, mode=mode)  # type: ignore[arg-type]
    except (NoQuestions, NoIndex) as exc:
        raise fail(str(exc)) from exc
    finally:
        rt.close()
    say(
        f"self-eval of {result.index} ({result.embedder}, {result.mode}): "
        f"{result.queries} held-out question(s) "
        f"({len(questions.train)} for training, {questions.dropped} dropped by the round trip)"
    )
    for metric, value in result.metrics.items():
        say(f"{metric}: {100 * value:.2f}" if metric != "MRR" else f"MRR: {value:.3f}")
    say(f"{result.ms_per_query:.1f} ms/query")
    if fail_under is not None and 100 * result.metrics["Pass@5"] < fail_under:
        raise fail(f"Pass@5 {100 * result.metrics['Pass@5']:.2f} is below {fail_under}", code=1)
