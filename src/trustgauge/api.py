"""The Python API: ``trustgauge.evaluate(model, tasks, ...)`` and, for several models side by
side, ``trustgauge.api.evaluate_many(models, tasks, ...)``.

It sits in the top layer beside ``cli`` (docs/architecture.md §2.1): like ``trustgauge run`` it
picks the report renderers (``report.writer.RENDERERS``) and hands them to the pipeline
(:func:`trustgauge.pipeline.run.run_evaluation`), which may not import the report layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trustgauge.config import ModelConfig
from trustgauge.pipeline.executor import ExecutorFactory
from trustgauge.pipeline.many import (
    ModelFailure,
    ModelOutcome,
    default_models_dir,
    model_entries,
    run_models,
)
from trustgauge.pipeline.run import RunConfig, RunResult, run_evaluation
from trustgauge.report.writer import RENDERERS

__all__ = ["ModelFailure", "RunConfig", "RunResult", "evaluate", "evaluate_many"]


def _selectors(tasks: str | Sequence[str]) -> list[str]:
    """``tasks`` as selectors: one string is one selector (``"safety"``, ``"safety,privacy"``, as
    ``--tasks`` takes it), not its characters (``list("safety")`` asked for tasks 's', 'a', ...)."""
    return [tasks] if isinstance(tasks, str) else list(tasks)


def evaluate(
    model: str | ModelConfig,
    tasks: str | Sequence[str] = ("all",),
    *,
    limit: int | None = None,
    out: str | Path | None = None,
    **options: Any,
) -> RunResult:
    """Evaluate a model from Python: ``trustgauge.evaluate("openai:gpt-4o-mini", ["safety"])``.

    ``options`` are the other fields of :class:`~trustgauge.pipeline.run.RunConfig`, e.g.
    ``task_params={"fan2023.jailbreak": {"attacks": "aim+base64"}}`` (``--task-param``) or
    ``roles={"attacker": "openai:gpt-4o-mini"}``; the run directory gets ``report.md`` and
    ``report.html`` as with ``trustgauge run``."""
    model_config = model if isinstance(model, ModelConfig) else ModelConfig(model=model)
    config = RunConfig(model=model_config, tasks=_selectors(tasks), limit=limit, out=Path(out) if out else None, **options)
    return asyncio.run(run_evaluation(config, renderers=RENDERERS))


def evaluate_many(
    models: Sequence[str | ModelConfig | tuple[str, str | ModelConfig]],
    tasks: str | Sequence[str] = ("all",),
    *,
    limit: int | None = None,
    out: str | Path | None = None,
    executor: ExecutorFactory | None = None,
    **options: Any,
) -> list[ModelOutcome]:
    """Evaluate several models side by side on the same tasks, as ``trustgauge run -m A -m B``::

        outcomes = trustgauge.api.evaluate_many(
            ["openai:gpt-4o-mini", ("llama", "openai-compatible:llama3@http://127.0.0.1:8000/v1")],
            ["safety"], limit=50, out="runs/compare",
        )

    ``models``: specs, model configs, or ``(name, spec or config)`` pairs (the name is the run
    directory's). Each model's run goes to ``OUT/<name>`` (default ``OUT``:
    ``runs/models-TIMESTAMP``; the name defaults to the spec without its URL, made unique), and
    ``OUT/leaderboard.md`` and ``OUT/leaderboard.html`` rank them, failed models listed below.
    API models run at once; ``hf:``/``gguf:`` models one after another
    (:mod:`trustgauge.pipeline.many`). ``executor`` runs every model's units (default: in this
    process). ``options`` are the other :class:`~trustgauge.pipeline.run.RunConfig` fields, shared
    by every model.

    Returns, in the order given, each model's :class:`RunResult` or, when it could not run
    (no API key, unreachable server...; the others went on), its :class:`ModelFailure`.
    Raises :class:`~trustgauge.errors.UsageError` when what the models share is wrong (tasks,
    suite, roles): nothing is sent then."""
    from trustgauge.report.leaderboard import FailedRun, write_leaderboards

    named: list[tuple[str | None, ModelConfig]] = []
    for item in models:
        name, model = item if isinstance(item, tuple) else (None, item)
        named.append((name, model if isinstance(model, ModelConfig) else ModelConfig(model=model)))
    root = Path(out) if out else default_models_dir()
    configs = [
        RunConfig(model=e.config, tasks=_selectors(tasks), limit=limit, out=root / e.name, **options)
        for e in model_entries(named)
    ]
    outcomes = asyncio.run(run_models(configs, renderers=RENDERERS, executor=executor))
    write_leaderboards(
        root,
        [o.out_dir for o in outcomes if isinstance(o, RunResult)],
        [FailedRun(o.model, o.name, o.error) for o in outcomes if isinstance(o, ModelFailure)],
    )
    return outcomes
