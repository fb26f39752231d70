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

from app.cli.connect import require_own_stores, settings
from app.cli.output import fail, plain_errors, say, warn

if TYPE_CHECKING:
    from app.service.lab import ConfigRun, Lab


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
    with plain_errors():
        image = lab().retrieval_benchmark(
            corpus, queries, config or [], out_file, work_dir, contexts, questions_file,
            on_result=_print_result,
        )  # fmt: skip
    say(f"results written to {out_file} and {image}")


def _print_result(run: ConfigRun) -> None:
    """One configuration's figures, build times, training and LLM-context costs."""
    result = run.result
    say(f"== {run.name} ({run.description})")
    for metric, value in result.metrics.items():
        say(f"{metric}: {value:.3f}")
    build = (
        "reused"
        if result.index_reused
        else ", ".join(f"{k} {v:.1f}" for k, v in result.index_seconds.items())
    )
    say(
        f"seconds: index ({build}), queries {result.query_seconds:.1f} "
        f"({result.ms_per_query:.0f} ms/query)"
    )
    for kind, name, steps, seconds in run.trained:
        say(f"tuned {kind} {name}: {steps} steps, {seconds:.0f} s of training")
    if run.contexts is not None:
        model, cached, written, cpu_seconds = run.contexts
        per_1k = 1000 * cpu_seconds / max(1, written)
        say(
            f"llm contexts ({model}): {cached} cached, {written} written in "
            f"{cpu_seconds:.0f} CPU s ({per_1k:.0f} CPU s per 1k chunks)"
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
    peer_log: Annotated[
        Path | None,
        typer.Option(
            help="The peer's per-question log (bench/results/peers.jsonl, `make bench-peers`): "
            "each configuration is set beside its answers on the questions both were asked."
        ),
    ] = None,
) -> None:
    """Answer benchmark: accuracy, citations, "I don't know", latency and tokens.

    With --corpus and --questions alone: one set, one row per configuration in
    bench/results/answers.md. With --generate and/or --share (and the dev set's --corpus
    if given): every configuration prints one line per set, generated seeds as one group
    (mean ± spread over the seeds, and per question kind).
    """
    if (corpus is None) != (questions is None):
        raise fail("--corpus and --questions go together")
    if corpus is None and not generate and not share:
        raise fail("nothing to answer: give --corpus and --questions, --generate or --share")
    root = work_dir or settings().data_dir / "eval"
    single = not generate and not share  # the dev set alone: the per-model table
    if single and peer_log is not None:
        raise fail("--peer-log goes with --generate or --share (the table by set)")
    out_path = out_file or Path(
        "bench/results/answers.md" if single else "bench/results/answer-sets.md"
    )
    logs = log_dir or out_path.with_suffix("")
    with plain_errors():
        measure = lab()
        sets = measure.answer_sets(corpus, questions, share or [], generate or [], root)
        measure.answer_benchmark(
            sets, config or [], model or [], ids, out_path, logs, root,
            work_dir if single else None, peer_log,
        )  # fmt: skip
    say(f"results written to {out_path}; per-question logs in {logs}/")


def share_cmd(
    seed: Annotated[int, typer.Argument(help="Below 1000 to tune on; 1000-1009 to report.")],
    write: Annotated[Path, typer.Option("--write", help="The folder to write it into.")],
) -> None:
    """Write a generated organisation share: its files under DIR/corpus and its questions in
    DIR/questions.jsonl (score it with `eval answers --corpus DIR/corpus --questions
    DIR/questions.jsonl`). The same seed writes the same bytes."""
    count = lab().write_share(seed, write)
    say(f"seed {seed}: {count} files and questions.jsonl written to {write}")


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
    require_own_stores()
    with plain_errors():
        run = lab().self_eval(mode)
    result = run.result
    say(
        f"self-eval of {result.index} ({result.embedder}, {result.mode}): "
        f"{result.queries} held-out question(s) "
        f"({run.trained_on} for training, {run.dropped} dropped by the round trip)"
    )
    for metric, value in result.metrics.items():
        say(f"{metric}: {100 * value:.2f}" if metric != "MRR" else f"MRR: {value:.3f}")
    say(f"{result.ms_per_query:.1f} ms/query")
    if fail_under is not None and 100 * result.metrics["Pass@5"] < fail_under:
        raise fail(f"Pass@5 {100 * result.metrics['Pass@5']:.2f} is below {fail_under}", code=1)


def lab() -> Lab:
    from app.service.lab import Lab

    return Lab(settings(), say=say, warn=warn)
