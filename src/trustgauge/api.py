"""The Python API: ``trustgauge.evaluate(model, tasks, ...)``.

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
from trustgauge.pipeline.run import RunConfig, RunResult, run_evaluation
from trustgauge.report.writer import RENDERERS

__all__ = ["RunConfig", "RunResult", "evaluate"]


def evaluate(
    model: str | ModelConfig,
    tasks: Sequence[str] = ("all",),
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
    config = RunConfig(model=model_config, tasks=list(tasks), limit=limit, out=Path(out) if out else None, **options)
    return asyncio.run(run_evaluation(config, renderers=RENDERERS))
