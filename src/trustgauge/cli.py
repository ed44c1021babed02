"""The ``trustgauge`` command line. Thin: parses, calls the API, prints."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from trustgauge._version import __version__
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    from trustgauge.engine.progress import Progress
    from trustgauge.evaluate import JudgeStats, RunConfig, RunResult
    from trustgauge.judges.base import Judge, JudgeItem, Judgement

T = TypeVar("T")

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
data_app = typer.Typer(
    help=(
        "Datasets: fetch, verify and list the official releases.\n\n"
        "A run reads the data from --data-dir DIR, else TRUSTGAUGE_DATA_DIR, else the cached copy "
        "(fetched on first use); it never falls back to a smaller sample.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  trustgauge data list                      # sources, checksums, cached copies\n"
        "  trustgauge data list --files              # ... and each file's record count\n"
        "  trustgauge data fetch trustllm            # the pinned GitHub release\n"
        "  trustgauge data fetch trustllm --from hf  # the gated Hugging Face copy\n"
        "  trustgauge run -m MODEL --data-dir DIR    # an unpacked copy of the release\n\n"
        "The Hugging Face copy needs its terms accepted on the dataset page and a token: HF_TOKEN, "
        "or 'hf auth login'. Offline, '--suite quick' runs on the small packaged sample."
    ),
    no_args_is_help=True,
)
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
    from trustgauge._secrets import secrets_in_environment

    secrets_in_environment()  # before any command reads, sends or prints anything


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _parse_value(text: str) -> Any:
    """A judge option's value: true/false, none/null, an int, a float, else the string
    ("quoted" keeps a string that looks like a number)."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


_SECRET_OPTIONS = frozenset({"api_key", "api-key", "apikey", "key", "token", "access_token", "secret", "password"})


def _judge_option(item: str, flag: str) -> tuple[str, Any]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        _fail(f"bad {flag} {item!r}: expected OPTION=VALUE, e.g. qps=0.5")
    if key.lower() in _SECRET_OPTIONS:
        _fail(
            # the value is not shown: it is a key, and this line would put it in a CI log
            f"bad {flag} '{key}=…': keys are not taken on the command line (they would land in "
            "shell history); set the environment variable the judge names (see 'trustgauge judges')"
        )
    return key, _parse_value(value)


