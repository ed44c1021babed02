"""The commands that read run directories: ``report`` (the HTML report of a run), ``compare``,
``leaderboard``, ``gate`` and ``export``. Thin: parse, call the report modules, print.
(Until step 13 these lived in ``report/commands.py`` and ``report/cli_report.py``.)"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from trustgauge.cli._errors import EXIT_FAILED, EXIT_USAGE
from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app
from trustgauge.errors import UsageError
from trustgauge.net.atomic import atomic_write_text


def _write_text(target: str, text: str, what: str) -> None:
    """Write ``text`` to a file (``-``: stdout), all or nothing."""
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target).expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {target}: its folder does not exist")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {what} to {target}: {exc.strerror or exc}") from None


def compare_cmd(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="The reference run directory (A).")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="The run compared with it (B); deltas are B − A.")],
    html: Annotated[str | None, typer.Option("--html", metavar="FILE", help="Also write a self-contained "
        "HTML page ('-': stdout, instead of the table).")] = None,
    json_out: Annotated[str | None, typer.Option("--json", metavar="FILE", help="Also write the comparison "
        "as JSON ('-': stdout, instead of the table).")] = None,
    markdown: Annotated[str | None, typer.Option("--markdown", metavar="FILE", help="Also write a Markdown "
        "table ('-': stdout, instead of the table).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, max=1.0, help="Significance level of the "
        "paired tests.")] = 0.05,
    adjust: Annotated[str, typer.Option("--adjust", metavar="[none|holm]", help="Adjust the p-values for "
        "the many metrics compared (holm: family-wise error rate).")] = "none",
    resamples: Annotated[int, typer.Option("--resamples", min=100, help="Bootstrap resamples (intervals) "
        "and random permutations (tests of metrics recomputed from the samples).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and permutation draws.")] = 0,
    primary_only: Annotated[bool, typer.Option("--primary-only", help="Only each task's primary metric "
        "(not the breakdowns).")] = False,
    fail_on_regression: Annotated[bool, typer.Option("--fail-on-regression", help="Exit 1 when a metric "
        "got significantly worse.")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Accept runs that share no metric "
        "(0 metrics compared); by default that is an error (exit 2).")] = False,
    by: Annotated[str, typer.Option("--by", metavar="[task|category]", help="category: one row per Liu "
        "category instead, its score in A and B, the delta and a paired test per category (docs/taxonomy.md).")] = "task",
    framework_name: Annotated[str | None, typer.Option("--framework", metavar="ID", help="With --by category: "
        "the categories of this framework instead of Liu et al.'s (fan2023, owasp-llm-2025, nist-ai-600-1; "
        "a unique prefix such as owasp-llm will do).")] = None,
) -> None:
    """Compare two runs: per task and metric, A, B, the delta B − A with its 95% interval, and
    a paired significance test on the samples both runs share; flags significant regressions.

    Tests: exact McNemar for per-sample 0/1 outcomes (RtA, accuracy), a sign-flip permutation
    test for other per-sample means, a paired permutation test recomputing the metric otherwise
    (macro-F1, Pearson, p-values, RS, breakdowns); intervals: paired bootstrap. Samples that
    form a group (AdvGLUE pairs, AdvInstruction variants, ...) are swapped and resampled as
    a whole. Runs that share no metric are an error unless --allow-empty. See
    docs/compare-gate.md.

    Examples:

      trustgauge compare runs/base runs/candidate

      trustgauge compare runs/base runs/candidate --html compare.html --adjust holm

      trustgauge compare runs/base runs/candidate --json - | jq .regressions

      trustgauge compare runs/base runs/candidate --by category
    """
    if by not in ("task", "category"):
        _fail(f"bad --by {by!r}: expected task or category")
    on_stdout = [name for name, target in (("--html", html), ("--json", json_out), ("--markdown", markdown))
                 if target == "-"]
    if len(on_stdout) > 1:  # two documents one after the other: neither jq nor a browser reads that
        names = " and ".join(on_stdout) if len(on_stdout) == 2 else f"{on_stdout[0]}, {on_stdout[1]} and {on_stdout[2]}"
        _fail(f"{names} {'both' if len(on_stdout) == 2 else 'all'} write to stdout ('-'): give files to all but one")
    if adjust not in ("none", "holm"):
        _fail(f"bad --adjust {adjust!r}: expected none or holm")
    if by == "category":
        # the per-task options: refused rather than silently ignored
        task_options = {"--primary-only": primary_only, "--allow-empty": allow_empty}
        given = [name for name, used in task_options.items() if used]
        if given:
            _fail(f"{', '.join(given)} belong(s) to the per-task comparison: not with --by category")
        _compare_by_category(run_a, run_b, html=html, json_out=json_out, markdown=markdown,
                             framework_id=_framework_id(framework_name), resamples=resamples, seed=seed,
                             alpha=alpha, adjust=adjust, fail_on_regression=fail_on_regression)
        return
    if framework_name is not None:
        _fail("--framework goes with --by category")
    from trustgauge.report.compare import (
        compare_results,
        nothing_compared,
        render_html,
        render_markdown,
        render_terminal,
    )
    from trustgauge.results.results import Results

    if not 0.0 < alpha < 1.0:
        _fail(f"bad --alpha {alpha}: expected a level between 0 and 1, e.g. 0.05")
    try:
        a, b = Results.load(run_a), Results.load(run_b)
        comp = compare_results(
            a, b, alpha=alpha, resamples=resamples, seed=seed,
            adjust="holm" if adjust == "holm" else "none", primary_only=primary_only,
        )
        if not comp.metrics and not allow_empty:
            raise UsageError(nothing_compared(comp))
        if html:
            _write_text(html, render_html(comp), "the HTML page")
        if json_out:
            _write_text(json_out, json.dumps(comp.to_dict(), indent=2, ensure_ascii=False) + "\n", "JSON")
        if markdown:
            _write_text(markdown, render_markdown(comp), "Markdown")
    except UsageError as exc:
        _fail(str(exc))
    if "-" not in (json_out, markdown, html):
        render_terminal(comp)
    if html and html != "-":
        typer.echo(f"html: {html}", err=True)
    if fail_on_regression and comp.regressions:
        raise typer.Exit(EXIT_FAILED)


def _framework_id(value: str | None) -> str:
    """The framework ``--framework`` names (Liu et al. when not given)."""
    from trustgauge.cli.taxonomy import resolve_framework
    from trustgauge.taxonomy import BASE

    return BASE if value is None else resolve_framework(value)


def _compare_by_category(run_a: Path, run_b: Path, *, html: str | None, json_out: str | None,
                         markdown: str | None, framework_id: str, resamples: int, seed: int, alpha: float,
                         adjust: str, fail_on_regression: bool) -> None:
    """``compare --by category``: the category scores of A and B, the delta and a paired test."""
    from trustgauge.report.bycategory import (
        category_table,
        render_html,
        render_markdown,
        to_dict,
        with_tests,
    )
    from trustgauge.results.results import Results

    try:
        a, b = Results.load(run_a), Results.load(run_b)
        table = category_table([a, b], delta=True, framework_id=framework_id)
        table = with_tests(table, a, b, resamples=resamples, seed=seed, alpha=alpha, adjust=adjust)
        if html:
            _write_text(html, render_html(table), "the HTML page")
        if json_out:
            _write_text(json_out, json.dumps(to_dict(table), indent=2, ensure_ascii=False) + "\n", "JSON")
        if markdown:
            _write_text(markdown, render_markdown(table), "Markdown")
    except UsageError as exc:
        _fail(str(exc))
    if "-" not in (json_out, markdown, html):
        typer.echo(render_markdown(table), nl=False)
    if html and html != "-":
        typer.echo(f"html: {html}", err=True)
    if fail_on_regression and table.regressions:
        raise typer.Exit(EXIT_FAILED)


def leaderboard_cmd(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR...", help="Run directories, one per model.")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="[md|csv|html]", help="Output format "
        "(default: from the -o file's extension, else md).")] = None,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Where to write ('-': stdout).")] = "-",
    common: Annotated[bool, typer.Option("--common", help="Only the sub-tasks every run has.")] = False,
    by: Annotated[str, typer.Option("--by", metavar="[task|category]", help="category: one row per Liu "
        "category instead, each run's category score and measured sub-categories (no ranks).")] = "task",
    framework_name: Annotated[str | None, typer.Option("--framework", metavar="ID", help="With --by category: "
        "the categories of this framework instead of Liu et al.'s (fan2023, owasp-llm-2025, nist-ai-600-1; "
        "a unique prefix such as owasp-llm will do).")] = None,
) -> None:
    """One table over many runs: each sub-task's primary metric, the rank per sub-task
    (direction-aware; ties share a rank; no value ranks last), the mean rank per dimension
    and overall, as TrustLLM's rank card.

    Examples:

      trustgauge leaderboard runs/*

      trustgauge leaderboard runs/* --format html -o leaderboard.html

      trustgauge leaderboard runs/a runs/b runs/c -o leaderboard.csv

      trustgauge leaderboard runs/* --by category

      trustgauge leaderboard runs/* --by category --framework owasp-llm
    """
    from trustgauge.report.leaderboard import FORMATS, build_leaderboard, render
    from trustgauge.results.results import Results

    if by not in ("task", "category"):
        _fail(f"bad --by {by!r}: expected task or category")
    if by == "category" and common:
        _fail("--common selects sub-tasks to rank: not with --by category")
    seen: dict[Path, Path] = {}
    for run_dir in run_dirs:  # runs/* plus one of them named again would rank a run against itself
        first = seen.setdefault(run_dir.expanduser().resolve(), run_dir)
        if first is not run_dir:
            _fail(f"{run_dir} is given twice" + ("" if str(first) == str(run_dir) else f" (also as {first})")
                  + ": each run once")

    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output != "-" else ""
        fmt = {"markdown": "md", "htm": "html"}.get(suffix, suffix) if suffix in (*FORMATS, "markdown", "htm") else "md"
    if fmt not in FORMATS:
        _fail(f"bad --format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if by == "category":
        _leaderboard_by_category(run_dirs, fmt, output, _framework_id(framework_name))
        return
    if framework_name is not None:
        _fail("--framework goes with --by category")
    try:
        results = [Results.load(d) for d in run_dirs]
        board = build_leaderboard(results, common_only=common)
        if not board.columns:
            raise UsageError("no sub-task to rank" + (" that every run has" if common else ""))
        _write_text(output, render(board, fmt), "the leaderboard")
    except UsageError as exc:
        _fail(str(exc))
    if output != "-":
        runs = len(board.entries)
        typer.echo(f"leaderboard ({runs} run{'s' * (runs != 1)}, {len(board.columns)} sub-tasks): {output}", err=True)


def _leaderboard_by_category(run_dirs: list[Path], fmt: str, output: str, framework_id: str) -> None:
    """``leaderboard --by category``: one row per category (Liu et al.'s or ``framework_id``'s),
    one score per run."""
    from trustgauge.report.bycategory import category_table, render
    from trustgauge.results.results import Results

    try:
        table = category_table([Results.load(d) for d in run_dirs], framework_id=framework_id)
        _write_text(output, render(table, fmt), "the leaderboard")
    except UsageError as exc:
        _fail(str(exc))
    if output != "-":
        typer.echo(f"leaderboard by category ({len(table.labels)} runs, {len(table.rows)} categories): {output}",
                   err=True)


def gate_cmd(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="The run to check.")],
    minimum: Annotated[list[str] | None, typer.Option("--min", metavar="TASK_ID:METRIC=VALUE", help="The metric "
        "must be >= VALUE (repeatable); TASK_ID=VALUE means the task's primary metric.")] = None,
    maximum: Annotated[list[str] | None, typer.Option("--max", metavar="TASK_ID:METRIC=VALUE", help="The metric "
        "must be <= VALUE (repeatable).")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", metavar="RUN_DIR", help="A baseline run: every "
        "primary metric both runs have, and every metric a rule names, may be at most --max-drop worse.")] = None,
    max_drop: Annotated[float | None, typer.Option("--max-drop", metavar="D", help="Largest allowed change "
        "for the worse vs --baseline, in the metric's units (direction-aware).")] = None,
    summary: Annotated[str | None, typer.Option("--summary", metavar="FILE", help="Also write the Markdown "
        "summary to FILE (it is appended to $GITHUB_STEP_SUMMARY when that is set).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the summary on stdout.")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Pass even when the baseline comparison "
        "checks nothing (no task or comparable metric in common); by default that is an error (exit 2).")] = False,
) -> None:
    """Check a run against thresholds (and a baseline) for CI: exit 0 when every rule holds,
    1 with one line per failed rule on stderr, 2 for a usage error (e.g. a rule naming a task
    or metric the run does not have). Prints a Markdown summary for a pull-request comment.

    Examples:

      trustgauge gate runs/candidate --min safety.jailbreak:rta=0.95 --max safety.toxicity:average_toxicity=0.1

      trustgauge gate runs/candidate --baseline runs/prod --max-drop 0.02 --summary gate.md
    """
    from trustgauge.report.gate import failure_lines, parse_rule, render_markdown, run_gate
    from trustgauge.results.results import Results

    try:
        rules = [parse_rule(r, "min") for r in minimum or []] + [parse_rule(r, "max") for r in maximum or []]
        res = Results.load(run_dir)
        base = Results.load(baseline) if baseline is not None else None
        result = run_gate(res, rules, baseline=base, max_drop=max_drop, allow_empty=allow_empty)
    except UsageError as exc:
        _fail(str(exc))
    text = render_markdown(result)
    if not quiet:
        typer.echo(text, nl=False)
    try:
        if summary:
            _write_text(summary, text, "the summary")
    except UsageError as exc:
        _fail(str(exc))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            typer.echo(f"warning: cannot append to $GITHUB_STEP_SUMMARY ({exc.strerror or exc})", err=True)
    for line in failure_lines(result):
        typer.echo(f"gate: {line}", err=True)
    if not result.passed:
        raise typer.Exit(EXIT_FAILED)


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="The run to export.")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Where to write ('-': stdout, "
        "json and csv only).")] = "-",
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="[json|csv|parquet]", help="Output format "
        "(default: from the -o file's extension, else json). parquet needs 'trustgauge[parquet]'.")] = None,
    what: Annotated[str, typer.Option("--what", metavar="[tasks|samples]", help="tasks: one row per task "
        "metric; samples: one row per sample.")] = "tasks",
) -> None:
    """Export a run's per-task metrics or per-sample records as JSON, CSV or Parquet.

    From Python: trustgauge.Results.load(RUN_DIR).to_pandas("tasks" or "samples").

    Examples:

      trustgauge export runs/x --what tasks -o scores.csv

      trustgauge export runs/x --what samples --format parquet -o samples.parquet

      trustgauge export runs/x --what samples --format json | jq '.[0]'
    """
    from trustgauge.report.export import FORMATS, export, guess_format
    from trustgauge.results.results import Results

    fmt = fmt or guess_format(output)
    if fmt not in FORMATS:
        _fail(f"bad --format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if what not in ("tasks", "samples"):
        _fail(f"bad --what {what!r}: expected tasks or samples")
    try:
        res = Results.load(run_dir)
        export(res, fmt, "samples" if what == "samples" else "tasks", output)
    except UsageError as exc:
        _fail(str(exc))
    if output != "-":
        n = len(res.samples) if what == "samples" else len(res.task_rows())
        typer.echo(f"{n} {what} rows ({fmt}): {output}", err=True)


def report_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory (run.json, scores.json, samples.jsonl).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the report "
        "(default: RUN_DIR/report.html).")] = None,
    price_in: Annotated[float | None, typer.Option("--price-in", min=0.0, help="USD per million input "
        "tokens, for the cost estimate (with --price-out; without prices the cost is shown as unknown).")] = None,
    price_out: Annotated[float | None, typer.Option("--price-out", min=0.0, help="USD per million output "
        "tokens, for the cost estimate.")] = None,
) -> None:
    """Write one self-contained HTML report of a run: dimension chart, scores per Liu taxonomy
    category (unmeasured sub-categories marked), every sub-task's metrics
    with 95% intervals, the safety trade-off plot, a searchable explorer of the failing
    examples, and the run's metadata. It opens offline and loads nothing.

    Examples:

      trustgauge report runs/demo-20261123-142433

      trustgauge report runs/gpt4o-mini -o review/gpt4o-mini.html --price-in 0.15 --price-out 0.6
    """
    import time

    from trustgauge._secrets import redact
    from trustgauge.errors import UsageError
    from trustgauge.report.htmlreport import Prices, write_report
    from trustgauge.results.writer import read_run

    if (price_in is None) != (price_out is None):
        typer.echo("error: give both --price-in and --price-out (USD per million tokens), or neither", err=True)
        raise typer.Exit(EXIT_USAGE)
    start = time.perf_counter()
    if not run_dir.is_dir():
        what = "a file, not a folder" if run_dir.exists() else "no such folder"
        typer.echo(f"error: {run_dir} is not a trustgauge run directory ({what})", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        run, scores, samples = read_run(run_dir)
    except UsageError as exc:
        typer.echo(f"error: {redact(str(exc))}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    target = out if out is not None else run_dir / "report.html"
    if target.is_dir():
        target = target / "report.html"
    prices = Prices(price_in, price_out) if price_in is not None else None
    try:
        write_report(target, run, scores, samples, prices=prices)
    except OSError as exc:
        typer.echo(f"error: cannot write {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    size = target.stat().st_size
    typer.echo(
        f"report: {target} ({size / 1e6:.1f} MB, {len(samples):,} samples, "
        f"{time.perf_counter() - start:.1f}s)"
    )


def register(app: typer.Typer) -> None:
    """Add compare, leaderboard, gate and export to ``app`` (then ``report``: the order of ``--help``)."""
    app.command("compare")(compare_cmd)
    app.command("leaderboard")(leaderboard_cmd)
    app.command("gate")(gate_cmd)
    app.command("export")(export_cmd)
    app.command("report")(report_command)


register(app)
