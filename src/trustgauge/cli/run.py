"""``trustgauge run`` and ``trustgauge demo``: configure a run, execute it with progress, print the summary."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._common import (
    _JUDGE_HELP,
    _JUDGE_MODEL_HELP,
    _parse_judges,
    _raise_keyboard_interrupt,
    _run_async,
    _safe_argv,
    _split,
)
from trustgauge.cli._errors import EXIT_FAILED_REQUESTS, fail_on, interrupted
from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    from trustgauge.pipeline.run import RunConfig, RunResult


def _execute(config: RunConfig, *, quiet: bool, executor: Any = None) -> RunResult:
    """Run with progress; map errors and interrupts to exit codes. ``executor``: an
    ``ExecutorFactory`` (default: this process)."""
    from trustgauge.engine.judging import JudgeFailedError
    from trustgauge.engine.progress import make_progress
    from trustgauge.errors import ModelError
    from trustgauge.pipeline.run import run_evaluation
    from trustgauge.report.writer import RENDERERS

    progress = make_progress(enabled=not quiet)
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        return _run_async(run_evaluation(
            config, renderers=RENDERERS, progress=progress, command=_safe_argv(),
            executor=executor, shards=getattr(executor, "shards", 1),
        ))
    except (JudgeFailedError, ModelError, UsageError) as exc:
        progress.close()
        if isinstance(exc, JudgeFailedError):
            fail_on(exc, " (every response received is saved; run the same command again to judge the rest)")
        if isinstance(exc, ModelError):
            fail_on(exc, " (every response received is saved; run the same command again to resume)")
        fail_on(exc)
    except KeyboardInterrupt:
        progress.close()
        if quiet:  # what --batch left running at the provider is said even without progress output
            for note in progress.notes:
                if note.startswith("interrupted: batch"):
                    typer.echo(note, err=True)
        interrupted("\ninterrupted: every response received so far is saved; run the same command again to resume.")
    finally:
        signal.signal(signal.SIGTERM, previous)



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
    from trustgauge.results.dimensions import dimension_summary_lines

    for line in dimension_summary_lines(result.scores.tasks):
        console.print(line, markup=False, soft_wrap=True)
    req = result.run.requests
    unique = req.get("unique", req["total"])
    # with conversational tasks `total` counts a conversation once and the rest count the target's
    # calls: "34 (0 cached, 38 sent)" did not add up on screen, so say which is which
    counts = (
        f"requests: {req['total']} ({req['cached']} cached, {req['sent']} sent, {req['retries']} retries, {req['failed']} failed)"
        if unique == req["total"] else
        f"requests: {req['total']}, a conversation counted once ({req['failed']} failed) · target calls: {unique} "
        f"({req['cached']} cached, {req['sent']} sent, {req['retries']} retries)"
    )
    console.print(
        f"{counts} · tokens in/out {result.run.usage['input_tokens']}/{result.run.usage['output_tokens']}"
        f" · {result.run.wall_time_s:.1f}s", markup=False, soft_wrap=True,
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


#: how servers say a request is longer than the context (llama.cpp: "exceeds the available context
#: size"; OpenAI and vLLM: "maximum context length", "context_length_exceeded")
_CONTEXT_OVERFLOW = re.compile(r"exceeds the available context size|maximum context length|context_length_exceeded",
                               re.IGNORECASE)


def _finish(result: RunResult, max_error_rate: float, health_limits: dict[str, float | None] | None = None) -> None:
    """Print the summary; exit 1 when too many requests failed or the run's health is beyond
    ``health_limits`` (kind -> max share, see :mod:`trustgauge.results.health`)."""
    from trustgauge.results.health import limit_errors

    _print_summary(result)
    if result.failed and result.error_rate > max_error_rate:
        too_long = sum(1 for s in result.samples if s.error and _CONTEXT_OVERFLOW.search(s.error))
        advice = (
            f" {too_long} of them did not fit the model's context: sending them again cannot help; give the "
            "model a longer context (for a gguf: model, its option n_ctx, default 2048, in a file given with "
            "--model-config FILE, or --role NAME=FILE for a role: options: {n_ctx: 8192}) or ask for fewer tokens."
            if too_long else " Run the same command again to retry only those."
        )
        _fail(
            f"{result.failed} of {result.total} requests failed ({result.error_rate:.1%} > --max-error-rate "
            f"{max_error_rate:.1%}); see 'error' in samples.jsonl.{advice}",
            EXIT_FAILED_REQUESTS,
        )
    errors = limit_errors(result.run.health, health_limits) if result.run.health and health_limits else []
    for message in errors[:-1]:
        typer.echo(f"error: {message}", err=True)
    if errors:
        _fail(errors[-1], EXIT_FAILED_REQUESTS)



@app.command()
def run(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="Model spec, e.g. openai:gpt-4o-mini, "
        "openai-compatible:NAME@http://127.0.0.1:8000/v1, anthropic:NAME, hf:REPO, gguf:PATH or gguf:smollm2. "
        "Repeatable: several models run side by side on the same tasks (API models at once, hf:/gguf: models "
        "one after another), each into -o OUT/NAME, with OUT/leaderboard.md and .html.")] = None,
    model_config: Annotated[Path | None, typer.Option("--model-config", help="YAML/TOML/JSON model config "
        "(generation parameters, headers, system prompt, api_key_env) of the one --model.")] = None,
    models_file: Annotated[Path | None, typer.Option("--models-file", help="YAML/TOML/JSON list of models to "
        "run side by side, like several --model: each entry a spec or a model config as --model-config reads "
        "it, with an optional name (its run folder, OUT/NAME).")] = None,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="trustllm (every sub-task, full data), quick "
        "(every sub-task on a 541-prompt packaged sample, offline), a dimension, or quick-DIMENSION; "
        "see 'trustgauge suites'.")] = None,
    tasks: Annotated[list[str] | None, typer.Option("--tasks", "-t", help="Task ids or dimensions, comma-separated "
        "(see 'trustgauge tasks'), or Liu categories and sub-categories such as reliability or "
        "safety/privacy-violation (see 'trustgauge taxonomy'); narrows --suite; default: all.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N samples per task "
        "(whole groups for paired tasks, seeded).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1, help="Requests in flight; "
        "default adaptive (grows while the server keeps up, backs off on 429).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (default runs/MODEL-TIMESTAMP); "
        "with several models, the folder of their run directories (default runs/models-TIMESTAMP).")] = None,
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
    verify_judges: Annotated[bool, typer.Option("--verify-judges", help="Before the first request, verify the "
        "judges this run uses on the labelled sets trustgauge ships ('trustgauge judges verify'): exit 1, "
        "sending nothing, when one agrees less than its published figure minus the tolerance.")] = False,
    judge_baseline: Annotated[Path | None, typer.Option("--judge-baseline", metavar="FILE", help="With "
        "--verify-judges (implied): compare with the figures recorded in FILE by 'trustgauge judges verify "
        "--save-baseline FILE' instead of the published ones.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A model in a named role for tasks that "
        "talk back, NAME=SPEC (attacker, judge, paraphraser, reference, translator), e.g. "
        "attacker=openai:gpt-4o-mini, or NAME=FILE, a model config like --model-config's (options such as a "
        "gguf: model's n_ctx); repeatable. Keys come from the backend's environment variable, never the command line.")] = None,
    task_data: Annotated[list[str] | None, typer.Option("--task-data", help="Read a task's records from "
        "your own file, TASK=FILE (a JSON list or JSON Lines in the task's layout), e.g. "
        "fan2023.membership_inference=wikimia.jsonl with one {\"text\", \"label\"} per line "
        "(1 member, 0 non-member); repeatable.")] = None,
    task_param: Annotated[list[str] | None, typer.Option("--task-param", help="Set a parameter of a selected "
        "task, TASK:NAME=VALUE, e.g. fan2023.jailbreak:attacks=aim+base64; repeatable. 'trustgauge tasks "
        "--params TASK' lists a task's parameters; run.json records those not at their default.")] = None,
    trustllm_reference: Annotated[bool, typer.Option("--trustllm-reference", help="Read answers and compute "
        "metrics exactly as TrustLLM's code does, bugs included, where trustgauge deviates (see "
        "docs/trustllm.md), to compare with published numbers.")] = False,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Override every task's temperature.")] = None,
    watermark: Annotated[str | None, typer.Option(
        "--watermark", metavar="SCHEME[:NAME=VALUE,...]",
        help="Watermark every answer of the model (hf: models only), e.g. kgw or "
        "kgw:gamma=0.25,delta=2 or synthid; the key comes from TRUSTGAUGE_WATERMARK_KEY "
        "(default: trustgauge's public key). Compare with an unmarked run to see what the mark costs. "
        "Schemes and parameters: trustgauge watermark schemes.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Cap output tokens (default: "
        "the task's, 512 as TrustLLM).")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Per-request timeout in seconds.")] = None,
    max_retries: Annotated[int, typer.Option("--max-retries", min=0, help="Retries per request on 429/5xx/timeouts.")] = 8,
    retry_delay: Annotated[float, typer.Option("--retry-delay", min=0.0, help="Base backoff delay in seconds.")] = 1.0,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Batch size for local "
        "batching backends (hf:); default auto.")] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Send the single-turn requests not in the store "
        "through the provider's batch API (openai:, anthropic:, or an openai-compatible: server with "
        "/v1/batches): half the price, up to 24 hours. The batch ids are stored at once: Ctrl-C or a crash "
        "leaves the batch running at the provider, and the same command resumes polling it (never pays "
        "twice). Conversational tasks run normally in the same run. See docs/batch.md.")] = False,
    batch_poll: Annotated[float, typer.Option("--batch-poll", min=0.01, help="With --batch: seconds "
        "before the first poll of a batch; the wait grows 1.5x per poll, up to 10 minutes.")] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling with --limit.")] = 0,
    executor: Annotated[str, typer.Option("--executor", metavar="[local|ray]", help="Where requests are "
        "answered: local (this process) or ray (workers on a Ray cluster, each with its share of the "
        "concurrency; responses stream back to this machine's store, judging stays here; "
        "docs/scale-out.md). Install trustgauge[ray] on every node.")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", metavar="HOST:PORT", help="The Ray "
        "cluster's head (default: RAY_ADDRESS, else Ray is started on this machine).")] = None,
    ray_workers: Annotated[int | None, typer.Option("--ray-workers", min=1, help="Workers for the model "
        "(default: one per node of the cluster).")] = None,
    ray_cpus: Annotated[float | None, typer.Option("--ray-cpus", min=0.0, help="CPUs per worker (default: 1 "
        "for hf:/gguf:/vllm: models, whose weights run on the worker; 0 for API models).")] = None,
    ray_gpus: Annotated[float, typer.Option("--ray-gpus", min=0.0, help="GPUs per worker (local models "
        "on GPU nodes).")] = 0.0,
    ray_resource: Annotated[list[str] | None, typer.Option("--ray-resource", metavar="NAME=AMOUNT", help="Another "
        "Ray resource each worker needs (a node label such as accelerator_type:A100=0.01); repeatable.")] = None,
    ray_start_timeout: Annotated[float, typer.Option("--ray-start-timeout", min=1.0, help="Seconds to wait "
        "for the workers to start and load their model.")] = 300.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Evaluate a model on tasks and write a run directory (run.json, samples.jsonl, scores.json).

    Re-running the same command after a crash or Ctrl-C resumes: stored responses are reused
    and only missing ones are requested.

    With several models (-m A -m B, or --models-file), each runs as alone into OUT/NAME, and
    OUT/leaderboard.md and .html rank them. A model that fails (no key, server down) is reported
    in one line and listed as failed; the others go on; the exit code is then 1.

    Examples:

      trustgauge run -m openai:gpt-4o-mini --suite quick

      trustgauge run -m openai:gpt-4o-mini --suite trustllm --judge-model openai:gpt-4o

      trustgauge run -m openai:gpt-4o-mini -t safety,privacy -n 100

      trustgauge run -m openai-compatible:llama3@http://127.0.0.1:8000/v1 -t safety.exaggerated

      trustgauge run -m openai-compatible:llama3@http://10.0.0.5:8000/v1 --suite trustllm --executor ray --ray-address 10.0.0.1:6379

      trustgauge run -m openai:gpt-4o-mini -m anthropic:claude-haiku-4-5 --suite quick -o runs/compare

      trustgauge run --models-file models.yaml --suite quick
    """
    from pydantic import ValidationError

    from trustgauge.config import GenerationOverrides, ModelConfig, load_model_config
    from trustgauge.engine.runner import RetryPolicy
    from trustgauge.pipeline.run import RunConfig

    judges, judge_options = _parse_judges(judge)
    specs = model or []
    many = models_file is not None or len(specs) > 1
    if many and model_config is not None:
        _fail("--model-config configures the one --model; for several models give each its config in "
              "--models-file FILE (a list of specs or model configs)")
    if models_file is not None and specs:
        _fail("--models-file lists the models: add the --model ones to the file")

    def override(mc: ModelConfig) -> ModelConfig:
        """The command line's generation options over a model's config."""
        gen = mc.generation.model_dump(exclude_none=True)
        if temperature is not None:
            gen["temperature"] = temperature
        if max_tokens is not None:
            gen["max_tokens"] = max_tokens
        if watermark is not None:
            gen["watermark"] = watermark.strip()
        updates: dict[str, Any] = {"generation": GenerationOverrides(**gen)}
        if timeout is not None:
            updates["timeout"] = timeout
        if batch_size is not None:
            updates["options"] = {**mc.options, "batch_size": batch_size}
        return mc.model_copy(update=updates)

    def configure(mc: ModelConfig, run_out: Path | None) -> RunConfig:
        return RunConfig(
            model=mc,
            tasks=_split(tasks) or ["all"],
            suite=suite,
            limit=limit,
            concurrency=concurrency,
            out=run_out,
            use_cache=not no_cache,
            data_dir=data_dir,
            max_error_rate=max_error_rate,
            judges=judges,
            judge_options=judge_options,
            judge_model=judge_model,
            roles=_parse_roles(role),
            task_data=_parse_task_data(task_data),
            task_params=_parse_task_params(task_param),
            reference=trustllm_reference,
            seed=seed,
            retry=RetryPolicy(max_retries=max_retries, base_delay=retry_delay, timeout=mc.timeout),
            store_path=None,
            batch=batch,
            batch_poll=batch_poll,
        )

    health_limits: dict[str, float | None] = {"empty": max_empty_rate, "truncated": max_truncated_rate}
    try:
        if many:
            from trustgauge.pipeline.many import default_models_dir, model_entries, read_models_file

            listed = read_models_file(models_file) if models_file is not None else [
                (None, ModelConfig(model=spec)) for spec in specs
            ]
            root = out or default_models_dir()
            configs = [configure(override(e.config), root / e.name) for e in model_entries(listed)]
        else:
            mc = override(load_model_config(model_config, spec=specs[0] if specs else None))
            config = configure(mc, out)
    except UsageError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        err = exc.errors()[0]
        _fail(f"invalid option {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
    if batch and executor.strip().lower() != "local":
        # a Ray worker records its batches in its own store: a restarted worker would pay again
        _fail("--batch runs the requests at the provider, not on workers: use it without --executor ray")
    try:
        factory = make_executor(executor, ray_address, ray_workers, ray_cpus, ray_gpus, ray_resource, ray_start_timeout)
    except UsageError as exc:
        _fail(str(exc))
    if verify_judges or judge_baseline is not None:  # before anything is sent (the same judges for every model)
        from trustgauge.cli.judges import verify_run_judges

        verify_run_judges(configs[0] if many else config, judge_baseline, quiet=quiet)
    if many:
        _run_many(configs, root, quiet=quiet, max_error_rate=max_error_rate, health_limits=health_limits,
                  executor=factory)
        return
    result = _execute(config, quiet=quiet, executor=factory)
    _finish(result, max_error_rate, health_limits)


def _run_many(
    configs: list[RunConfig], root: Path, *, quiet: bool, max_error_rate: float,
    health_limits: dict[str, float | None], executor: Any = None,
) -> None:
    """Run several models side by side (:func:`trustgauge.pipeline.many.run_models`), one line
    per model as it ends, then the leaderboard (written to ``root/leaderboard.md`` and
    ``.html``, its ranking printed). ``executor`` (an ``ExecutorFactory``, ``None``: this
    process) runs every model's units.

    Exit codes: 0 every model ran and passed the limits; 1 some model failed (before anything
    was sent for it, or while running) or its run exceeded ``--max-error-rate`` or a health limit
    (its run directory is written and ranked; the same command again resumes every model);
    2 the command itself is wrong (the tasks, a role, the models file) or no model could start
    (nothing was sent); 130 interrupted (everything received is stored; run again to resume).
    """
    from trustgauge.engine.progress import ProgressGroup
    from trustgauge.pipeline.many import ModelFailure, ModelOutcome, run_models
    from trustgauge.report.leaderboard import FailedRun, render_markdown, write_leaderboards
    from trustgauge.report.writer import RENDERERS

    group = ProgressGroup(enabled=not quiet)

    def announce(outcome: ModelOutcome) -> None:
        if isinstance(outcome, ModelFailure):
            typer.echo(f"error: {outcome.line()}", err=True)
        else:
            req = outcome.run.requests
            typer.echo(
                f"done: {outcome.out_dir.name} ({outcome.run.model.get('model')}): {req['total']} requests, "
                f"{req['failed']} failed, {outcome.run.wall_time_s:.1f}s -> {outcome.out_dir}", err=True,
            )

    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        outcomes = _run_async(run_models(
            configs, renderers=RENDERERS, progress_factory=group, command=_safe_argv(),
            executor=executor, shards=getattr(executor, "shards", 1), on_outcome=announce,
        ))
    except UsageError as exc:
        group.close()
        fail_on(exc)
    except KeyboardInterrupt:
        group.close()
        interrupted("\ninterrupted: every response received so far is saved; run the same command again to resume.")
    finally:
        group.close()  # releases the terminal once, whatever happened
        signal.signal(signal.SIGTERM, previous)
    failures = [o for o in outcomes if isinstance(o, ModelFailure)]
    runs = [o for o in outcomes if not isinstance(o, ModelFailure)]
    if not runs and all(f.stage == "preflight" for f in failures):
        _fail(f"no model could start ({len(failures)} failed before anything was sent; see above)")
    from trustgauge.results.health import limit_errors

    problems = [f.line() for f in failures]
    for result in runs:
        if result.failed and result.error_rate > max_error_rate:
            problems.append(
                f"{result.out_dir.name}: {result.failed} of {result.total} requests failed ({result.error_rate:.1%} > "
                f"--max-error-rate {max_error_rate:.1%}); see 'error' in its samples.jsonl; run again to retry them"
            )
        if result.run.health is not None:
            problems += [f"{result.out_dir.name}: {m}" for m in limit_errors(result.run.health, health_limits)]
    board = write_leaderboards(
        root, [r.out_dir for r in runs], [FailedRun(f.model, f.name, f.error) for f in failures],
    )
    typer.echo(render_markdown(board, subtasks=False), nl=False)
    typer.echo(f"leaderboard: {root / 'leaderboard.md'} · {root / 'leaderboard.html'}")
    for message in problems[:-1]:
        typer.echo(f"error: {message}", err=True)
    if problems:
        notes = ([f"{len(problems)} problems"] if len(problems) > 1 else []) + (
            [f"the runs written are in {root}"] if runs else [])
        _fail(problems[-1] + (f" ({'; '.join(notes)})" if notes else ""), EXIT_FAILED_REQUESTS)


def make_executor(
    name: str, address: str | None = None, workers: int | None = None, cpus: float | None = None,
    gpus: float = 0.0, resources: list[str] | None = None, start_timeout: float = 300.0,
) -> Any:
    """The ``ExecutorFactory`` of ``--executor`` (``None``: local) from the ``--ray-*`` options."""
    name = name.strip().lower()
    ray_given = address is not None or workers is not None or cpus is not None or gpus or resources
    if name == "local":
        if ray_given:
            raise UsageError("--ray-* options need --executor ray")
        return None
    if name != "ray":
        raise UsageError(f"--executor {name!r}: expected local or ray")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise UsageError("--executor ray needs Ray: pip install 'trustgauge[ray]' (on every node of the cluster)")
    from trustgauge.pipeline.ray import RayExecutorFactory, RayOptions

    amounts: dict[str, float] = {}
    for item in resources or []:
        key, sep, value = item.partition("=")
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not sep or not key.strip() or amount <= 0:
            raise UsageError(f"--ray-resource {item!r}: expected NAME=AMOUNT with AMOUNT > 0, e.g. accelerator_type:A100=0.01")
        amounts[key.strip()] = amount
    return RayExecutorFactory(RayOptions(
        address=address, workers=workers, cpus=cpus, gpus=gpus, resources=tuple(sorted(amounts.items())),
        start_timeout=start_timeout,
    ))


def _parse_task_data(values: list[str] | None) -> dict[str, Path]:
    """``--task-data TASK=FILE`` values -> task id -> file (absolute)."""
    out: dict[str, Path] = {}
    for value in values or []:
        task, sep, path = value.partition("=")
        task, path = task.strip(), path.strip()
        if not sep or not task or not path:
            raise UsageError(
                f"--task-data {value!r}: expected TASK=FILE, e.g. fan2023.membership_inference=mine.jsonl"
            )
        if task in out:
            raise UsageError(" ".join(f"--task-data {task} given twice".split()))
        if "\x00" in path:  # Path.resolve() would raise ValueError
            raise UsageError(f"--task-data {value!r}: a file name cannot hold a NUL character")
        out[task] = Path(path).expanduser().resolve()
    return out


def _parse_task_params(values: list[str] | None) -> dict[str, dict[str, str]]:
    """``--task-param TASK:NAME=VALUE`` values -> task id -> name -> value (split at the first
    ``:`` and the first ``=`` after it: a value may hold both; the names and values are checked
    by the task when the run creates it)."""
    out: dict[str, dict[str, str]] = {}
    for item in values or []:
        task, colon, setting = item.partition(":")
        name, equals, value = setting.partition("=")
        task, name = task.strip(), name.strip()
        if not colon or not equals or not task or not name:
            raise UsageError(
                f"--task-param {item!r}: expected TASK:NAME=VALUE, e.g. fan2023.jailbreak:attacks=aim+base64"
            )
        if name in out.setdefault(task, {}):
            raise UsageError(" ".join(f"--task-param {task}:{name} given twice".split()))
        out[task][name] = value.strip()
    return out


#: what a ``--role NAME=FILE`` model config file may end with (``config._read_mapping``'s formats)
_CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def _parse_roles(values: list[str] | None) -> dict[str, Any]:
    """``--role NAME=SPEC`` values -> role -> model config (names and specs are checked by
    the run's preflight, before anything is sent). ``NAME=FILE`` (a ``.yaml``/``.yml``/
    ``.toml``/``.json`` file) is a whole model config, as ``--model-config`` reads it: the way to
    give a role's model options, e.g. a larger ``n_ctx`` for a ``gguf:`` attacker, whose prompts
    (PAIR's system prompt alone is ~1,400 tokens) outgrow llama.cpp's default 2,048."""
    from trustgauge.config import ModelConfig, load_model_config

    roles: dict[str, Any] = {}
    for item in values or []:
        name, sep, spec = item.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            # the value is not echoed: a spec's URL may carry credentials
            raise UsageError(f"--role {name or '?'}: expected NAME=SPEC, e.g. attacker=openai:gpt-4o-mini")
        if name in roles:
            raise UsageError(f"--role {name} given twice")
        if spec.lower().endswith(_CONFIG_SUFFIXES):
            roles[name] = load_model_config(Path(spec).expanduser(), role=name)
        else:
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
    from trustgauge.models.gguf import smollm2_path
    from trustgauge.pipeline.run import RunConfig

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