def _parse_judges(values: list[str] | None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """``--judge KIND=NAME[,opt=value,...]`` (repeatable; ``refusal=rules,toxicity=minilm``
    also works: an item whose key is a judge kind starts the next judge)."""
    from trustgauge.judges.registry import JUDGES

    judges: dict[str, str] = {}
    options: dict[str, dict[str, Any]] = {}
    for value in values or []:
        kind = ""
        for item in (x.strip() for x in value.split(",")):
            if not item:
                continue
            key, sep, rest = item.partition("=")
            key, rest = key.strip(), rest.strip()
            if not kind or key in JUDGES:
                if not sep or not key or not rest:
                    _fail(f"bad --judge {value!r}: expected KIND=NAME[,OPTION=VALUE...], e.g. --judge refusal=rules")
                kind = key
                judges[kind] = rest
                continue
            opt, parsed = _judge_option(item, "--judge")
            options.setdefault(kind, {})[opt] = parsed
    return judges, options


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, where SIGTERM (like Ctrl-C) cancels the work cleanly and then
    raises KeyboardInterrupt (a KeyboardInterrupt raised inside some task instead would leave
    tasks with unretrieved exceptions behind, and tracebacks on stderr)."""

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        terminated = False

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            if task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            installed = False
        try:
            return await coro
        except asyncio.CancelledError:
            if terminated:
                raise KeyboardInterrupt from None
            raise
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGTERM)  # resets SIGTERM to the default ...
                signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # ... so put ours back

    return asyncio.run(main())


def _execute(config: RunConfig, *, quiet: bool) -> RunResult:
    """Run with progress; map errors and interrupts to exit codes."""
    from trustgauge.engine.progress import make_progress
    from trustgauge.errors import ModelError
    from trustgauge.evaluate import JudgeFailedError, run_evaluation

    progress = make_progress(enabled=not quiet)
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        return _run_async(run_evaluation(config, progress=progress, command=_safe_argv()))
    except JudgeFailedError as exc:
        progress.close()
        _fail(
            f"{exc} (every response received is saved; run the same command again to judge the rest)",
            EXIT_FAILED_REQUESTS,
        )
    except ModelError as exc:
        progress.close()
        _fail(f"{exc} (every response received is saved; run the same command again to resume)", EXIT_FAILED_REQUESTS)
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
        shown = [m for m in t.metrics if m.group is None]
        hidden += len(t.metrics) - len(shown)
        for i, m in enumerate(shown):
            table.add_row(t.task if i == 0 else "", f"{m.metric} {arrow(m)}", format_value(m), str(m.n), str(m.n_invalid))
    console = Console()
    console.print(table)
    if hidden:
        console.print(f"[dim]{hidden} per-category metrics are in scores.json and the report[/dim]")
    from trustgauge.report.dimensions import dimension_summary_lines

    for line in dimension_summary_lines(result.scores.tasks):
        console.print(line, markup=False, soft_wrap=True)
    req = result.run.requests
    console.print(
        f"requests: {req['total']} ({req['cached']} cached, {req['sent']} sent, {req['retries']} retries, "
        f"{req['failed']} failed) · tokens in/out {result.run.usage['input_tokens']}/{result.run.usage['output_tokens']}"
        f" · {result.run.wall_time_s:.1f}s"
    )
    for name, role in (result.run.roles or {}).items():  # runs with conversational tasks
        console.print(
            f"role {name}: {role['requests']['sent']} sent, {role['requests']['cached']} cached · tokens in/out "
            f"{role['usage']['input_tokens']}/{role['usage']['output_tokens']}"
        )
    console.print(f"results: {result.out_dir}")
    console.print(f"report:  {result.out_dir / 'report.html'}", soft_wrap=True)
    health = result.run.health
    if health is not None:
        console.print(
            f"health: empty {health.rate('empty'):.1%} · truncated {health.rate('truncated'):.1%} · "
            f"failed {health.rate('failed'):.1%} · unreadable {health.rate('unreadable'):.1%}"
        )
        for warning in health.warnings:
            typer.echo(f"warning: {warning}", err=True)


def _finish(result: RunResult, max_error_rate: float, health_limits: dict[str, float | None] | None = None) -> None:
    """Print the summary; exit 1 when too many requests failed or the run's health is beyond
    ``health_limits`` (kind -> max share, see :mod:`trustgauge.report.health`)."""
    from trustgauge.report.health import limit_errors

    _print_summary(result)
    if result.failed and result.error_rate > max_error_rate:
        _fail(
            f"{result.failed} of {result.total} requests failed ({result.error_rate:.1%} > --max-error-rate "
            f"{max_error_rate:.1%}); see 'error' in samples.jsonl. Run the same command again to retry only those.",
            EXIT_FAILED_REQUESTS,
        )
    errors = limit_errors(result.run.health, health_limits) if result.run.health and health_limits else []
    for message in errors[:-1]:
        typer.echo(f"error: {message}", err=True)
    if errors:
        _fail(errors[-1], EXIT_FAILED_REQUESTS)


_JUDGE_HELP = (
    "Judge per kind, KIND=NAME[,OPTION=VALUE...], e.g. refusal=longformer or "
    "toxicity=perspective,qps=0.5; repeatable. See 'trustgauge judges'."
)
_JUDGE_MODEL_HELP = (
    "Model spec of the llm judges (e.g. openai:gpt-4o): used where TrustLLM used GPT-4 "
    "(correctness, adversarial factuality, sycophancy preference; the last two are not scored "
    "without it) and for kinds given --judge KIND=llm."
)


@app.command()
def run(
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model spec, e.g. openai:gpt-4o-mini, "
        "openai-compatible:NAME@http://127.0.0.1:8000/v1, anthropic:NAME, hf:REPO, gguf:PATH or gguf:smollm2.")] = None,
    model_config: Annotated[Path | None, typer.Option("--model-config", help="YAML/TOML/JSON model config "
        "(generation parameters, headers, system prompt, api_key_env).")] = None,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="trustllm (every sub-task, full data), quick "
        "(every sub-task on a 541-prompt packaged sample, offline), a dimension, or quick-DIMENSION; "
        "see 'trustgauge suites'.")] = None,
    tasks: Annotated[list[str] | None, typer.Option("--tasks", "-t", help="Task ids or dimensions, comma-separated "
        "(see 'trustgauge tasks'); narrows --suite; default: all.")] = None,
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
    max_empty_rate: Annotated[float, typer.Option("--max-empty-rate", min=0.0, max=1.0, help="Exit 1 when more "
        "than this share of responses are empty (the run health; 1 to never fail on it).")] = 0.5,
    max_truncated_rate: Annotated[float, typer.Option("--max-truncated-rate", min=0.0, max=1.0, help="Exit 1 "
        "when more than this share of responses were cut at the token limit (finish_reason: length).")] = 1.0,
    judge: Annotated[list[str] | None, typer.Option("--judge", help=_JUDGE_HELP)] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help=_JUDGE_MODEL_HELP)] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A model in a named role for tasks that "
        "talk back, NAME=SPEC (attacker, judge, paraphraser, reference), e.g. attacker=openai:gpt-4o-mini; "
        "repeatable. Keys come from the backend's environment variable, never the command line.")] = None,
    trustllm_reference: Annotated[bool, typer.Option("--trustllm-reference", help="Read answers and compute "
        "metrics exactly as TrustLLM's code does, bugs included, where trustgauge deviates (see "
        "docs/trustllm.md), to compare with published numbers.")] = False,
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

      trustgauge run -m openai:gpt-4o-mini --suite quick

      trustgauge run -m openai:gpt-4o-mini --suite trustllm --judge-model openai:gpt-4o

      trustgauge run -m openai:gpt-4o-mini -t safety,privacy -n 100

      trustgauge run -m openai-compatible:llama3@http://127.0.0.1:8000/v1 -t safety.exaggerated
    """
    from pydantic import ValidationError

    from trustgauge.config import GenerationOverrides, load_model_config
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.evaluate import RunConfig

    judges, judge_options = _parse_judges(judge)
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
            suite=suite,
            limit=limit,
            concurrency=concurrency,
            out=out,
            use_cache=not no_cache,
            data_dir=data_dir,
            max_error_rate=max_error_rate,
            judges=judges,
            judge_options=judge_options,
            judge_model=judge_model,
            roles=_parse_roles(role),
            reference=trustllm_reference,
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
    _finish(result, max_error_rate, {"empty": max_empty_rate, "truncated": max_truncated_rate})


def _parse_roles(values: list[str] | None) -> dict[str, Any]:
    """``--role NAME=SPEC`` values -> role -> model config (names and specs are checked by
    the run's preflight, before anything is sent)."""
    from trustgauge.config import ModelConfig

    roles: dict[str, Any] = {}
    for item in values or []:
        name, sep, spec = item.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            # the value is not echoed: a spec's URL may carry credentials
            raise UsageError(f"--role {name or '?'}: expected NAME=SPEC, e.g. attacker=openai:gpt-4o-mini")
        if name in roles:
            raise UsageError(f"--role {name} given twice")
        roles[name] = ModelConfig(model=spec)  # registers the spec's URL credentials at once
    return roles


DEMO_MAX_TOKENS = 48
#: samples per task in the demo (whole groups: AdvInstruction's 12 variants stay together)
DEMO_LIMIT = 2


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Cap output tokens per answer.")] = DEMO_MAX_TOKENS,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Generate every answer again.")] = False,
    judge: Annotated[list[str] | None, typer.Option("--judge", help=_JUDGE_HELP)] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help=_JUDGE_MODEL_HELP)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """A real evaluation with no API key: SmolLM2-135M runs on this machine (llama.cpp) over
    a slice of the quick suite (2 prompts per sub-task, ~75 real TrustLLM prompts shipped with
    trustgauge), then writes a report. Same as: trustgauge run -m gguf:smollm2 --suite quick
    -n 2 --max-tokens 48."""
    from trustgauge.config import GenerationOverrides, ModelConfig
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.evaluate import RunConfig
    from trustgauge.models.gguf import smollm2_path

    judges, judge_options = _parse_judges(judge)
    try:
        smollm2_path()
        mc = ModelConfig(model="gguf:smollm2", generation=GenerationOverrides(max_tokens=max_tokens), timeout=300)
        config = RunConfig(
            model=mc,
            suite="quick",
            limit=DEMO_LIMIT,
            out=out or Path("runs") / f"demo-{_stamp()}",
            use_cache=not no_cache,
            retry=RetryPolicy(max_retries=2, timeout=mc.timeout),
            judges=judges,
            judge_options=judge_options,
            judge_model=judge_model,
        )
    except UsageError as exc:
        _fail(str(exc))
    typer.echo(
        f"trustgauge demo: SmolLM2-135M-Instruct (GGUF, llama.cpp on CPU), {DEMO_LIMIT} prompts per "
        "sub-task of the packaged quick sample",
        err=True,
    )
    result = _execute(config, quiet=quiet)
    _finish(result, 0.0)


