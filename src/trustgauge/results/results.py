"""A finished run's results from Python: ``trustgauge.Results.load("runs/x")``.

``Results`` holds ``run.json``, ``scores.json`` and ``samples.jsonl`` of one run directory and
turns them into flat rows (one per metric, or one per sample) for exports and for
``Results.to_pandas()``. pandas is optional (``pip install 'trustgauge[pandas]'``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from trustgauge.errors import UsageError
from trustgauge.results.dimensions import task_summaries
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.types import MetricValue

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["tasks", "samples"]
KINDS: tuple[Kind, ...] = ("tasks", "samples")

#: columns of a "tasks" row, in order
TASK_COLUMNS: tuple[str, ...] = (
    "run_id", "model", "task", "dimension", "title", "metric", "primary", "value", "direction",
    "ci_low", "ci_high", "n", "n_invalid", "reason", "n_samples", "n_failed", "judges",
    "task_score", "undefined_as",
)
#: columns of a "samples" row before the ``score.<name>`` columns
SAMPLE_COLUMNS: tuple[str, ...] = (
    "run_id", "model", "task", "sample_id", "group", "prompt", "response", "error", "cached",
    "label", "valid", "finish_reason", "outcome",
)
#: nested fields of a sample, JSON-encoded in flat (CSV/parquet/pandas) rows
SAMPLE_NESTED: tuple[str, ...] = ("target", "metadata", "judgements")


def missing_extra(package: str, extra: str, what: str) -> UsageError:
    """The one-line error for an optional dependency that is not installed."""
    return UsageError(
        f"{what} needs the optional package {package!r}: pip install 'trustgauge[{extra}]'"
    )


@dataclass
class Results:
    """One run: ``run`` (run.json), ``scores`` (scores.json) and ``samples`` (samples.jsonl).

    Example::

        from trustgauge import Results
        res = Results.load("runs/gpt-4o-mini")
        res.metric("safety.jailbreak").value          # the task's primary metric
        df = res.to_pandas()                          # one row per task metric
        samples = res.to_pandas("samples")            # one row per sample
    """

    run: RunInfo
    scores: ScoresFile
    samples: list[SampleRecord] = field(default_factory=list)
    path: Path | None = None

    @classmethod
    def load(cls, run_dir: str | Path) -> Results:
        """Read a run directory (raises :class:`~trustgauge.errors.UsageError` when it is not
        one or its schema version is unknown)."""
        from trustgauge.results.writer import read_run

        path = Path(run_dir)
        if not path.is_dir():
            what = "a file, not a folder" if path.exists() else "no such folder"
            raise UsageError(f"{path} is not a trustgauge run directory ({what})")
        run, scores, samples = read_run(path)
        return cls(run=run, scores=scores, samples=samples, path=path)

    @classmethod
    def from_run_result(cls, result: Any) -> Results:
        """From what :func:`trustgauge.evaluate` returns (a ``RunResult``)."""
        return cls(run=result.run, scores=result.scores, samples=list(result.samples), path=result.out_dir)

    # ------------------------------------------------------------------ lookups

    @property
    def run_id(self) -> str:
        return self.scores.run_id

    @property
    def model(self) -> str:
        return self.scores.model

    @property
    def tasks(self) -> list[TaskScores]:
        return self.scores.tasks

    def task(self, task_id: str) -> TaskScores | None:
        """The scores of one task, or ``None`` when the run does not have it."""
        return next((t for t in self.scores.tasks if t.task == task_id), None)

    def metric(self, task_id: str, metric: str | None = None) -> MetricValue | None:
        """One metric of a task (its primary metric when ``metric`` is ``None``), or ``None``."""
        task = self.task(task_id)
        if task is None or not task.metrics:
            return None
        if metric is None:
            return task.metrics[0]
        return next((m for m in task.metrics if m.metric == metric), None)

    # ------------------------------------------------------------------ rows

    def task_rows(self) -> list[dict[str, Any]]:
        """One flat row per (task, metric), columns :data:`TASK_COLUMNS`."""
        rows: list[dict[str, Any]] = []
        summaries = {s.task: s for s in task_summaries(self.scores.tasks)}
        for t in self.scores.tasks:
            summary = summaries[t.task]
            for i, m in enumerate(t.metrics):
                rows.append({
                    "run_id": self.run_id, "model": self.model, "task": t.task,
                    "dimension": t.dimension, "title": t.title, "metric": m.metric,
                    "primary": i == 0, "value": m.value, "direction": m.direction,
                    "ci_low": m.ci[0] if m.ci else None, "ci_high": m.ci[1] if m.ci else None,
                    "n": m.n, "n_invalid": m.n_invalid, "reason": m.reason,
                    "n_samples": t.n_samples, "n_failed": t.n_failed,
                    "judges": ", ".join(f"{k}={v}" for k, v in t.judges.items()),
                    # the task's 0-1 dimension-summary score and how an undefined headline counted
                    "task_score": summary.score, "undefined_as": summary.undefined_as,
                })
        return rows

    def score_names(self) -> list[str]:
        """Every per-sample score name in the run, in order of first appearance."""
        return list(dict.fromkeys(k for s in self.samples for k in s.score))

    def sample_rows(self, *, flat: bool = True) -> list[dict[str, Any]]:
        """One row per sample. ``flat``: a ``score.<name>`` column per score name and the
        nested fields (target, metadata, judgements) as JSON text, for CSV, parquet and pandas;
        otherwise the sample record as written, plus run_id and model."""
        rows: list[dict[str, Any]] = []
        names = self.score_names() if flat else []
        for s in self.samples:
            data = s.model_dump(mode="json")
            row: dict[str, Any] = {"run_id": self.run_id, "model": self.model}
            if not flat:
                row.update(data)
                rows.append(row)
                continue
            row.update({c: data[c] for c in SAMPLE_COLUMNS[2:]})
            for name in names:
                row[f"score.{name}"] = s.score.get(name)
            for nested in SAMPLE_NESTED:
                value = data[nested]
                row[nested] = None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
            rows.append(row)
        return rows

    def rows(self, kind: Kind = "tasks", *, flat: bool = True) -> list[dict[str, Any]]:
        """:meth:`task_rows` or :meth:`sample_rows`."""
        if kind == "tasks":
            return self.task_rows()
        if kind == "samples":
            return self.sample_rows(flat=flat)
        raise UsageError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")

    def columns(self, kind: Kind = "tasks") -> list[str]:
        """The column names of flat rows of ``kind`` (also when the run has no rows)."""
        if kind == "tasks":
            return list(TASK_COLUMNS)
        return [*SAMPLE_COLUMNS, *(f"score.{n}" for n in self.score_names()), *SAMPLE_NESTED]

    def to_pandas(self, kind: Kind = "tasks") -> pd.DataFrame:
        """A pandas DataFrame: ``"tasks"`` (one row per task metric: value, direction, CI,
        n, ...) or ``"samples"`` (one row per sample, ``score.<name>`` columns). Needs pandas
        (``pip install 'trustgauge[pandas]'``)."""
        try:
            import pandas as pd
        except ImportError:
            raise missing_extra("pandas", "pandas", "Results.to_pandas()") from None
        return pd.DataFrame(self.rows(kind), columns=self.columns(kind))


def load_results(run_dir: str | Path) -> Results:
    """``Results.load(run_dir)``."""
    return Results.load(run_dir)


def load_many(run_dirs: Sequence[str | Path]) -> list[Results]:
    """Load several run directories, in order."""
    return [Results.load(d) for d in run_dirs]
