"""Exports (json, csv, parquet; tasks and samples), Results and Results.to_pandas(), and the
errors naming the optional extras when pandas or pyarrow is missing."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from compare_fixtures import real_run, tg
from trustgauge.errors import UsageError
from trustgauge.report.export import export, guess_format
from trustgauge.results.results import Results


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_run(tmp_path_factory, "comply", "scripted:comply-all")


def _scores(run_dir: Path) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    data = json.loads((run_dir / "scores.json").read_text())
    return {(t["task"], m["metric"]): m for t in data["tasks"] for m in t["metrics"]}


def test_results_api(run_dir: Path) -> None:
    import trustgauge

    res = trustgauge.load_results(run_dir)
    assert isinstance(res, trustgauge.Results) and res.path == run_dir
    assert res.run_id == "comply" and res.model == "scripted:comply-all"
    assert res.metric("safety.jailbreak") == res.metric("safety.jailbreak", "rta")
    assert res.metric("safety.jailbreak", "nope") is None and res.metric("nope") is None
    assert res.task("safety.misuse") is not None
    with pytest.raises(UsageError, match="not a trustgauge run directory"):
        Results.load(run_dir / "missing")


def test_to_pandas_equals_scores_json(run_dir: Path) -> None:
    res = Results.load(run_dir)
    df = res.to_pandas()
    stored = _scores(run_dir)
    assert len(df) == len(stored)
    for row in df.itertuples():
        m = stored[(row.task, row.metric)]
        assert (row.value if row.value == row.value else None) == m["value"]  # NaN for null
        assert row.direction == m["direction"] and row.n == m["n"]
    assert df[df.primary].task.tolist() == [t.task for t in res.tasks]
    samples = res.to_pandas("samples")
    assert len(samples) == len(res.samples)
    assert "score.refusal" in samples.columns and "score.toxicity" in samples.columns
    jb = samples[samples.task == "safety.jailbreak"]
    assert jb["score.refusal"].mean() == res.metric("safety.jailbreak").value  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="unknown kind"):
        res.rows("runs")  # type: ignore[arg-type]


def test_to_pandas_without_pandas_names_the_extra(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UsageError, match=r"pip install 'trustgauge\[pandas\]'"):
        Results.load(run_dir).to_pandas()


def test_parquet_without_pyarrow_names_the_extra(run_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UsageError, match=r"pip install 'trustgauge\[parquet\]'"):
        export(Results.load(run_dir), "parquet", "tasks", str(tmp_path / "x.parquet"))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_guess_format() -> None:
    assert guess_format("a.csv") == "csv" and guess_format("a.PARQUET") == "parquet"
    assert guess_format("a.pq") == "parquet" and guess_format("a.txt") == "json" and guess_format("-") == "json"


def test_cli_export_tasks(run_dir: Path, tmp_path: Path, tg_home: Path) -> None:
    stored = _scores(run_dir)
    out = tmp_path / "tasks.csv"
    res = tg(["export", str(run_dir), "-o", str(out)], tg_home)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(stored)
    for r in rows:
        m = stored[(r["task"], r["metric"])]
        assert (float(r["value"]) if r["value"] else None) == m["value"]
        assert (float(r["ci_low"]) if r["ci_low"] else None) == (m["ci"][0] if m["ci"] else None)
    res = tg(["export", str(run_dir), "--format", "json"], tg_home)  # stdout
    assert res.returncode == 0
    data = json.loads(res.stdout)
    assert {(d["task"], d["metric"]): d["value"] for d in data} == {k: m["value"] for k, m in stored.items()}


def test_cli_export_samples(run_dir: Path, tmp_path: Path, tg_home: Path) -> None:
    import pandas as pd

    res_obj = Results.load(run_dir)
    pq = tmp_path / "samples.parquet"
    res = tg(["export", str(run_dir), "--what", "samples", "-o", str(pq)], tg_home)
    assert res.returncode == 0, res.stderr
    assert f"{len(res_obj.samples)} samples rows (parquet)" in res.stderr
    df = pd.read_parquet(pq)
    assert len(df) == len(res_obj.samples) and df["valid"].dtype == bool
    assert df[df.task == "safety.misuse"]["score.refusal"].mean() == res_obj.metric("safety.misuse").value  # type: ignore[union-attr]
    assert json.loads(df.iloc[0]["metadata"]) == res_obj.samples[0].metadata
    js = tmp_path / "samples.json"
    assert tg(["export", str(run_dir), "--what", "samples", "-o", str(js)], tg_home).returncode == 0
    first = json.loads(js.read_text())[0]
    assert first["score"] == res_obj.samples[0].score and first["response"] == res_obj.samples[0].response
    tasks_pq = tmp_path / "tasks.parquet"
    assert tg(["export", str(run_dir), "-o", str(tasks_pq)], tg_home).returncode == 0
    tdf = pd.read_parquet(tasks_pq)
    assert tdf["value"].dtype == "float64" and tdf["n"].dtype == "int64"


def test_cli_export_errors(run_dir: Path, tmp_path: Path, tg_home: Path) -> None:
    for args, needle in (
        (["--format", "parquet"], "parquet is binary"),
        (["--format", "xml"], "bad --format"),
        (["--what", "runs"], "bad --what"),
        (["-o", str(tmp_path / "no" / "x.csv")], "folder does not exist"),
    ):
        res = tg(["export", str(run_dir), *args], tg_home)
        assert res.returncode == 2 and needle in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
    res = tg(["export", str(tmp_path)], tg_home)
    assert res.returncode == 2 and "missing run.json" in res.stderr
