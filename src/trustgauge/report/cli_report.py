"""``trustgauge report RUN_DIR``: (re)write the HTML report of a run (registered in cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (run.json, scores.json, samples.jsonl).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the report "
        "(default: RUN_DIR/report.html).")] = None,
    price_in: Annotated[float | None, typer.Option("--price-in", min=0.0, help="USD per million input "
        "tokens, for the cost estimate (with --price-out; without prices the cost is shown as unknown).")] = None,
    price_out: Annotated[float | None, typer.Option("--price-out", min=0.0, help="USD per million output "
        "tokens, for the cost estimate.")] = None,
) -> None:
    """Write one self-contained HTML report of a run: dimension chart, every sub-task's metrics
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
    from trustgauge.report.writer import read_run

    if (price_in is None) != (price_out is None):
        typer.echo("error: give both --price-in and --price-out (USD per million tokens), or neither", err=True)
        raise typer.Exit(2)
    start = time.perf_counter()
    if not run_dir.is_dir():
        what = "a file, not a folder" if run_dir.exists() else "no such folder"
        typer.echo(f"error: {run_dir} is not a trustgauge run directory ({what})", err=True)
        raise typer.Exit(2)
    try:
        run, scores, samples = read_run(run_dir)
    except UsageError as exc:
        typer.echo(f"error: {redact(str(exc))}", err=True)
        raise typer.Exit(2) from None
    target = out if out is not None else run_dir / "report.html"
    if target.is_dir():
        target = target / "report.html"
    prices = Prices(price_in, price_out) if price_in is not None else None
    try:
        write_report(target, run, scores, samples, prices=prices)
    except OSError as exc:
        typer.echo(f"error: cannot write {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    size = target.stat().st_size
    typer.echo(
        f"report: {target} ({size / 1e6:.1f} MB, {len(samples):,} samples, "
        f"{time.perf_counter() - start:.1f}s)"
    )