def _stamp() -> str:
    from datetime import datetime

    return datetime.now().strftime("%Y%m%d-%H%M%S")


@app.command("tasks")
def tasks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {id, dimension, title, "
        "metric, metrics, directions, n_samples, judges, data}.")] = False,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="Count the samples of this suite "
        "(e.g. quick) instead of the full release.")] = None,
) -> None:
    """List every task: its dimension, metrics, judges, data and sample count.

    Sample counts are those of the full, pinned TrustLLM release (checked against the data by
    the test suite); --suite quick counts the packaged quick sample instead.
    """
    from trustgauge.data import get_source, load_records, packaged_path
    from trustgauge.tasks.registry import TASKS

    counted: dict[str, int] = {}
    members: set[str] = set(TASKS)
    try:
        if suite is not None:
            from trustgauge.suites import get_suite
            from trustgauge.tasks.registry import resolve_tasks

            chosen = get_suite(suite)
            members = {t.id for t in resolve_tasks(chosen.tasks)}
            if chosen.packaged is not None:
                root = packaged_path(chosen.packaged)
                for task_id in members:
                    task = TASKS[task_id]()
                    counted[task_id] = len(task.samples(load_records(root, task.data.path)[0]))
    except UsageError as exc:
        _fail(str(exc))
    rows: list[dict[str, Any]] = []
    for task_id, cls in TASKS.items():
        if task_id not in members:
            continue
        source = get_source(cls.data.dataset)
        rows.append(
            {
                "id": task_id,
                "dimension": cls.dimension,
                "title": cls.title,
                "metric": cls.metrics[0][0],
                "metrics": [m for m, _ in cls.metrics],
                "directions": [d for _, d in cls.metrics],
                "n_samples": counted.get(task_id, cls.size),
                "judges": [str(slot) for slot in cls.judges],
                "data": f"{cls.data.dataset}:{cls.data.path}",
                "records_in_file": source.files.get(cls.data.path),
                "trustllm_reference_mode": cls.has_reference,
                "extra": cls.extra,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge tasks" + (f" (suite {suite})" if suite else ""))
    for col in ("id", "dimension", "metrics", "samples", "judges", "data"):
        table.add_column(col, overflow="fold")
    for r in rows:
        metrics = ", ".join(f"{m} {'↑' if d == 'higher' else '↓'}" for m, d in zip(r["metrics"], r["directions"]))
        table.add_row(r["id"], r["dimension"], metrics, str(r["n_samples"]), ", ".join(r["judges"]) or "-", r["data"])
    Console().print(table)
    total = sum(r["n_samples"] for r in rows)
    Console().print(f"{len(rows)} tasks, {total} samples")


@app.command("suites")
def suites_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {name, description, tasks, data}.")] = False,
) -> None:
    """List the suites 'run --suite' accepts: which tasks, on which data.

    Examples:

      trustgauge run -m gguf:smollm2 --suite quick-safety

      trustgauge run -m openai:gpt-4o-mini --suite trustllm
    """
    from trustgauge.suites import suites
    from trustgauge.tasks.registry import resolve_tasks

    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "description": s.description,
            "tasks": [t.id for t in resolve_tasks(s.tasks)],
            "data": "packaged sample" if s.packaged else "full release",
            "offline": s.offline,
        }
        for s in suites().values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge suites")
    for col in ("suite", "tasks", "data", "what"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], str(len(r["tasks"])), r["data"], r["description"])
    Console().print(table)


