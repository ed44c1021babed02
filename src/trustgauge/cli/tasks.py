"""``trustgauge tasks`` and ``trustgauge suites``: what can be run."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    from trustgauge.tasks.base import Task


@app.command("tasks")
def tasks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {id, dimension, title, "
        "metric, metrics, directions, n_samples, judges, data, taxonomy, parameters}; taxonomy: the "
        "task's tags ('trustgauge taxonomy'); parameters: name -> {default, help, choices}.")] = False,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="Count the samples of this suite "
        "(e.g. quick) instead of the full release.")] = None,
    params: Annotated[str | None, typer.Option("--params", metavar="TASK", help="List the parameters of "
        "one task instead (name, default, allowed values, what it sets), as 'run --task-param "
        "TASK:NAME=VALUE' takes them; with --json, a JSON object name -> {default, help, "
        "choices}.")] = None,
) -> None:
    """List every task: its dimension, metrics, judges, data and sample count.

    Sample counts are those of the full, pinned TrustLLM release (checked against the data by
    the test suite); --suite quick counts the packaged quick sample instead, --suite
    quick-liu2023 the seeded slice a run of it draws (seed 0). Tasks with settings of their own
    (the attacks of a jailbreak probe, say) are named below the table; --params TASK lists them.
    """
    from trustgauge.data import get_source, load_records, packaged_path
    from trustgauge.tasks.registry import TASKS

    if params is not None:
        if suite is not None:  # ignored, it would read as if the parameters depended on it
            _fail("--suite counts the samples of the task list: not with --params")
        _print_params(params, as_json=as_json)
        return

    counted: dict[str, int] = {}
    members: set[str] = set(TASKS)
    try:
        if suite is not None:
            from trustgauge.tasks.registry import resolve_tasks
            from trustgauge.tasks.suites import get_suite

            chosen = get_suite(suite)
            members = {t.id for t in resolve_tasks(chosen.tasks)}
            if chosen.packaged is not None:
                root = packaged_path(chosen.packaged)
                for task_id in members:
                    task = TASKS[task_id]()
                    counted[task_id] = len(task.samples(load_records(root, task.data.path)[0]))
            elif chosen.shipped and chosen.limit is not None:
                # a seeded slice of shipped prompt sets: what a run of the suite draws (seed 0)
                from trustgauge.data import resolve_data_dir
                from trustgauge.pipeline.local import select_samples

                for task_id in members:
                    task = TASKS[task_id]()
                    folder = resolve_data_dir(task.data.dataset, None, auto_fetch=False, progress=False)
                    samples = task.samples(load_records(folder, task.data.path)[0])
                    counted[task_id] = len(select_samples(samples, chosen.limit, 0))
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
                "taxonomy": list(cls.taxonomy),
                "parameters": _parameters(cls),
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
        # the headline metric and how many more: a task can report dozens (one per subset or
        # category), which made the table hundreds of lines long; --json lists them all
        metrics = f"{r['metric']} {'↑' if r['directions'][0] == 'higher' else '↓'}"
        if len(r["metrics"]) > 1:
            metrics += f" (+{len(r['metrics']) - 1})"
        table.add_row(r["id"], r["dimension"], metrics, str(r["n_samples"]), ", ".join(r["judges"]) or "-", r["data"])
    Console().print(table)
    total = sum(r["n_samples"] for r in rows)
    Console().print(f"{len(rows)} tasks, {total} samples; (+N): N more metrics, listed by 'tasks --json'")
    with_params = [r["id"] for r in rows if r["parameters"]]
    if with_params:
        Console().print(
            f"with parameters (--task-param TASK:NAME=VALUE; 'trustgauge tasks --params TASK' lists them): "
            f"{', '.join(with_params)}"
        )


def _parameters(cls: type[Task]) -> dict[str, dict[str, Any]]:
    """A task's parameters as ``tasks --json`` prints them: name -> {default, help, choices}."""
    return {
        name: {"default": p.default, "help": p.help, "choices": None if p.choices is None else list(p.choices)}
        for name, p in cls.parameters.items()
    }


def _print_params(task_id: str, *, as_json: bool) -> None:
    """``tasks --params TASK``: the task's parameters, a table or JSON (an unknown task: exit 2
    naming close matches)."""
    from trustgauge.errors import ConfigError
    from trustgauge.tasks.registry import TASKS, resolve_tasks

    cls = TASKS.get(task_id)
    if cls is None and not task_id.strip():  # the registry would say "no tasks selected"
        _fail(f"--params takes one task id, not {task_id!r} ('trustgauge tasks' lists them)")
    if cls is None:
        try:  # the registry's message names close matches; a selector that is no task id is refused too
            resolve_tasks([task_id])
        except ConfigError as exc:
            _fail(str(exc))
        _fail(f"--params takes one task id, not {task_id!r} ('trustgauge tasks' lists them)")
    rows = _parameters(cls)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"{task_id} has no parameters.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"parameters of {task_id} (run --task-param {task_id}:NAME=VALUE)")
    for col in ("name", "default", "allowed", "what"):
        table.add_column(col, overflow="fold")
    for name, row in rows.items():
        allowed = ", ".join(row["choices"]) if row["choices"] is not None else "any (checked by the task)"
        table.add_row(name, repr(row["default"]) if row["default"] == "" else row["default"], allowed, row["help"])
    Console().print(table)


@app.command("suites")
def suites_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {name, description, tasks, data}.")] = False,
) -> None:
    """List the suites 'run --suite' accepts: which tasks, on which data.

    Examples:

      trustgauge run -m gguf:smollm2 --suite quick-safety

      trustgauge run -m openai:gpt-4o-mini --suite trustllm
    """
    from trustgauge.tasks.registry import resolve_tasks
    from trustgauge.tasks.suites import suites

    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "description": s.description,
            "tasks": [t.id for t in resolve_tasks(s.tasks)],
            "data": "packaged sample" if s.packaged else "shipped prompt sets" if s.shipped else "full release",
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


