"""``trustgauge tasks`` and ``trustgauge suites``: what can be run."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trustgauge.cli._errors import fail as _fail
from trustgauge.cli.app import app
from trustgauge.errors import UsageError

if TYPE_CHECKING:
    pass


@app.command("tasks")
def tasks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {id, dimension, title, "
        "metric, metrics, directions, n_samples, judges, data, taxonomy}; taxonomy: the task's tags "
        "('trustgauge taxonomy').")] = False,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="Count the samples of this suite "
        "(e.g. quick) instead of the full release.")] = None,
) -> None:
    """List every task: its dimension, metrics, judges, data and sample count.

    Sample counts are those of the full, pinned TrustLLM release (checked against the data by
    the test suite); --suite quick counts the packaged quick sample instead, --suite
    quick-liu2023 the seeded slice a run of it draws (seed 0).
    """
    from trustgauge.data import get_source, load_records, packaged_path
    from trustgauge.tasks.registry import TASKS

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


