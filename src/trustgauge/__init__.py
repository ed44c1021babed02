"""trustgauge: measure how trustworthy a large language model is.

The public API is small::

    import trustgauge
    result = trustgauge.evaluate("openai:gpt-4o-mini", ["safety"], limit=50)
    outcomes = trustgauge.evaluate_many(["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"], ["safety"])
    results = trustgauge.load_results("runs/my-run")      # a Results: .to_pandas(), .metric()

Heavy libraries load only when a feature needs them, so ``import trustgauge`` is fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trustgauge._version import __version__

if TYPE_CHECKING:
    from trustgauge.api import evaluate, evaluate_many
    from trustgauge.models.base import Model
    from trustgauge.pipeline.run import RunConfig, RunResult
    from trustgauge.results.results import Results, load_results
    from trustgauge.tasks.base import Task
    from trustgauge.types import Request, Response, Sample

__all__ = [
    "Model",
    "Request",
    "Response",
    "Results",
    "RunConfig",
    "RunResult",
    "Sample",
    "Task",
    "__version__",
    "evaluate",
    "evaluate_many",
    "load_results",
]

_LAZY = {
    "evaluate": "trustgauge.api",
    "evaluate_many": "trustgauge.api",
    "RunConfig": "trustgauge.pipeline.run",
    "RunResult": "trustgauge.pipeline.run",
    "Model": "trustgauge.models.base",
    "Request": "trustgauge.types",
    "Response": "trustgauge.types",
    "Task": "trustgauge.tasks.base",
    "Sample": "trustgauge.types",
    "Results": "trustgauge.results.results",
    "load_results": "trustgauge.results.results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'trustgauge' has no attribute {name!r}")
