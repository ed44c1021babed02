"""results/ (issue 13 step 10): the run-dir format below report and the writer.

Reading a run must not need the code that produced it, so importing the format loads no task,
judge, engine, model, data or report module; the old ``report.*`` paths stay the same objects.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pytest

from _imports import modules_after
from html_report_fixtures import synthetic_run
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile

PRODUCERS = (
    "trustgauge.tasks", "trustgauge.judges", "trustgauge.engine", "trustgauge.models",
    "trustgauge.data", "trustgauge.report",
)


@pytest.mark.parametrize(
    "statement",
    [
        "import trustgauge.results",
        "import trustgauge.results.schema, trustgauge.results.rundir, trustgauge.results.writer, "
        "trustgauge.results.health, trustgauge.results.results",
        "from trustgauge import load_results",
    ],
)
def test_importing_results_loads_no_producing_or_report_module(statement: str) -> None:
    loaded = modules_after(statement)
    assert "trustgauge.results" in loaded
    assert not any(m.startswith(PRODUCERS) for m in loaded), sorted(loaded)


def test_the_package_alone_loads_none_of_its_modules() -> None:
    assert modules_after("import trustgauge.results") == {"trustgauge", "trustgauge._version", "trustgauge.results"}


@pytest.mark.parametrize("name", ["schema", "rundir", "results", "commands", "cli_report"])
def test_the_report_re_export_shims_are_gone(name: str) -> None:
    """Issue 13 step 13: the run-dir format is only at ``trustgauge.results.*`` and the report
    commands only at ``trustgauge.cli.report``; report keeps the report.md health section."""
    import trustgauge
    from trustgauge.report import health as report_health
    from trustgauge.report import writer as report_writer
    from trustgauge.results import results

    assert importlib.util.find_spec(f"trustgauge.report.{name}") is None
    assert trustgauge.Results is results.Results and trustgauge.load_results is results.load_results
    assert not hasattr(report_writer, "read_run") and not hasattr(report_health, "run_health")
    assert callable(report_health.markdown)  # the report.md section stays in the report layer


def _markdown(run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> str:
    return f"# {run.run_id}: {len(scores.tasks)} tasks, {len(samples)} samples\n"


def test_writer_takes_its_renderers_and_hashes_report_md(tmp_path: Path) -> None:
    from trustgauge.results.writer import Renderers, read_run, write_run

    run, scores, samples = synthetic_run(3)
    out = tmp_path / "run"
    written = write_run(out, run, scores, samples, Renderers(markdown=_markdown))
    text = f"# {run.run_id}: {len(scores.tasks)} tasks, {len(samples)} samples\n".encode()
    assert (out / "report.md").read_bytes() == text
    assert not (out / "report.html").exists()  # no html renderer, no report.html
    assert written.files is not None
    assert written.files["report.md"].sha256 == hashlib.sha256(text).hexdigest()
    assert written.files["report.md"].bytes == len(text)
    assert written.files["samples.jsonl"].records == len(samples) == 3
    assert written.files["scores.json"].records == len(scores.tasks)
    back_run, back_scores, back_samples = read_run(out)
    assert back_run == written and back_scores == scores and back_samples == samples


def test_old_write_run_writes_what_the_results_writer_writes_with_the_report_renderers(tmp_path: Path) -> None:
    from trustgauge.report.writer import RENDERERS
    from trustgauge.report.writer import write_run as old_write_run
    from trustgauge.results.writer import write_run

    run, scores, samples = synthetic_run(2)
    old_write_run(tmp_path / "old", run, scores, samples)
    write_run(tmp_path / "new", run, scores, samples, RENDERERS)
    for name in ("run.json", "scores.json", "samples.jsonl", "report.md"):
        assert (tmp_path / "old" / name).read_bytes() == (tmp_path / "new" / name).read_bytes(), name
    assert (tmp_path / "new" / "report.html").is_file()