@app.command("judges")
def judges_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {kind, name, default, offline, "
        "needs, summary, needs_reference}.")] = False,
) -> None:
    """List every judge: its kind, whether it is the kind's default, whether it runs offline,
    what it needs (an extra, an environment variable, --judge-model) and what it does.

    Pick one with 'trustgauge run --judge KIND=NAME' or 'trustgauge judge KIND=NAME'."""
    from trustgauge.judges.registry import describe_judges

    rows = describe_judges()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trustgauge judges", caption="* = the kind's default", caption_justify="left")
    for col in ("kind", "name", "default", "offline"):
        table.add_column(col, no_wrap=True)
    table.add_column("needs", overflow="fold", max_width=26)
    table.add_column("summary", overflow="fold", ratio=1)
    previous = ""
    for r in rows:
        table.add_row(
            r.kind if r.kind != previous else "", r.name, "*" if r.default else "",
            "yes" if r.offline else "no", r.needs or "-", r.summary,
        )
        previous = r.kind
    Console().print(table)


#: fields a judged row gains (an input field of the same name is replaced)
_JUDGED_FIELDS = ("label", "score", "judge", "judge_version", "judge_id", "judge_raw")


def _read_judge_input(
    source: str, needs_reference: bool, judge_desc: str
) -> tuple[list[dict[str, Any]], list[JudgeItem]]:
    """The rows of a JSONL file (``-``: stdin) and their judge items; one-line DataError on
    the first bad line."""
    from trustgauge.errors import DataError
    from trustgauge.judges.base import JudgeItem

    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror or exc}") from None
    rows: list[dict[str, Any]] = []
    items: list[JudgeItem] = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{name}:{lineno}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            col = getattr(exc, "colno", None)
            raise DataError(f"{name}:{lineno}: malformed JSON ({msg}{f' at column {col}' if col else ''})") from None
        if not isinstance(row, dict):
            raise DataError(f"{name}:{lineno}: expected a JSON object, got {type(row).__name__}")
        response = row.get("response")
        if "response" not in row:
            raise DataError(f"{name}:{lineno}: missing field 'response'")
        if not isinstance(response, str):
            raise DataError(f"{name}:{lineno}: field 'response' must be a string, got {type(response).__name__}")
        prompt = row.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise DataError(f"{name}:{lineno}: field 'prompt' must be a string, got {type(prompt).__name__}")
        reference = row.get("reference")
        if needs_reference and reference is None:
            raise DataError(
                f"{name}:{lineno}: the {judge_desc} judge compares with a gold answer: field 'reference' is missing"
            )
        rows.append(row)
        items.append(JudgeItem(prompt=prompt or "", response=response, reference=reference))
    return rows, items


