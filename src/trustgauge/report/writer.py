"""What the run-dir writer (:mod:`trustgauge.results.writer`) gets from the report layer:
:data:`RENDERERS`, how ``report.md`` (:mod:`trustgauge.report.summary`) and ``report.html``
(:mod:`trustgauge.report.htmlreport`) are made, and :func:`write_run`, the writer with them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trustgauge.report.htmlreport import write_report
from trustgauge.report.summary import render_markdown
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile
from trustgauge.results.writer import Renderers
from trustgauge.results.writer import write_run as _write_run

#: the human-readable files of a run directory: report.md (hashed in run.json) and report.html
RENDERERS = Renderers(markdown=render_markdown, html=write_report)


def write_run(out_dir: Path, run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> RunInfo:
    """:func:`trustgauge.results.writer.write_run` with :data:`RENDERERS`."""
    return _write_run(out_dir, run, scores, samples, RENDERERS)
