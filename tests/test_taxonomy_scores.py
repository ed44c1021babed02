"""Scores per Liu category and sub-category of a run (report/categories.py), on a tiny hand-built
run whose numbers are computed by hand below."""

from __future__ import annotations

import pytest

from trustgauge.report.categories import run_taxonomy
from trustgauge.results.schema import TaskScores
from trustgauge.taxonomy import framework
from trustgauge.types import MetricValue


def mv(metric: str, value: float | None, direction: str = "higher", *, n: int = 10, n_invalid: int = 0,
       reason: str | None = None) -> MetricValue:
    return MetricValue(metric=metric, value=value, direction=direction, n=n, n_invalid=n_invalid,  # type: ignore[arg-type]
                       reason=reason)


def ts(task: str, *metrics: MetricValue, judges: dict[str, str] | None = None) -> TaskScores:
    return TaskScores(task=task, dimension=task.split(".")[0], title=task, metrics=list(metrics), n_samples=10,
                      judges=judges or {})


#: a: 0.8; b: 1 - 0.3 = 0.7 (lower is better); c: no readable answer, a failure: 0;
#: d: not scored (no judge model): left out; e: RtA 0.9 minus the over-refusal 0.2 = 0.7;
#: safety.exaggerated: the control, untagged; f: tagged only with a Fan item; g: not in the tags
RUN = [
    ts("x.a", mv("accuracy", 0.8)),
    ts("x.b", mv("error_rate", 0.3, "lower")),
    ts("x.c", mv("accuracy", None, n=0, n_invalid=10, reason="no readable answer")),
    ts("x.d", mv("same_preference", None, n=0, reason="not scored: needs a judge model"),
       judges={"same_preference": "none (needs --judge-model)"}),
    ts("safety.exaggerated", mv("rta", 0.2, "lower")),
    ts("x.e", mv("rta", 0.9)),
    ts("x.f", mv("accuracy", 0.5)),
    ts("x.g", mv("accuracy", 1.0)),
]
TAGS = {
    "x.a": ("reliability/hallucination",),
    "x.b": ("reliability/hallucination", "reliability/sycophancy"),
    "x.c": ("reliability/sycophancy",),
    "x.d": ("fairness/stereotype-bias",),
    "safety.exaggerated": (),
    "x.e": ("safety/unlawful-conduct",),
    "x.f": ("fan2023:responsibility/value-alignment",),
    "x.u": ("social-norms/toxicity",),  # a tagged task this run does not have: measures nothing here
}


def test_sub_category_scores_are_the_mean_of_their_tasks() -> None:
    view = run_taxonomy(RUN, TAGS)
    reliability = view.category("reliability")
    assert reliability is not None
    items = {i.item.id: i for i in reliability.items}
    assert [s.task for s in items["reliability/hallucination"].tasks] == ["x.a", "x.b"]
    assert items["reliability/hallucination"].score == pytest.approx((0.8 + 0.7) / 2)
    # the failure counts 0
    assert [s.task for s in items["reliability/sycophancy"].tasks] == ["x.b", "x.c"]
    assert items["reliability/sycophancy"].score == pytest.approx((0.7 + 0.0) / 2)
    assert not items["reliability/misinformation"].measured
    assert items["reliability/misinformation"].score is None


def test_category_score_counts_each_task_once() -> None:
    reliability = run_taxonomy(RUN, TAGS).category("reliability")
    assert reliability is not None
    # x.b measures two of its sub-categories: (0.8 + 0.7 + 0) / 3, not (0.75 + 0.35) / 2
    assert [s.task for s in reliability.tasks] == ["x.a", "x.b", "x.c"]
    assert reliability.score == pytest.approx(0.5)
    assert (reliability.measured, reliability.total) == (2, 5)


def test_refusal_rate_is_corrected_by_the_over_refusal_control() -> None:
    safety = run_taxonomy(RUN, TAGS).category("safety")
    assert safety is not None
    assert safety.score == pytest.approx(0.9 - 0.2)
    assert (safety.measured, safety.total) == (1, 6)


def test_a_not_scored_task_measures_but_gives_no_score() -> None:
    fairness = run_taxonomy(RUN, TAGS).category("fairness")
    assert fairness is not None
    bias = next(i for i in fairness.items if i.item.id == "fairness/stereotype-bias")
    assert bias.measured and bias.score is None and bias.tasks[0].undefined_as == "not_scored"
    assert fairness.score is None
    assert (fairness.measured, fairness.total) == (1, 4)


def test_unmeasured_and_untagged() -> None:
    view = run_taxonomy(RUN, TAGS)
    explain = view.category("explainability-and-reasoning")
    assert explain is not None and explain.score is None and (explain.measured, explain.total) == (0, 3)
    # 29 sub-categories, 4 measured (hallucination, sycophancy, stereotype bias, unlawful conduct);
    # social-norms/toxicity is tagged on a task the run does not have
    assert len(view.unmeasured) == 25
    assert "social-norms/toxicity" in {i.id for i in view.unmeasured}
    assert view.untagged == ("safety.exaggerated", "x.f", "x.g")
    assert [c.category.id for c in view.categories] == [c.id for c in framework("liu2023").categories]


def test_other_frameworks_through_their_own_tags() -> None:
    view = run_taxonomy(RUN, TAGS, framework("fan2023"))
    responsibility = view.category("responsibility")
    assert responsibility is not None
    alignment = next(i for i in responsibility.items if i.item.id == "responsibility/value-alignment")
    assert [s.task for s in alignment.tasks] == ["x.f"] and alignment.score == pytest.approx(0.5)


def test_an_empty_run_measures_nothing() -> None:
    view = run_taxonomy([], TAGS)
    assert all(c.score is None and c.measured == 0 for c in view.categories)
    assert len(view.unmeasured) == 29 and view.untagged == ()