def _write_jsonl(target: str, rows: list[dict[str, Any]]) -> None:
    """Write all rows, or nothing: a temporary file next to ``target``, renamed at the end."""
    from trustgauge.errors import DataError

    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    if target == "-":
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        return
    from trustgauge.net.atomic import atomic_write_text

    try:
        atomic_write_text(Path(target), "".join(lines))
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from None


@app.command("judge")
def judge_cmd(
    judge: Annotated[str, typer.Argument(metavar="JUDGE", help="The judge: a kind (its default judge, or "
        "llm with --judge-model) or KIND=NAME, e.g. refusal, refusal=rules, toxicity=perspective, "
        "correctness=squad, similarity. Options may follow: refusal=longformer,model=DIR.")],
    input_path: Annotated[str, typer.Option("--input", "-i", metavar="FILE", help="JSONL, one object per line: "
        "response (required), prompt, reference (the gold answer, needed by correctness and similarity "
        "judges); other fields are passed through. '-' reads stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="JSONL: each input row plus "
        "label, score, judge, judge_version, judge_id, judge_raw, in input order. '-' writes stdout.")],
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="Model spec of an llm judge, "
        "e.g. openai:gpt-4o or gguf:smollm2 (a bare KIND then means KIND=llm).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", metavar="OPTION=VALUE", help="A judge option "
        "(repeatable), e.g. --option qps=0.5 --option model=/path/to/dir.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Items per judge call.")] = 256,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Judge every row again (stored judgements are "
        "not read; the new ones replace them).")] = False,
    max_error_rate: Annotated[float, typer.Option("--max-error-rate", min=0.0, max=1.0, help="Exit 1 when more "
        "than this share of rows could not be judged (label error).")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Judge a JSONL file of responses with one judge, outside any run.

    Judgements are kept in the store (like a run's), so judging the same rows again costs
    nothing; rows the judge could not judge (label error) are judged again next time.

    Examples:

      trustgauge judge refusal=rules -i responses.jsonl -o judged.jsonl

      trustgauge judge refusal --judge-model openai:gpt-4o -i responses.jsonl -o judged.jsonl

      cat answers.jsonl | trustgauge judge correctness=squad -i - -o - > judged.jsonl
    """
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        _judge_file(judge, input_path, output, judge_model, option, batch_size, no_cache, max_error_rate, quiet)
    except KeyboardInterrupt:
        typer.echo(
            f"\ninterrupted: nothing was written to {output}; the judgements made so far are saved, "
            "so the same command again judges only the rest.",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _judge_file(
    spec: str, input_path: str, output: str, judge_model: str | None, option: list[str] | None,
    batch_size: int, no_cache: bool, max_error_rate: float, quiet: bool,
) -> None:
    from collections import Counter

    from trustgauge.errors import ModelError
    from trustgauge.evaluate import ERROR_LABEL, JudgeFailedError
    from trustgauge.judges.registry import JUDGES, check_judge_choice

    head, *opt_items = [x.strip() for x in spec.split(",")]
    kind, _, impl = (x.strip() for x in head.partition("="))
    options: dict[str, Any] = dict(_judge_option(x, "judge option") for x in opt_items if x)
    for item in option or []:
        key, value = _judge_option(item, "--option")
        options[key] = value
    judge_model = judge_model.strip() if judge_model else None
    try:
        impl = check_judge_choice(kind, impl or None, judge_model=judge_model, options=options)
        desc = f"{kind}={impl}"
        rows, items = _read_judge_input(input_path, JUDGES[kind][impl].needs_reference, desc)
    except UsageError as exc:
        _fail(str(exc))
    if output != "-" and not Path(output).expanduser().resolve().parent.is_dir():
        _fail(f"cannot write {output}: its folder does not exist")

    from trustgauge.engine.progress import make_progress

    progress = make_progress(enabled=not quiet)
    try:
        judge, verdicts, stats = _run_async(
            _judge_rows(kind, impl, judge_model, options, items, batch_size, not no_cache, progress)
        )
    except JudgeFailedError as exc:
        _fail(f"{exc} (the judgements made so far are saved; nothing was written to {output})", EXIT_FAILED_REQUESTS)
    except ModelError as exc:
        _fail(f"the {desc} judge failed: {exc} (nothing was written to {output})", EXIT_FAILED_REQUESTS)
    except UsageError as exc:
        _fail(str(exc))
    except ValueError as exc:  # an item the judge rejects (e.g. a malformed reference)
        _fail(f"the {desc} judge rejected an item of {input_path}: {exc}")
    finally:
        progress.close()

    out_rows = [
        {**row, "label": v.label, "score": v.score, "judge": judge.name, "judge_version": judge.version,
         "judge_id": judge.id, "judge_raw": v.raw}
        for row, v in zip(rows, verdicts)
    ]
    try:
        _write_jsonl(output, out_rows)
    except UsageError as exc:
        _fail(str(exc))
    counts = Counter(v.label for v in verdicts)
    colliding = sorted({f for r in rows for f in _JUDGED_FIELDS if f in r})
    if colliding and not quiet:
        typer.echo(f"note: the input field(s) {', '.join(colliding)} were replaced by the judge's", err=True)
    if not quiet:
        labels = ", ".join(f"{label} {n}" for label, n in counts.most_common()) or "no rows"
        typer.echo(
            f"{len(rows)} rows judged by {desc} ({judge.id}): {labels} · {stats.cached} cached, "
            f"{stats.judged} judged -> {'<stdout>' if output == '-' else output}",
            err=True,
        )
    errors = counts.get(ERROR_LABEL, 0)
    if errors and errors / len(rows) > max_error_rate:
        _fail(
            f"{errors} of {len(rows)} rows could not be judged (label {ERROR_LABEL!r}, reason in judge_raw; "
            f"> --max-error-rate {max_error_rate:.1%}); run the same command again to judge only those",
            EXIT_FAILED_REQUESTS,
        )


async def _judge_rows(
    kind: str, impl: str, judge_model: str | None, options: dict[str, Any], items: list[JudgeItem],
    batch_size: int, use_cache: bool, progress: Progress,
) -> tuple[Judge, list[Judgement], JudgeStats]:
    from trustgauge import _paths
    from trustgauge.engine.judging import judge_items
    from trustgauge.engine.store import Store
    from trustgauge.evaluate import check_judges, close_judges
    from trustgauge.judges.registry import create_judge

    judge = create_judge(kind, impl, judge_model=judge_model, **options)
    try:
        await check_judges([judge])
        with Store(_paths.store_path()) as store:
            verdicts, stats = await judge_items(
                judge, items, store, use_cache=use_cache, progress=progress, batch_size=batch_size,
                description=f"judging ({kind}={impl}: {judge.id})",
            )
    finally:
        await close_judges([judge])
    return judge, verdicts, stats


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[str, typer.Argument(help="Dataset id, e.g. trustllm (see 'trustgauge data list').")] = "trustllm",
    origin: Annotated[str, typer.Option("--from", metavar="[github|hf]", help="github: the pinned release "
        "archive, SHA-256 verified. hf: the gated Hugging Face copy (accept its terms on the dataset page; "
        "token from HF_TOKEN or 'hf auth login'), every file's record count verified.")] = "github",
    revision: Annotated[str | None, typer.Option("--revision", help="With --from hf: the hub branch, tag or "
        "commit (default main).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Download a dataset into the cache, verify it and print the folder it is in.

    The copy is verified before anything is cached (the archive's SHA-256, every file's record
    count); runs then use it without asking the network. A run records each file's SHA-256.

    Examples:

      trustgauge data fetch trustllm

      trustgauge data fetch trustllm --from hf --revision main
    """
    from trustgauge.data import fetch_dataset, read_copy_info

    if origin not in ("github", "hf"):
        _fail(f"bad --from {origin!r}: expected github (the pinned release) or hf (the Hugging Face copy)")
    try:
        path = fetch_dataset(dataset, force=force, progress=not quiet, origin=origin, revision=revision)
    except UsageError as exc:
        _fail(str(exc))
    if not quiet:
        info = read_copy_info(path) or {}
        files = info.get("files")
        counts = f"{len(files)} files, {sum(f.get('records', 0) for f in files.values()):,} records" if (
            isinstance(files, dict) and all(isinstance(f, dict) for f in files.values())) else "complete"
        if info.get("origin") == "hf":
            where = f"{info.get('repo')}@{str(info.get('commit', ''))[:12]}"
        else:
            where = f"sha256 {str(info.get('sha256', ''))[:12]}"
        typer.echo(f"{dataset}: {counts}, verified ({info.get('origin', origin)}, {where})", err=True)
    typer.echo(str(path))


def _dataset_rows() -> list[dict[str, Any]]:
    """What 'trustgauge data list' shows, for every registered dataset."""
    from trustgauge.data import (
        DATA_DIR_ENV,
        cached_copies,
        get_source,
        resolve_data_dir,
        source_ids,
    )
    from trustgauge.errors import DataError

    rows: list[dict[str, Any]] = []
    for sid in source_ids():
        source = get_source(sid)
        cached = []
        for copy in cached_copies(sid):
            entry: dict[str, Any] = {"origin": copy.origin, "path": str(copy.path),
                                     "fetched_at": copy.info.get("fetched_at")}
            if copy.origin == "hf":
                entry.update(repo=copy.info.get("repo"), revision=copy.info.get("revision"),
                             commit=copy.info.get("commit"))
            else:
                entry["sha256"] = copy.info.get("sha256", source.listing()["sha256"])
            cached.append(entry)
        env_dir = os.environ.get(DATA_DIR_ENV, "").strip() or None
        in_use: str | None = None
        problem = None
        if env_dir or cached:  # else a run downloads the pinned release first
            try:
                in_use = str(resolve_data_dir(sid, None, auto_fetch=False))
            except DataError as exc:
                problem = str(exc)
        where = source.listing()  # url, url_override, sha256, size_bytes, hf_repo, hf_url
        rows.append({
            "id": source.id, "name": source.display_name, "description": source.description,
            "url": where["url"], "url_override": where["url_override"],
            "sha256": where["sha256"], "size_bytes": where["size_bytes"],
            "hf_repo": where["hf_repo"], "hf_url": where["hf_url"], "homepage": source.homepage,
            "licence_short": source.licence_short, "licence": source.licence,
            "total_records": source.total_records, "n_files": len(source.files), "files": dict(source.files),
            "cached": cached, "data_dir_env": env_dir, "in_use": in_use, "problem": problem,
        })
    return rows


@data_app.command("list")
def data_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list: id, url, sha256, hf_repo, licence, "
        "total_records, files (per-file counts), cached copies, in_use (the folder a run would read).")] = False,
    files: Annotated[bool, typer.Option("--files", help="Also list every file and its record count.")] = False,
) -> None:
    """List the known datasets: pinned source, Hugging Face alternative, licence, archive SHA-256,
    record counts, and whether and where they are cached.

    Examples:

      trustgauge data list

      trustgauge data list --files

      trustgauge data list --json
    """
    rows = _dataset_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for r in rows:
        table = Table(title=f"{r['id']}: {r['description']}", title_justify="left", show_header=False)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        table.add_row("source (pinned)", r["url"] or "-")
        if r["url_override"]:
            table.add_row("downloaded from", f"{r['url_override']} (overridden by the environment)")
        if r["sha256"]:
            table.add_row("archive sha256", f"{r['sha256']} ({r['size_bytes']:,} bytes)")
        if r["hf_repo"]:
            table.add_row("alternative", f"{r['hf_url']} (gated; --from hf)")
        table.add_row("licence", r["licence_short"] or r["licence"])
        table.add_row("records", f"{r['total_records']:,} in {r['n_files']} files")
        for copy in r["cached"]:
            what = (f"hf {copy['repo']}@{str(copy['commit'] or '')[:12]}" if copy["origin"] == "hf"
                    else f"{copy['origin']}, sha256 {str(copy['sha256'])[:12]}" if copy["sha256"]
                    else copy["origin"])
            when = f", {copy['fetched_at']}" if copy["fetched_at"] else ""
            table.add_row("cached", f"{copy['path']} ({what}{when})")
        if not r["cached"]:
            table.add_row("cached", f"no: trustgauge data fetch {r['id']}")
        if r["data_dir_env"]:
            table.add_row("TRUSTGAUGE_DATA_DIR", r["data_dir_env"])
        table.add_row("a run reads", r["in_use"] or r["problem"] or "the pinned release, downloaded on first use")
        console.print(table)
    if files:
        for r in rows:
            ftable = Table(title=f"{r['id']}: files", title_justify="left")
            ftable.add_column("file", overflow="fold")
            ftable.add_column("records", justify="right")
            for relpath, count in r["files"].items():
                ftable.add_row(relpath, str(count))
            console.print(ftable)


def _register_report_commands() -> None:
    """report, compare, leaderboard, gate, export (their code: trustgauge/report/cli_report.py
    and trustgauge/report/commands.py)."""
    from trustgauge.report.cli_report import report_command
    from trustgauge.report.commands import register

    register(app)
    app.command("report")(report_command)


_register_report_commands()


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
