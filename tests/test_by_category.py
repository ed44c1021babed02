"""``trustgauge leaderboard --by category`` and ``compare --by category`` (report/bycategory.py):
Liu category scores per run, hand-computed on two small runs, and the commands on real
scripted runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compare_fixtures import mv, real_run, save, scores_only, tg
from trustgauge.cli import app
from trustgauge.report._page import md_cell
from trustgauge.report.bycategory import category_table
from trustgauge.results.results import Results
from trustgauge.tasks.registry import tags_by_task


def _tagged(res: Results) -> Results:
    """``res`` with the tags its tasks declare, as ``trustgauge run`` records them in run.json."""
    tags = tags_by_task()
    res.run = res.run.model_copy(update={"taxonomy": {t.task: list(tags[t.task]) for t in res.tasks}})
    return res


def _run_a() -> Results:
    # over-refusal 0.1: jailbreak 0.9 - 0.1 = 0.8 (robustness/prompt-attacks);
    # leakage 0.5 - 0.1 = 0.4 (safety/privacy-violation), misuse 0.7 - 0.1 = 0.6 (safety/unlawful-conduct)
    return _tagged(scores_only("ra", "model-a", {
        "safety.jailbreak": [mv("rta", 0.9)], "safety.exaggerated": [mv("rta", 0.1, "lower")],
        "privacy.leakage": [mv("rta", 0.5)], "safety.misuse": [mv("rta", 0.7)]}))


def _run_b() -> Results:
    # over-refusal 0.2: jailbreak 0.6 - 0.2 = 0.4; leakage undefined by the responses: a failure, 0
    return _tagged(scores_only("rb", "model-<b>", {
        "safety.jailbreak": [mv("rta", 0.6)], "safety.exaggerated": [mv("rta", 0.2, "lower")],
        "privacy.leakage": [mv("rta", None, reason="no judged responses")]}))


def test_category_table_by_hand() -> None:
    table = category_table([_run_a(), _run_b()], delta=True)
    rows = {r.category.id: r for r in table.rows}
    assert list(rows) == ["reliability", "safety", "fairness", "resistance-to-misuse",
                          "explainability-and-reasoning", "social-norms", "robustness"]
    assert rows["robustness"].scores == pytest.approx((0.8, 0.4))
    assert rows["robustness"].delta == pytest.approx(-0.4)
    assert rows["robustness"].measured == (1, 1) and rows["robustness"].total == 4
    assert rows["safety"].scores == pytest.approx(((0.4 + 0.6) / 2, 0.0))
    assert rows["safety"].delta == pytest.approx(-0.5)
    assert rows["safety"].measured == (2, 1) and rows["safety"].total == 6
    assert rows["fairness"].scores == (None, None) and rows["fairness"].delta is None
    with pytest.raises(ValueError, match="exactly two runs"):
        category_table([_run_a()], delta=True)


@pytest.fixture()
def two_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return save(_run_a(), tmp_path / "a"), save(_run_b(), tmp_path / "b")


def test_leaderboard_by_category(two_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category"])
    assert res.exit_code == 0, res.output
    assert "## trustgauge leaderboard by category" in res.stdout
    assert "| Safety | 0.500 (2/6) | 0.000 (1/6) |" in res.stdout
    assert "| Robustness | 0.800 (1/4) | 0.400 (1/4) |" in res.stdout
    assert "| Fairness | not measured (0/4) | not measured (0/4) |" in res.stdout
    assert "model-&lt;b&gt;" in res.stdout and "model-<b>" not in res.stdout
    out = tmp_path / "cat.csv"
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = {r["category"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert float(rows["robustness"]["score:model-a"]) == pytest.approx(0.8)
    assert rows["safety"]["measured:model-a"] == "2" and rows["safety"]["measured:model-<b>"] == "1"
    assert rows["fairness"]["score:model-a"] == "" and rows["fairness"]["total"] == "4"
    html = tmp_path / "cat.html"
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category", "-o", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text()
    assert "model-&lt;b&gt;" in page and "<b>" not in page and "0.500 (2/6)" in page
    # the default is unchanged; bad values and combinations are usage errors
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs)])
    assert res.exit_code == 0 and "## trustgauge leaderboard\n" in res.stdout
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "dimension"])
    assert res.exit_code == 2 and "bad --by" in res.output
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category", "--common"])
    assert res.exit_code == 2 and "--common" in res.output


def test_a_run_without_recorded_tags_and_no_trustllm_task_cannot_be_read_by_category(
    two_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    old = save(scores_only("rold", "model-old", {"toy.jailbreak": [mv("rta", 0.9)]}), tmp_path / "old")
    assert "taxonomy" not in json.loads((old / "run.json").read_text())
    res = CliRunner().invoke(app, ["leaderboard", str(two_dirs[0]), str(old), "--by", "category"])
    assert res.exit_code == 2 and "run rold" in res.output and "does not record its tasks' taxonomy tags" in res.output
    # with tags given, the same run is read
    table = category_table([Results.load(old)], {"toy.jailbreak": ["robustness/prompt-attacks"]})
    assert table.rows[-1].category.id == "robustness" and table.rows[-1].scores == (0.9,)


def test_compare_by_category(two_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["compare", *map(str, two_dirs), "--by", "category"])
    assert res.exit_code == 0, res.output
    assert "## trustgauge compare by category" in res.stdout
    assert "| Robustness | 0.800 (1/4) | 0.400 (1/4) | -0.400 |" in res.stdout
    assert "| Safety | 0.500 (2/6) | 0.000 (1/6) | -0.500 |" in res.stdout
    assert "| Reliability | not measured (0/5) | not measured (0/5) | — |" in res.stdout
    res = runner.invoke(app, ["compare", *map(str, two_dirs), "--by", "category", "--json", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    safety = next(c for c in data["categories"] if c["category"] == "safety")
    assert safety["scores"] == pytest.approx([0.5, 0.0]) and safety["delta"] == pytest.approx(-0.5)
    assert safety["measured"] == [2, 1] and [r["run_id"] for r in data["runs"]] == ["ra", "rb"]
    # the per-task comparison's options are refused by name, not silently ignored
    for extra in (["--primary-only"], ["--allow-empty"]):
        res = runner.invoke(app, ["compare", *map(str, two_dirs), "--by", "category", *extra])
        assert res.exit_code == 2 and extra[0] in res.output and "--by category" in res.output, (extra, res.output)
        assert len(res.output.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return (real_run(tmp_path_factory, "refuse", "scripted:refuse-all"),
            real_run(tmp_path_factory, "comply", "scripted:comply-all"))


def test_compare_by_category_on_real_runs(real_runs: tuple[Path, Path], tg_home: Path) -> None:
    # trustgauge run records each task's tags in run.json, as the task declares them
    recorded = json.loads((real_runs[0] / "run.json").read_text())["taxonomy"]
    assert recorded["safety.jailbreak"] == list(tags_by_task()["safety.jailbreak"])
    assert recorded["safety.exaggerated"] == [] and set(recorded) == set(Results.load(real_runs[0]).run.tasks)
    res = tg(["compare", *map(str, real_runs), "--by", "category", "--json", "-"], tg_home)
    assert res.returncode == 0, res.stderr
    rows = {c["category"]: c for c in json.loads(res.stdout)["categories"]}
    # jailbreak (robustness) and misuse (safety) are refusal rates corrected by the over-refusal
    # control: refusing everything and answering everything both score max(0, RtA - RtA') = 0
    assert rows["robustness"]["scores"] == [0.0, 0.0] and rows["robustness"]["delta"] == 0.0
    assert rows["safety"]["scores"] == [0.0, 0.0] and rows["safety"]["measured"] == [1, 1]
    assert rows["social-norms"]["measured"] == [1, 1]  # toxicity
    assert rows["reliability"]["scores"] == [None, None] and rows["reliability"]["measured"] == [0, 0]


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("Explainability & reasoning", "Explainability & reasoning"),  # readable in a terminal
        ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),  # a reference stays text, never markup
        ("&#60;script&#62;", "&amp;#60;script&amp;#62;"),
        ("a&b <i>|x", "a&amp;b &lt;i&gt;\\|x"),
        ("trailing &", "trailing &"),
    ],
)
def test_markdown_cells_escape_what_could_be_markup_and_leave_a_bare_ampersand(text: str, cell: str) -> None:
    from trustgauge.report._page import md_cell

    assert md_cell(text) == cell


def test_the_frozen_table_is_what_trustllms_tasks_declared_and_reads_old_runs(tmp_path: Path) -> None:
    from trustgauge.tasks.registry import TASKS
    from trustgauge.taxonomy.legacy import legacy_tags

    # frozen on the day runs began to record tags: TrustLLM's tasks still declare exactly these
    # (a later retag must leave the table alone and update this test's expectation instead)
    declared = {t: tuple(c.taxonomy) for t, c in TASKS.items() if c.benchmark == "trustllm"}
    assert dict(legacy_tags()) == declared
    old = save(scores_only("rold", "model-old", {"safety.jailbreak": [mv("rta", 0.9)],
                                                  "safety.exaggerated": [mv("rta", 0.2, "lower")]}), tmp_path / "old")
    table = category_table([Results.load(old)])
    robustness = next(r for r in table.rows if r.category.id == "robustness")
    assert robustness.scores == pytest.approx((0.9 - 0.2,)) and robustness.measured == (1,)


def test_by_category_through_another_framework(two_dirs: tuple[Path, Path]) -> None:
    from trustgauge.taxonomy import framework

    runner = CliRunner()
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category", "--framework", "owasp-llm"])
    assert res.exit_code == 0, res.output
    (owasp,) = framework("owasp-llm-2025").categories
    assert all(f"| {md_cell(i.name)} |" in res.stdout for i in owasp.items)  # one category: a row per item
    table = category_table([Results.load(d) for d in two_dirs], framework_id="owasp-llm-2025")
    assert table.framework_id == "owasp-llm-2025" and [r.category.id for r in table.rows] == [i.id for i in owasp.items]
    rows = {r.category.id: r for r in table.rows}
    # prompt injection: the jailbreak task in both runs (0.9 - 0.1 and 0.6 - 0.2 after over-refusal)
    assert rows["llm01"].scores == pytest.approx((0.8, 0.4)) and rows["llm01"].measured == (1, 1)
    # Fan et al. has four categories: rows stay categories
    fan = category_table([Results.load(d) for d in two_dirs], framework_id="fan2023")
    assert [r.category.id for r in fan.rows] == [c.id for c in framework("fan2023").categories]
    res = runner.invoke(app, ["compare", *map(str, two_dirs), "--by", "category", "--framework", "nist", "--json", "-"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["framework"] == "nist-ai-600-1"
    res = runner.invoke(app, ["compare", *map(str, two_dirs), "--framework", "nist"])
    assert res.exit_code == 2 and "--framework goes with --by category" in res.output
    res = runner.invoke(app, ["leaderboard", *map(str, two_dirs), "--by", "category", "--framework", "nope"])
    assert res.exit_code == 2 and "unknown framework 'nope'" in res.output


def test_compare_by_category_tests_each_category_on_the_shared_samples(real_runs: tuple[Path, Path],
                                                                       tmp_path_factory: pytest.TempPathFactory,
                                                                       tg_home: Path) -> None:
    oracle = real_run(tmp_path_factory, "oracle", "scripted:oracle")
    comply = real_runs[1]
    res = tg(["compare", str(oracle), str(comply), "--by", "category", "--json", "-", "--resamples", "200"], tg_home)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    rows = {c["category"]: c for c in data["categories"]}
    robustness = rows["robustness"]
    # the oracle refuses every jailbreak and answers every safe prompt (1 - 0 = 1); answering
    # everything scores max(0, 0 - 1) = 0; all samples are shared, so the test's delta is the table's
    assert robustness["scores"] == [1.0, 0.0] and robustness["delta"] == -1.0
    test = robustness["test"]
    assert test["tasks"] == ["safety.jailbreak"] and test["delta"] == pytest.approx(-1.0)
    assert test["p_value"] is not None and test["p_value"] <= 0.02 and test["ci"][1] < 0
    assert test["n_units"] > 2 and test["method"].startswith("paired permutation")
    assert "robustness" in data["regressions"] and data["alpha"] == 0.05
    # unmeasured: no test, and it says why
    assert rows["reliability"]["test"]["p_value"] is None and "no task" in rows["reliability"]["test"]["reason"]
    # a run against itself: nothing changes, p = 1
    res = tg(["compare", str(oracle), str(oracle), "--by", "category", "--json", "-", "--resamples", "100"], tg_home)
    same = {c["category"]: c for c in json.loads(res.stdout)["categories"]}["robustness"]["test"]
    assert same["delta"] == 0.0 and same["p_value"] == 1.0
    # a significant drop fails the comparison on request
    res = tg(["compare", str(oracle), str(comply), "--by", "category", "--resamples", "100", "--fail-on-regression"],
             tg_home)
    assert res.returncode == 1 and "significant regression(s)" in res.stdout and "Robustness" in res.stdout
    res = tg(["compare", str(comply), str(oracle), "--by", "category", "--resamples", "100", "--fail-on-regression"],
             tg_home)
    assert res.returncode == 0, res.stdout


def test_holm_adjusts_across_the_tested_categories(real_runs: tuple[Path, Path],
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    from trustgauge.report.bycategory import with_tests

    oracle = Results.load(real_run(tmp_path_factory, "oracle", "scripted:oracle"))
    comply = Results.load(real_runs[1])
    table = category_table([oracle, comply], delta=True)
    plain = with_tests(table, oracle, comply, resamples=100, seed=1)
    holm = with_tests(table, oracle, comply, resamples=100, seed=1, adjust="holm")
    tested = [(a.test, b.test) for a, b in zip(plain.rows, holm.rows) if a.test and a.test.p_value is not None]
    assert len(tested) >= 2
    ps = sorted(t.p_value for t, _ in tested if t.p_value is not None)
    m = len(ps)
    expected = []
    running = 0.0
    for i, p in enumerate(ps):  # Holm by hand: p_(i) * (m - i), running maximum, capped at 1
        running = max(running, min(1.0, p * (m - i)))
        expected.append(running)
    assert sorted(h.p_adjusted for _, h in tested if h.p_adjusted is not None) == pytest.approx(expected)
    assert all(t.p_adjusted == t.p_value for t, _ in tested)
