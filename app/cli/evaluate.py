"""`factvault eval`: retrieval configurations scored on a dataset with golden chunks, and
`factvault eval answers`: answers scored on a folder of real files with expected answers.

Each retrieval configuration's index is built with the product's own pipeline (progress on stderr:
a bar on a terminal, log lines in a log), then every query is ranked; the figures go to a
markdown table and a chart, and the console's Index page shows the latest of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, out, say, settings


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


def answers_cmd(
    corpus: Annotated[Path, typer.Option(help="Folder of documents to ingest as one share.")],
    questions: Annotated[Path, typer.Option(help="Questions JSONL (answers README schema).")],
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
    out_file: Annotated[Path, typer.Option("--out")] = Path("bench/results/answers.md"),
    log_dir: Annotated[
        Path | None, typer.Option(help="Per-question logs (default: beside --out).")
    ] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Where the corpus is ingested.")] = None,
) -> None:
    """Answer benchmark: accuracy, citations, "I don't know", latency and tokens."""
    from app.cli.common import warn
    from app.core.machine import describe
    from app.evaluation.answer_report import markdown, row_of, update_rows
    from app.evaluation.answers import (
        DEFAULT_CONFIGS,
        AnswerBench,
        DatasetError,
        load_items,
        parse_config,
        write_log,
    )
    from app.service import FactVault

    if not corpus.is_dir():
        raise fail(f"{corpus}: no such folder")
    if not questions.is_file():
        raise fail(f"{questions}: no such file")
    try:
        items = load_items(questions)
        names = config or DEFAULT_CONFIGS
        configs = [parse_config(c, m) for m in (model or [None]) for c in names]
    except (DatasetError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        unknown = sorted(set(wanted) - {i.id for i in items})
        if unknown:
            raise fail(f"{questions}: no question ids {', '.join(unknown)}")
        items = [i for i in items if i.id in wanted]
    bench = AnswerBench(
        corpus,
        items,
        work_dir or settings().data_dir / "eval" / f"answers-{corpus.resolve().name}",
        settings(),
        open_service=FactVault,
        log=warn,
    )
    machine = describe()
    rows = []
    logs = log_dir or out_file.with_suffix("")
    for cfg in configs:
        result = bench.run(cfg)
        say(f"== {cfg.name} {cfg.model} ({cfg.describe()})")
        for metric, value in result.metrics().items():
            say(f"{metric}: {value:.2f}" if isinstance(value, float) else f"{metric}: {value}")
        write_log(logs / f"{cfg.name}--{cfg.model}.jsonl", result)
        rows.append(row_of(result, str(questions), machine))
    merged = update_rows(out_file.with_suffix(".json"), rows)
    out_file.write_text(markdown(merged))
    say(f"results written to {out_file}; per-question logs in {logs}/")


def share_cmd(
    seed: Annotated[int, typer.Argument(help="Below 1000 to tune on; 1000-1009 to report.")],
    write: Annotated[Path, typer.Option("--write", help="The folder to write it into.")],
) -> None:
    """Write a generated organisation share: its files under DIR/corpus and its questions in
    DIR/questions.jsonl (score it with `eval answers --corpus DIR/corpus --questions
    DIR/questions.jsonl`). The same seed writes the same bytes."""
    from app.evaluation.generated_share import write_share

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
