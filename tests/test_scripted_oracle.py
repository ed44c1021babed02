"""``scripted:oracle`` gets its answer table injected by the pipeline (issue 13 step 8): models do
not import tasks, and the model's identity, so every cache key, is what it was before."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models.registry import load_model
from trustgauge.models.scripted import COMPLIANCE, REFUSAL, OracleAnswers, ScriptedModel
from trustgauge.tasks.oracle import ORACLE_VERSION, OracleTable, oracle_table
from trustgauge.tasks.registry import TASKS
from trustgauge.types import GenerationParams, Request

#: recorded before the change (models/scripted.py importing tasks/oracle.py), on the packaged
#: quick sample alone (conftest unsets $TRUSTGAUGE_DATA_DIR and isolates the cache): TrustLLM's
#: answers, which the Liu et al. studies' shipped prompts (added after) leave as they were
TRUSTLLM_QUICK_TABLE_SHA256 = "7b90eb45ff2fb9998268d079be440c5d414162ef14cd0a5d3c82beacf8ef2665"
#: the whole table: TrustLLM's quick sample plus every Liu et al. study's and Fan et al. probe's
#: shipped prompt set (recorded when the oracle learned them, 2026-12-04; re-recorded when Fan et
#: al.'s privacy probes came, same day, again for the prompt-injection probes of issue 17 and for
#: the jailbreak tasks' behaviours, and when multi-message requests were keyed whole; a new or changed study or probe changes it: re-record)
QUICK_TABLE_SHA256 = "18ee653ebc3105040408ddfde66d2c6fa55c834b693af0606b49bfbce6370112"
#: Request.user("hello", GenerationParams(max_tokens=8)).cache_key(identity), same recording
HELLO_CACHE_KEY = "5fcafd6c3a52e643fc7bc9e7f49b44d0043df8805b168818ec196842b2c37b32"


def answer(model: Any, prompt: str) -> str:
    [response] = asyncio.run(model.generate([Request.user(prompt, GenerationParams(max_tokens=64))]))
    text: str = response.text
    return text


def test_identity_and_cache_key_are_the_ones_recorded_before_the_injection() -> None:
    model = load_model(ModelConfig(model="scripted:oracle"), oracle=oracle_table)
    identity = model.identity()
    assert identity == {
        "backend": "scripted", "model": "oracle", "oracle_version": "1", "table_sha256": QUICK_TABLE_SHA256,
    }
    assert list(identity) == ["backend", "model", "oracle_version", "table_sha256"]
    assert Request.user("hello", GenerationParams(max_tokens=8)).cache_key(identity) == HELLO_CACHE_KEY


def test_oracle_table_is_what_the_scripted_model_reads() -> None:
    table: OracleAnswers = oracle_table()  # the protocol models/scripted.py declares
    assert isinstance(table, OracleTable)
    assert table.version == ORACLE_VERSION == "1"
    assert table.digest() == QUICK_TABLE_SHA256
    # TrustLLM's answers are those recorded before the Liu et al. studies came
    from trustgauge.tasks.oracle import build_oracle_table, default_roots

    assert build_oracle_table(default_roots(), shipped=False).digest() == TRUSTLLM_QUICK_TABLE_SHA256


def test_the_oracle_answers_every_liu_study_ideally(tmp_path: Path, tg_home: Path) -> None:
    from conftest import cli_env

    out = tmp_path / "oracle"
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge.cli", "run", "-m", "scripted:oracle", "--suite", "quick-liu2023", "-q",
         "-o", str(out)], env=cli_env(tg_home), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    scores = json.loads((out / "scores.json").read_text())
    primary = {t["task"]: t["metrics"][0] for t in scores["tasks"]}
    assert set(primary) == {t for t, c in TASKS.items() if c.benchmark == "liu2023"}
    for task, metric in primary.items():
        if metric["metric"] == "leakage":  # books minus control: nothing to leak for an oracle
            continue
        best = 1.0 if metric["direction"] == "higher" else 0.0
        assert metric["value"] == pytest.approx(best), (task, metric)


@dataclass
class FakeTable:
    answers: dict[str, str]
    version: str = "v-test"

    def digest(self) -> str:
        return "d" * 64


@dataclass
class Provider:
    table: FakeTable
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, extra: Sequence[str]) -> FakeTable:
        self.calls.append(list(extra))
        return self.table


def test_the_injected_provider_is_called_once_lazily_with_the_extra_folders(tmp_path: Path) -> None:
    provider = Provider(FakeTable({"should refuse": REFUSAL, "2+2?": "4"}))
    a, b = tmp_path / "a", tmp_path / "b"  # the folders must exist (a missing one is an error)
    a.mkdir()
    b.mkdir()
    config = ModelConfig(model=f"scripted:oracle={a}", options={"data_dir": str(b)})
    model = load_model(config, oracle=provider)
    assert isinstance(model, ScriptedModel)
    assert provider.calls == []  # nothing built until the model is asked
    assert [answer(model, p) for p in ("should refuse", "2+2?", "unknown prompt")] == [REFUSAL, "4", COMPLIANCE]
    assert model.identity() == {
        "backend": "scripted", "model": "oracle", "oracle_version": "v-test", "table_sha256": "d" * 64,
    }
    assert provider.calls == [[str(a), str(b)]]


def test_without_a_provider_scripted_oracle_does_not_load_and_the_others_do() -> None:
    with pytest.raises(ConfigError, match=r"scripted:oracle .*oracle=trustgauge\.tasks\.oracle\.oracle_table"):
        load_model(ModelConfig(model="scripted:oracle"))
    for name in ("refuse-all", "comply-all", "echo"):
        assert load_model(ModelConfig(model=f"scripted:{name}")).identity() == {"backend": "scripted", "model": name}


def test_other_backends_ignore_the_provider() -> None:
    provider = Provider(FakeTable({}))
    model = load_model(ModelConfig(model="openai-compatible:m@http://127.0.0.1:9/v1"), oracle=provider)
    assert model.spec == "openai-compatible:m@http://127.0.0.1:9/v1"
    assert load_model(ModelConfig(model="scripted:refuse-all"), oracle=provider).identity()["model"] == "refuse-all"
    assert provider.calls == []


def test_a_judge_model_cannot_be_the_oracle() -> None:
    """An llm judge loads its model without the pipeline's provider: ``scripted:oracle`` (whose
    table holds benchmark prompts, never a judge's) is refused at once with the reason."""
    from trustgauge.judges.registry import create_judge

    with pytest.raises(ConfigError, match="as a judge model"):
        create_judge("refusal", "llm", judge_model="scripted:oracle")


def test_run_evaluation_injects_the_table(tmp_path: Path) -> None:
    """The pipeline's one model load passes :func:`oracle_table`: a run on ``scripted:oracle``
    answers each item with its oracle response (a label here, neither refusal nor compliance)
    and records the recorded table digest in ``run.json``."""
    import json

    from trustgauge.pipeline.run import RunConfig, run_evaluation
    from trustgauge.report.writer import RENDERERS

    config = RunConfig(
        model=ModelConfig(model="scripted:oracle"), suite="quick", tasks=["ethics.explicit.low_ambiguity"],
        limit=3, out=tmp_path / "run",
    )
    result = asyncio.run(run_evaluation(config, renderers=RENDERERS))
    table = oracle_table()
    rows = [json.loads(line) for line in (result.out_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    assert [r["response"] for r in rows] == [table.answers[r["prompt"]] for r in rows]
    assert not {r["response"] for r in rows} & {REFUSAL, COMPLIANCE}
    assert QUICK_TABLE_SHA256 in (result.out_dir / "run.json").read_text(encoding="utf-8")
