"""Issue 13 step 13: ``evaluate.py`` is ``pipeline/run.py`` and the public ``trustgauge.evaluate``
is :mod:`trustgauge.api` (top layer, beside cli), because the pipeline sits beside ``report`` and
may not import it: whoever calls ``run_evaluation`` hands it the report renderers."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from _imports import modules_after
from trustgauge.config import ModelConfig
from trustgauge.results.schema import RunInfo, SampleRecord, ScoresFile
from trustgauge.results.writer import Renderers

#: a quick-suite task scored without a judge: a real run in about a second
TASK = "ethics.explicit.low_ambiguity"


def test_import_trustgauge_stays_light() -> None:
    assert modules_after("import trustgauge") == {"trustgauge", "trustgauge._version"}


def test_the_public_names_come_from_their_modules() -> None:
    import trustgauge
    from trustgauge import api
    from trustgauge.pipeline import run

    assert trustgauge.evaluate is api.evaluate
    assert trustgauge.RunConfig is run.RunConfig and trustgauge.RunResult is run.RunResult
    assert importlib.util.find_spec("trustgauge.evaluate") is None


def test_evaluate_stays_the_function_once_the_run_module_is_loaded() -> None:
    """Regression: the old ``trustgauge/evaluate.py`` was a submodule, so any
    ``from trustgauge.evaluate import ...`` (the cli did) bound the *module* to
    ``trustgauge.evaluate`` and ``trustgauge.evaluate(model)`` raised TypeError."""
    code = (
        "from trustgauge.pipeline.run import RunConfig, run_evaluation\n"  # what the cli imports
        "import trustgauge, trustgauge.api\n"
        "assert callable(trustgauge.evaluate), trustgauge.evaluate\n"
        "assert trustgauge.evaluate is trustgauge.api.evaluate\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "ok"


def test_the_run_module_loads_no_report_module() -> None:
    """The layers contract (pipeline | report are siblings) as a run-time fact too."""
    loaded = modules_after("import trustgauge.pipeline.run", "trustgauge.")
    assert "trustgauge.pipeline.run" in loaded
    assert not {m for m in loaded if m.startswith("trustgauge.report")}


@pytest.mark.parametrize("name", ["_public_model_config", "select_samples", "_lacking", "_judge_all", "evaluate"])
def test_the_old_aliases_are_gone(name: str) -> None:
    from trustgauge.engine import judging
    from trustgauge.pipeline import run

    assert not hasattr(run, name)
    assert not hasattr(judging, "_judge_all")


def test_run_evaluation_writes_the_report_with_the_renderers_it_is_given(tmp_path: Path) -> None:
    from trustgauge.pipeline.run import RunConfig, run_evaluation

    seen: list[tuple[str, int]] = []

    def markdown(run: RunInfo, scores: ScoresFile, samples: Sequence[SampleRecord]) -> str:
        seen.append((run.run_id, len(samples)))
        return "# custom report\n"

    config = RunConfig(
        model=ModelConfig(model="scripted:comply-all"), suite="quick", tasks=[TASK], limit=2,
        out=tmp_path / "mine", store_path=tmp_path / "store.sqlite3",
    )
    result = asyncio.run(run_evaluation(config, renderers=Renderers(markdown=markdown)))
    assert seen == [("mine", 2)]
    assert (result.out_dir / "report.md").read_text(encoding="utf-8") == "# custom report\n"
    assert not (result.out_dir / "report.html").exists()  # html=None: none written
    assert "report.md" in result.run.files


def test_the_python_api_writes_the_report_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``trustgauge.evaluate`` runs with ``report.writer.RENDERERS``, as ``trustgauge run`` does."""
    import trustgauge
    from trustgauge.report.writer import RENDERERS

    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path / "home"))
    result = trustgauge.evaluate(
        "scripted:comply-all", [TASK], limit=2, out=tmp_path / "api", suite="quick",
        store_path=tmp_path / "store.sqlite3",
    )
    assert isinstance(result, trustgauge.RunResult) and result.total == 2 and result.failed == 0
    md = (result.out_dir / "report.md").read_text(encoding="utf-8")
    assert md == RENDERERS.markdown(result.run, result.scores, result.samples)
    assert (result.out_dir / "report.html").stat().st_size > 0
