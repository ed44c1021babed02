"""Baselines (issue 11, item 3): refuse-all, comply-all and the oracle on the quick suite and
on the full TrustLLM release. The oracle must score clearly above both trivial policies in
every dimension, refusing everything must not look trustworthy anywhere, and
docs/baselines.md must show exactly what scripts/make_baselines_doc.py computes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _scripts import load_script
from conftest import REPO, _model_cache

#: how far above both trivial policies the oracle must score in every dimension
MARGIN = 0.4


SCRIPT = load_script("make_baselines_doc")


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module-scoped fixtures run before the per-test home is set: give them their own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUSTGAUGE_HOME", str(tmp_path_factory.mktemp("baselines_home")))
        mp.setenv("TRUSTGAUGE_MODEL_CACHE", str(_model_cache(tmp_path_factory)))
        mp.delenv("TRUSTGAUGE_DATA_DIR", raising=False)
        yield


@pytest.fixture(scope="module")
def quick(isolated: None) -> dict[str, Any]:
    result: dict[str, Any] = SCRIPT.run_baselines("quick")
    return result


@pytest.fixture(scope="module")
def full(isolated: None) -> dict[str, Any]:
    data = REPO.parent / "shared" / "data" / "trustllm"
    if not data.is_dir():
        pytest.skip("../shared/data/trustllm is not present")
    result: dict[str, Any] = SCRIPT.run_baselines("trustllm", data)
    return result


def check_oracle_above(baselines: dict[str, Any]) -> None:
    oracle = baselines["oracle"].dimensions
    assert list(oracle) == ["truthfulness", "safety", "fairness", "robustness", "privacy", "ethics"]
    for dim, d in oracle.items():
        others = {m: baselines[m].dimensions[dim].score for m in ("refuse-all", "comply-all")}
        assert d.score is not None and all(v is not None for v in others.values()), (dim, others)
        assert d.score >= max(others.values()) + MARGIN, (dim, d.score, others)
    # refusing everything looks trustworthy nowhere (it scored fairness and privacy 1.00 before)
    refuse = baselines["refuse-all"].dimensions
    assert all(d.score is not None and d.score <= 0.5 for d in refuse.values()), {
        k: d.score for k, d in refuse.items()}
    # its unreadable sub-tasks count as failures, and say why
    failed = [t for t, s in baselines["refuse-all"].tasks.items() if s.undefined_as == "failure"]
    assert "fairness.stereotype.recognition" in failed and "privacy.awareness.confaide" in failed
    assert all(baselines["refuse-all"].tasks[t].reason for t in failed)


def check_doc(suite: str, baselines: dict[str, Any]) -> None:
    text = SCRIPT.DOC.read_text(encoding="utf-8")
    begin, end = SCRIPT.begin(suite), SCRIPT.end(suite)
    shown = text[text.index(begin) + len(begin) : text.index(end)].strip()
    assert shown == SCRIPT.table(suite, baselines), (
        "docs/baselines.md is out of date: run python scripts/make_baselines_doc.py"
    )


def test_oracle_above_refuse_all_and_comply_all_quick(quick: dict[str, Any]) -> None:
    check_oracle_above(quick)


def test_baselines_doc_matches_quick(quick: dict[str, Any]) -> None:
    check_doc("quick", quick)


@pytest.mark.slow
def test_oracle_above_refuse_all_and_comply_all_full_release(full: dict[str, Any]) -> None:
    check_oracle_above(full)


@pytest.mark.slow
def test_baselines_doc_matches_full_release(full: dict[str, Any]) -> None:
    check_doc("trustllm", full)


def test_check_mode_flags_a_stale_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        quick: dict[str, Any]) -> None:
    stale = tmp_path / "baselines.md"
    text = SCRIPT.DOC.read_text(encoding="utf-8")
    stale.write_text(text.replace("| privacy |", "| privacy (stale) |", 1), encoding="utf-8")
    monkeypatch.setattr(SCRIPT, "DOC", stale)
    monkeypatch.setattr(SCRIPT, "ROOT", tmp_path)
    monkeypatch.setattr(SCRIPT, "run_baselines", lambda suite, data_dir=None: quick)
    assert SCRIPT.main(["--suites", "quick", "--check"]) == 1
    assert SCRIPT.main(["--suites", "quick"]) == 0  # rewrites it
    assert SCRIPT.main(["--suites", "quick", "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == text


#: the oracle's task score stays below 1 here by construction: the similarity gap between the
#: honest and the sycophantic reference answers, which resemble each other
BELOW_ONE = {"truthfulness.sycophancy.persona"}


def check_oracle_per_task(tasks: dict[str, Any]) -> None:
    for name, s in tasks.items():
        if s.undefined_as in ("not_scored", "nothing_to_score"):
            # only the sub-tasks that need a judge model, and toxicity when every jailbreak is refused
            assert name in ("truthfulness.sycophancy.preference", "truthfulness.adversarial_factuality",
                            "safety.toxicity", "robustness.advinstruction"), (name, s)
            continue
        assert s.undefined_as is None, (name, s)
        assert s.score >= (0.6 if name in BELOW_ONE else 0.99), (name, s.score)


def test_oracle_answers_every_sub_task_right(quick: dict[str, Any]) -> None:
    check_oracle_per_task(quick["oracle"].tasks)


def test_oracle_answers_right_for_trustllms_readers_too(isolated: None, tmp_path: Path) -> None:
    """In reference mode (TrustLLM's own readers) the oracle's answers read the same."""
    import asyncio

    from trustgauge.config import ModelConfig
    from trustgauge.pipeline.run import RunConfig, run_evaluation
    from trustgauge.report.writer import RENDERERS
    from trustgauge.results.dimensions import task_summaries

    config = RunConfig(model=ModelConfig(model="scripted:oracle"), suite="quick", reference=True,
                       out=tmp_path / "run", store_path=tmp_path / "store.sqlite")
    result = asyncio.run(run_evaluation(config, renderers=RENDERERS))
    check_oracle_per_task({s.task: s for s in task_summaries(result.scores.tasks)})


def test_oracle_texts_are_the_scripted_ones() -> None:
    from trustgauge.models.scripted import COMPLIANCE, REFUSAL
    from trustgauge.tasks._common import ORACLE_ANSWER, ORACLE_REFUSAL

    assert (ORACLE_REFUSAL, ORACLE_ANSWER) == (REFUSAL, COMPLIANCE)
