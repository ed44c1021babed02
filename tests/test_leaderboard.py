"""trustgauge leaderboard: ranks (direction-aware, ties, missing values) by hand, mean ranks
per dimension and overall, the three formats, and the command on real scripted runs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from compare_fixtures import mv, real_run, save, scores_only, tg
from trustgauge.report.leaderboard import (
    build_leaderboard,
    render_csv,
    render_html,
    render_markdown,
)
from trustgauge.report.stats import competition_ranks
from trustgauge.results.results import Results


def test_competition_ranks_by_hand() -> None:
    assert competition_ranks([0.9, 0.8, 0.9, None], "higher") == [1, 3, 1, 4]
    assert competition_ranks([0.9, 0.8, 0.9, None], "lower") == [2, 1, 2, 4]
    assert competition_ranks([None, 0.5, None], "higher") == [2, 1, 2]  # missing share last
    assert competition_ranks([None, None], "higher") == [1, 1]
    assert competition_ranks([0.1 + 0.2, 0.3], "higher") == [1, 1]  # float noise is a tie
    assert competition_ranks([float("nan"), 1.0], "lower") == [2, 1]


def _four_runs() -> list[Results]:
    return [
        scores_only("ra", "model-a", {
            "safety.jailbreak": [mv("rta", 0.9)], "safety.exaggerated": [mv("rta", 0.10, "lower")],
            "privacy.leakage": [mv("rta", 0.5), mv("td", 0.1, "lower")]}),
        scores_only("rb", "model-b", {
            "safety.jailbreak": [mv("rta", 0.9)], "safety.exaggerated": [mv("rta", 0.20, "lower")],
            "privacy.leakage": [mv("rta", None, reason="no judged responses")]}),
        scores_only("rc", "model-c", {
            "safety.jailbreak": [mv("rta", 0.7)], "safety.exaggerated": [mv("rta", 0.05, "lower")]}),
        scores_only("rd", "model-d", {
            "safety.jailbreak": [mv("rta", 0.95)], "safety.exaggerated": [mv("rta", 0.10, "lower")],
            "privacy.leakage": [mv("rta", 0.8)]}),
    ]


def test_ranks_and_mean_ranks_by_hand() -> None:
    board = build_leaderboard(_four_runs())
    assert [c.key for c in board.columns] == ["safety.jailbreak:rta", "safety.exaggerated:rta", "privacy.leakage:rta"]
    assert board.dimensions == ["safety", "privacy"]
    e = {x.label: x for x in board.entries}
    # jailbreak ↑: d .95 -> 1; a, b .9 tie -> 2, 2; c .7 -> 4
    assert [e[m].ranks["safety.jailbreak"] for m in ("model-a", "model-b", "model-c", "model-d")] == [2, 2, 4, 1]
    # exaggerated ↓: c .05 -> 1; a, d .10 -> 2, 2; b .20 -> 4
    assert [e[m].ranks["safety.exaggerated"] for m in ("model-a", "model-b", "model-c", "model-d")] == [2, 4, 1, 2]
    # leakage ↑: d .8 -> 1, a .5 -> 2; b undefined and c not run share the last rank, 3
    assert [e[m].ranks["privacy.leakage"] for m in ("model-a", "model-b", "model-c", "model-d")] == [2, 3, 3, 1]
    assert e["model-b"].reasons["privacy.leakage"] == "no judged responses"
    assert e["model-c"].reasons["privacy.leakage"] == "not run"
    # per dimension: the mean of the sub-task ranks
    assert e["model-a"].dimension_ranks == {"safety": 2.0, "privacy": 2.0}
    assert e["model-b"].dimension_ranks == {"safety": 3.0, "privacy": 3.0}
    assert e["model-c"].dimension_ranks == {"safety": 2.5, "privacy": 3.0}
    assert e["model-d"].dimension_ranks == {"safety": 1.5, "privacy": 1.0}
    # overall: the mean over all sub-tasks
    assert e["model-a"].mean_rank == pytest.approx(2.0)
    assert e["model-b"].mean_rank == pytest.approx(3.0)
    assert e["model-c"].mean_rank == pytest.approx(8 / 3)
    assert e["model-d"].mean_rank == pytest.approx(4 / 3)
    assert [(x.position, x.label) for x in board.entries] == [
        (1, "model-d"), (2, "model-a"), (3, "model-c"), (4, "model-b")]
    assert [x.coverage for x in board.entries] == [3, 3, 2, 2]


def test_ties_share_a_position_and_common_only() -> None:
    runs = [*_four_runs()[:1], scores_only("ra2", "model-a", {"safety.jailbreak": [mv("rta", 0.9)], "safety.exaggerated": [mv("rta", 0.1, "lower")], "privacy.leakage": [mv("rta", 0.5)]})]
    board = build_leaderboard(runs)
    assert [x.position for x in board.entries] == [1, 1]
    # the same model twice: labelled by run id
    assert {x.label for x in board.entries} == {"model-a (ra)", "model-a (ra2)"}
    common = build_leaderboard(_four_runs(), common_only=True)
    assert [c.task for c in common.columns] == ["safety.jailbreak", "safety.exaggerated"]


def test_a_column_without_values_is_shown_not_ranked() -> None:
    runs = [
        scores_only("x", "mx", {"safety.jailbreak": [mv("rta", 0.5)], "privacy.awareness.confaide": [mv("pearson", None)]}),
        scores_only("y", "my", {"safety.jailbreak": [mv("rta", 0.7)], "privacy.awareness.confaide": [mv("pearson", None)]}),
    ]
    board = build_leaderboard(runs)
    col = next(c for c in board.columns if c.task == "privacy.awareness.confaide")
    assert not col.ranked
    assert board.entries[0].label == "my" and board.entries[0].mean_rank == 1.0
    assert "privacy" not in board.entries[0].dimension_ranks
    assert "Not ranked (no run has a value): privacy.awareness.confaide:pearson" in render_markdown(board)


def test_formats() -> None:
    board = build_leaderboard(_four_runs())
    md = render_markdown(board)
    assert "| 1 | model-d | 1.33 | 1.50 | 1.00 | 3/3 |" in md
    assert "**0.950 (1)**" in md and "— (3)" in md
    rows = list(csv.DictReader(io.StringIO(render_csv(board))))
    assert [r["model"] for r in rows] == ["model-d", "model-a", "model-c", "model-b"]
    assert rows[0]["position"] == "1" and float(rows[0]["mean_rank"]) == pytest.approx(4 / 3, abs=1e-6)
    assert rows[0]["safety.jailbreak:rta"] == "0.95" and rows[0]["rank:safety.jailbreak"] == "1"
    assert rows[3]["privacy.leakage:rta"] == "" and rows[3]["rank:privacy.leakage"] == "3"
    assert float(rows[2]["rank:safety"]) == 2.5
    html = render_html(board)
    assert html.startswith("<!doctype html>") and "model-d" in html and "<script" not in html


def test_html_and_markdown_escape_model_names() -> None:
    evil = "<img src=x onerror=alert(1)>|x"
    board = build_leaderboard([scores_only("r", evil, {"safety.jailbreak": [mv("rta", 0.5)]})])
    html = render_html(board)
    assert "<img" not in html and "&lt;img" in html
    md = render_markdown(board)
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;\\|x" in md


# --------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [real_run(tmp_path_factory, "refuse", "scripted:refuse-all"),
            real_run(tmp_path_factory, "comply", "scripted:comply-all")]


def test_cli_leaderboard_real_runs(real_runs: list[Path], tmp_path: Path, tg_home: Path) -> None:
    res = tg(["leaderboard", *map(str, real_runs)], tg_home)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("## trustgauge leaderboard") and "scripted:refuse-all" in res.stdout
    out = tmp_path / "board.csv"
    res = tg(["leaderboard", *map(str, real_runs), "-o", str(out)], tg_home)
    assert res.returncode == 0, res.stderr
    rows = {r["model"]: r for r in csv.DictReader(out.open())}
    refuse, comply = Results.load(real_runs[0]), Results.load(real_runs[1])
    # the values are those of scores.json; refusing wins jailbreak, complying wins exaggerated safety
    assert float(rows["scripted:refuse-all"]["safety.jailbreak:rta"]) == refuse.metric("safety.jailbreak").value  # type: ignore[union-attr]
    assert float(rows["scripted:comply-all"]["safety.exaggerated:rta"]) == comply.metric("safety.exaggerated").value  # type: ignore[union-attr]
    assert rows["scripted:refuse-all"]["rank:safety.jailbreak"] == "1"
    assert rows["scripted:comply-all"]["rank:safety.exaggerated"] == "1"
    html = tmp_path / "board.html"
    res = tg(["leaderboard", *map(str, real_runs), "--format", "html", "-o", str(html)], tg_home)
    assert res.returncode == 0 and "<table>" in html.read_text()


def test_cli_leaderboard_errors(real_runs: list[Path], tmp_path: Path, tg_home: Path) -> None:
    res = tg(["leaderboard", str(real_runs[0]), "--format", "xlsx"], tg_home)
    assert res.returncode == 2 and "bad --format" in res.stderr
    res = tg(["leaderboard", str(real_runs[0]), str(tmp_path / "missing")], tg_home)
    assert res.returncode == 2 and "not a trustgauge run directory" in res.stderr
    only = save(scores_only("z", "mz", {"ethics.emotional_awareness": [mv("accuracy", 0.5)]}), tmp_path / "z")
    res = tg(["leaderboard", str(real_runs[0]), str(only), "--common"], tg_home)
    assert res.returncode == 2 and "no sub-task to rank that every run has" in res.stderr
