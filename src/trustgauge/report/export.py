"""Machine-readable exports of a run: per-task metrics or per-sample records as JSON, CSV or
Parquet (``pip install 'trustgauge[parquet]'``).

- ``tasks``: one row per (task, metric): run_id, model, task, dimension, title, metric,
  primary, value, direction, ci_low, ci_high, n, n_invalid, reason, n_samples, n_failed, judges,
  task_score, undefined_as (the task's dimension-summary score and how an undefined headline
  metric was counted: ``failure``, ``not_scored``, ``nothing_to_score``; see
  ``docs/results-schema.md``).
- ``samples``: one row per sample: run_id, model, task, sample_id, group, prompt, response, error,
  cached, label, valid, finish_reason, outcome, one ``score.<name>`` column per per-sample
  score, and target, metadata, judgements. JSON keeps these nested (and ``score`` as an
  object); CSV and Parquet hold them as JSON text.

CSV is opened in spreadsheets, which run a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula: such a text cell (a model's answer may be
``=HYPERLINK(...)``) gets a leading ``'``, as OWASP advises. JSON and Parquet keep every text
exactly.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from trustgauge.errors import UsageError
from trustgauge.net.atomic import atomic_write_text, atomic_write_with
from trustgauge.results.results import Kind, Results, missing_extra

FORMATS = ("json", "csv", "parquet")


def guess_format(path: str | None) -> str:
    """The format an output file name asks for (``.json``, ``.csv``, ``.parquet``), else json."""
    if path and path != "-":
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return suffix
        if suffix == "pq":
            return "parquet"
    return "json"


def to_json(res: Results, kind: Kind) -> str:
    rows = res.rows(kind, flat=False)
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def to_csv(res: Results, kind: Kind) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=res.columns(kind), lineterminator="\n")
    writer.writeheader()
    for row in res.rows(kind):
        writer.writerow({k: "" if v is None else csv_text(v) for k, v in row.items()})
    return buf.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula: a string that
    starts like one gets a leading ``'``; other values are returned as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _arrow_schema(res: Results, kind: Kind) -> Any:
    import pyarrow as pa

    types: dict[str, Any] = {
        "primary": pa.bool_(), "value": pa.float64(), "task_score": pa.float64(), "ci_low": pa.float64(), "ci_high": pa.float64(),
        "n": pa.int64(), "n_invalid": pa.int64(), "n_samples": pa.int64(), "n_failed": pa.int64(),
        "cached": pa.bool_(), "valid": pa.bool_(),
    }
    return pa.schema([
        (c, pa.float64() if c.startswith("score.") else types.get(c, pa.string()))
        for c in res.columns(kind)
    ])


def write_parquet(res: Results, kind: Kind, path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_extra("pyarrow", "parquet", "--format parquet") from None
    table = pa.Table.from_pylist(res.rows(kind), schema=_arrow_schema(res, kind))
    pq.write_table(table, path)


def export(res: Results, fmt: str, kind: Kind, out: str) -> None:
    """Write ``res`` as ``fmt`` (json, csv, parquet) to ``out`` (``-``: stdout, not for
    parquet). Raises :class:`UsageError` with a one-line message on bad input."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if kind not in ("tasks", "samples"):
        raise UsageError(f"unknown --what {kind!r}: expected tasks or samples")
    if out == "-":
        if fmt == "parquet":
            raise UsageError("parquet is binary: write it to a file with -o FILE.parquet")
        import sys

        sys.stdout.write(to_json(res, kind) if fmt == "json" else to_csv(res, kind))
        sys.stdout.flush()
        return
    path = Path(out).expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {out}: its folder does not exist")
    try:
        if fmt == "parquet":
            atomic_write_with(path, lambda tmp: write_parquet(res, kind, tmp))
        else:
            text = to_json(res, kind) if fmt == "json" else to_csv(res, kind)
            atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
