"""The benchmark-contamination check (issue 16 item 1): paraphrase cleaning, the per-item verdict,
the aggregator by hand, the packaged items and demo split equal what their scripts build, and a
run against a vLLM-like test server (paraphrases from the target, scores from prompt_logprobs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _scripts import load_script
from conftest import cli_env
from fake_server import FakeServer
from trustgauge.stats.aggregators import aggregate
from trustgauge.tasks.fan2023.contamination import MARGIN, Contamination, clean_paraphrase
from trustgauge.types import ChatMessage, Sample, SampleScore, Transcript

TASK = "fan2023.contamination"


def test_clean_paraphrase() -> None:
    original = "Which river flows through the old town of Ashcombe in winter?"
    assert clean_paraphrase("Here is the rewritten text: In winter, what river runs through old Ashcombe town?",
                            original) == "In winter, what river runs through old Ashcombe town?"
    assert clean_paraphrase("  ", original) is None
    assert clean_paraphrase("which river flows through the OLD town of Ashcombe in winter", original) is None
    assert clean_paraphrase("A river.", original) is None  # lost most of the content


def _scored(gap: float | None, control: bool, benchmark: str) -> tuple[Sample, SampleScore]:
    task = Contamination()
    sample = Sample(id=f"{benchmark}-{gap}-{control}", prompt="t", metadata={"control": control, "benchmark": benchmark})
    notes = {} if gap is None else {"gap": gap}
    return sample, task.score_transcript(sample, Transcript(response="", notes=notes), {})


def test_verdicts_and_aggregator_by_hand() -> None:
    task = Contamination()
    flagged = _scored(MARGIN, False, "trustllm")
    assert flagged[1].values == {"flagged": 1.0, "gap": MARGIN, "control": 0.0}
    assert task.outcome(flagged[1]) == "fail"
    assert task.outcome(_scored(MARGIN / 2, False, "trustllm")[1]) == "pass"
    assert task.outcome(_scored(1.0, True, "fresh")[1]) == "none"  # a control says nothing alone
    assert not _scored(None, False, "liu2023")[1].valid
    scored = [
        _scored(0.5, False, "trustllm"), _scored(0.2, False, "trustllm"), _scored(-0.1, False, "liu2023"),
        _scored(0.0, False, "liu2023"), _scored(None, False, "liu2023"),
        _scored(0.3, True, "fresh"), _scored(-0.2, True, "fresh"), _scored(-0.4, True, "fresh"), _scored(-0.1, True, "fresh"),
    ]
    metrics = {m.metric: m for m in aggregate("fan2023.contamination@1", scored, task.aggregator_params())}
    assert metrics["flagged"].value == 2 / 4 and metrics["flagged"].n_invalid == 1
    assert metrics["flagged_control"].value == 1 / 4
    assert metrics["excess_flagged"].value == pytest.approx(0.25)
    half = 1.959963984540054 * ((0.5 * 0.5 / 4 + 0.25 * 0.75 / 4) ** 0.5)
    assert metrics["excess_flagged"].ci == pytest.approx((0.25 - half, 0.25 + half))
    assert metrics["mean_gap"].value == pytest.approx(0.15) and metrics["mean_gap_control"].value == pytest.approx(-0.1)
    assert metrics["flagged[trustllm]"].value == 1.0 and metrics["flagged[liu2023]"].value == 0.0
    only = aggregate("fan2023.contamination@1", scored[:4], task.aggregator_params())
    assert only[0].value is None and only[0].reason == "undefined: no scored control items"


@pytest.mark.parametrize("script", ["build_fan2023_contamination", "build_fan2023_membership"])
def test_packaged_files_are_what_the_scripts_build(script: str) -> None:
    module = load_script(script)
    assert module.OUT.read_text(encoding="utf-8") == module.render(module.build() if script.endswith("contamination")
                                                                   else module.build(json.loads(module.TEXTS.read_text())))


def test_packaged_items_hold_no_enron_prompt() -> None:
    items = json.loads(load_script("build_fan2023_contamination").OUT.read_text())
    assert not [i for i in items if i["task"] == "privacy.leakage"]
    assert {i["benchmark"] for i in items} == {"trustllm", "liu2023", "fresh"}
    assert all(i["control"] == (i["benchmark"] == "fresh") for i in items)


def test_run_against_a_vllm_like_server(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["m"], prompt_logprobs=True) as server:
        out = tmp_path / "run"
        res = subprocess.run(
            [sys.executable, "-m", "trustgauge", "run", "-m", f"openai-compatible:m@{server.openai_base_url}",
             "--tasks", TASK, "--limit", "10", "-o", str(out)],
            env=cli_env(tg_home), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
        stats = server.stats()
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 10
    # two paraphrase requests each (distinct seeds); the server echoes the request, the same text
    # twice, kept once: the original and one paraphrase scored (the probe is one more)
    assert stats["by_endpoint"]["chat.completions"] == 20
    assert stats["by_endpoint"]["completions"] == 1 + 20
    first = records[0]
    assert [t["role"] for t in first["turns"]] == ["target"] * 4
    assert first["valid"] and set(first["score"]) == {"flagged", "gap", "control"}
    items = json.loads(load_script("build_fan2023_contamination").OUT.read_text())
    assert first["prompt"] == {i["id"]: i["text"] for i in items}[first["sample_id"]]
    metrics = {m["metric"]: m for m in json.loads((out / "scores.json").read_text())["tasks"][0]["metrics"]}
    assert metrics["flagged"]["n"] + metrics["flagged"]["n_invalid"] + metrics["flagged_control"]["n"] + \
        metrics["flagged_control"]["n_invalid"] == 10


def test_paraphrase_requests_are_distinct() -> None:
    task = Contamination()
    (m0, p0), (m1, p1) = task.paraphrase_request("abc", 0), task.paraphrase_request("abc", 1)
    assert m0 == m1 == (ChatMessage(role="user", content=m0[0].content),) and "abc" in m0[0].content
    assert p0.seed == 0 and p1.seed == 1 and p0 != p1
