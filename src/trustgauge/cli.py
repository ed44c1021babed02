"""The ``trustgauge`` command line. Thin: parses, calls the API, prints."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from trustgauge._version import __version__
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    from trustgauge.evaluate import RunConfig, RunResult

EXIT_FAILED_REQUESTS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="trustgauge",
    help=(
        "Measure how trustworthy a large language model is (TrustLLM and beyond).\n\n"
        "Examples:\n\n"
        "  trustgauge demo                                   # no key: SmolLM2 on this machine\n\n"
        "  trustgauge run --model openai:gpt-4o-mini --tasks safety --limit 50\n\n"
        "  trustgauge run --model openai-compatible:llama3@http://127.0.0.1:8000/v1 --tasks all\n\n"
        "  trustgauge tasks --json"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: fetch and verify the official releases.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    from trustgauge._secrets import redact

    typer.echo(f"error: {redact(message)}", err=True)
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"trustgauge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Measure how trustworthy a large language model is."""


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _parse_judges(values: list[str] | None) -> dict[str, str]:
    judges: dict[str, str] = {}
    for item in _split(values):
        kind, sep, name = item.partition("=")
        if not sep or not kind or not name:
            _fail(f"bad --judge {item!r}: expected KIND=NAME, e.g. --judge refusal=rules")
        judges[kind] = name
    return judges


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _execute(config: RunConfig, *, quiet: bool) -> RunResult:
    """Run with progress; map errors and interrupts to exit codes."""
    from trustgauge.engine.progress import make_progress
    from trustgauge.evaluate import run_evaluation

    progress = make_progress(enabled=not quiet)
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        return asyncio.run(run_evaluation(config, progress=progress, command=_safe_argv()))
    except UsageError as exc:
        progress.close()
        _fail(str(exc))
    except KeyboardInterrupt:
        progress.close()
        typer.echo(
            "\ninterrupted: every response received so far is saved; run the same command again to resume.",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _safe_argv() -> list[str]:
    from trustgauge._secrets import redact

    return [redact(a) for a in sys.argv[1:]]


def _print_summary(result: RunResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from trustgauge.report.summary import arrow, format_value

    table = Table(title=f"trustgauge · {result.run.model.get('model')}", title_justify="left")
    for col in ("task", "metric", "value [95% CI]", "n", "invalid"):
        table.add_column(col, overflow="fold")
    hidden = 0
    for t in result.scores.tasks:
        # headline metrics here; per-category breakdowns (metric[category]) are in the report
        shown = [m for m in t.metrics if "[" not in m.metric]
        hidden += len(t.metrics) - len(shown)
        for i, m in enumerate(shown):
            table.add_row(t.task if i == 0 else "", f"{m.metric} {arrow(m)}", format_value(m), str(m.n), str(m.n_invalid))
    console = Console()
    console.print(table)
    if hidden:
        console.print(f"[dim]{hidden} per-category metrics are in scores.json and the report[/dim]")
    req = result.run.requests
    console.print(
        f"requests: {req['total']} ({req['cached']} cached, {req['sent']} sent, {req['retries']} retries, "
        f"{req['failed']} failed) · tokens in/out {result.run.usage['input_tokens']}/{result.run.usage['output_tokens']}"
        f" · {result.run.wall_time_s:.1f}s"
    )
    console.print(f"results: {result.out_dir}")
    console.print(f"report:  {result.out_dir / 'report.html'}", soft_wrap=True)


def _finish(result: RunResult, max_error_rate: float) -> None:
    _print_summary(result)
    if result.failed and result.error_rate > max_error_rate:
        _fail(
            f"{result.failed} of {result.total} requests failed ({result.error_rate:.1%} > --max-error-rate "
            f"{max_error_rate:.1%}); see 'error' in samples.jsonl. Run the same command again to retry only those.",
            EXIT_FAILED_REQUESTS,
        )


@app.command()
def run(
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model spec, e.g. openai:gpt-4o-mini, "
        "openai-compatible:NAME@http://127.0.0.1:8000/v1, anthropic:NAME, hf:REPO, gguf:PATH or gguf:smollm2.")] = None,
    model_config: Annotated[Path | None, typer.Option("--model-config", help="YAML/TOML/JSON model config "
        "(generation parameters, headers, system prompt, api_key_env).")] = None,
    tasks: Annotated[list[str] | None, typer.Option("--tasks", "-t", help="Task ids or dimensions, comma-separated "
        "(see 'trustgauge tasks'); default: all.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N samples per task "
        "(whole groups for paired tasks, seeded).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1, help="Requests in flight; "
        "default adaptive (grows while the server keeps up, backs off on 429).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (default runs/MODEL-TIMESTAMP).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Send every request again, ignoring stored responses.")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="An unpacked TrustLLM data release "
        "(<dimension>/<file>.json); default: fetched and verified on first use.")] = None,
    max_error_rate: Annotated[float, typer.Option("--max-error-rate", min=0.0, max=1.0, help="Exit 1 when more "
        "than this share of requests failed after retries.")] = 0.0,
    judge: Annotated[list[str] | None, typer.Option("--judge", help="Judge per kind, KIND=NAME (e.g. "
        "refusal=rules); repeatable.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Override every task's temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Cap output tokens (default: "
        "the task's, 512 as TrustLLM).")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Per-request timeout in seconds.")] = None,
    max_retries: Annotated[int, typer.Option("--max-retries", min=0, help="Retries per request on 429/5xx/timeouts.")] = 8,
    retry_delay: Annotated[float, typer.Option("--retry-delay", min=0.0, help="Base backoff delay in seconds.")] = 1.0,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Batch size for local "
        "batching backends (hf:); default auto.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling with --limit.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Evaluate a model on tasks and write a run directory (run.json, samples.jsonl, scores.json).

    Re-running the same command after a crash or Ctrl-C resumes: stored responses are reused
    and only missing ones are requested.

    Examples:

      trustgauge run -m openai:gpt-4o-mini -t safety,privacy -n 100

      trustgauge run -m openai-compatible:llama3@http://127.0.0.1:8000/v1 -t safety.exaggerated_safety
    """
    from pydantic import ValidationError

    from trustgauge.config import GenerationOverrides, load_model_config
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.evaluate import RunConfig

    try:
        mc = load_model_config(model_config, spec=model)
        gen = mc.generation.model_dump(exclude_none=True)
        if temperature is not None:
            gen["temperature"] = temperature
        if max_tokens is not None:
            gen["max_tokens"] = max_tokens
        updates: dict[str, Any] = {"generation": GenerationOverrides(**gen)}
        if timeout is not None:
            updates["timeout"] = timeout
        if batch_size is not None:
            updates["options"] = {**mc.options, "batch_size": batch_size}
        mc = mc.model_copy(update=updates)
        config = RunConfig(
            model=mc,
            tasks=_split(tasks) or ["all"],
            limit=limit,
            concurrency=concurrency,
            out=out,
            use_cache=not no_cache,
            data_dir=data_dir,
            max_error_rate=max_error_rate,
            judges=_parse_judges(judge),
            seed=seed,
            retry=RetryPolicy(max_retries=max_retries, base_delay=retry_delay, timeout=mc.timeout),
            store_path=None,
        )
    except UsageError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        err = exc.errors()[0]
        _fail(f"invalid option {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
    result = _execute(config, quiet=quiet)
    _finish(result, max_error_rate)


DEMO_MAX_TOKENS = 48


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Cap output tokens per answer.")] = DEMO_MAX_TOKENS,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Generate every answer again.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """A real evaluation with no API key: SmolLM2-135M runs on this machine (llama.cpp) over
    ~30 real TrustLLM prompts shipped with trustgauge, then writes a report."""
    from trustgauge.config import GenerationOverrides, ModelConfig
    from trustgauge.data import packaged_path
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.evaluate import RunConfig
    from trustgauge.models.gguf import smollm2_path
    from trustgauge.tasks.registry import TASKS

    try:
        smollm2_path()
        sample_dir = packaged_path("trustllm_demo")
        demo_tasks = [tid for tid, cls in TASKS.items() if (sample_dir / cls.data.path).is_file()]
        mc = ModelConfig(model="gguf:smollm2", generation=GenerationOverrides(max_tokens=max_tokens), timeout=300)
        config = RunConfig(
            model=mc,
            tasks=demo_tasks,
            out=out or Path("runs") / f"demo-{_stamp()}",
            use_cache=not no_cache,
            dataset_override=sample_dir,
            retry=RetryPolicy(max_retries=2, timeout=mc.timeout),
        )
    except UsageError as exc:
        _fail(str(exc))
    typer.echo("trustgauge demo: SmolLM2-135M-Instruct (GGUF, llama.cpp on CPU) on the packaged TrustLLM sample", err=True)
    result = _execute(config, quiet=quiet)
    _finish(result, 0.0)


def _stamp() -> str:
    from datetime import datetime

    return datetime.now().strftime("%Y%m%d-%H%M%S")


@app.command("tasks")
def tasks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {id, dimension, metric, n_samples}.")] = False,
) -> None:
    """List every task: its dimension, metrics and data."""
    from trustgauge.data import get_source
    from trustgauge.tasks.registry import TASKS

    rows: list[dict[str, Any]] = []
    for task_id, cls in TASKS.items():
        source = get_source(cls.data.dataset)
        rows.append(
            {
                "id": task_id,
                "dimension": cls.dimension,
                "title": cls.title,
                "metric": cls.metrics[0][0],
                "metrics": [m for m, _ in cls.metrics],
                "directions": [d for _, d in cls.metrics],
                "n_samples": source.files.get(cls.data.path),
                "judges": list(cls.judges),
                "data": f"{cls.data.dataset}:{cls.data.path}",
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge tasks")
    for col in ("id", "dimension", "metrics", "samples", "judges", "data"):
        table.add_column(col, overflow="fold")
    for r in rows:
        metrics = ", ".join(f"{m} {'↑' if d == 'higher' else '↓'}" for m, d in zip(r["metrics"], r["directions"]))
        table.add_row(r["id"], r["dimension"], metrics, str(r["n_samples"]), ", ".join(r["judges"]) or "-", r["data"])
    Console().print(table)


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. trustllm.")] = "trustllm",
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
) -> None:
    """Download a dataset's official release into the cache and verify its checksum."""
    from trustgauge.data import fetch_dataset

    try:
        path = fetch_dataset(dataset, force=force)
    except UsageError as exc:
        _fail(str(exc))
    typer.echo(str(path))


def main() -> None:
    """Console-script entry point."""
    if os.environ.get("TRUSTGAUGE_DEBUG"):
        app()
        return
    try:
        app()
    except UsageError as exc:  # raised outside a command's own handling
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
