"""The executor seam (architecture step 12c): a run is planned into picklable units, run by an
executor and merged in plan order, so how the run is cut into units never changes its run
directory; the spec's digest ties units to one run."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.engine.runner import Outcome
from trustgauge.pipeline.executor import UnitResult
from trustgauge.pipeline.merge import MergeError, merge
from trustgauge.pipeline.plan import Unit, plan, shard_slice
from trustgauge.pipeline.spec import RunSpec
from trustgauge.results.schema import DatasetInfo
from trustgauge.tasks.base import Task
from trustgauge.types import Judgement, Response, Sample, SampleScore


class _Config:
    """A RunConfig stand-in (RunSpec.from_config is duck-typed)."""

    def __init__(self, **kw: Any) -> None:
        self.model = kw.get("model", ModelConfig(model="scripted:refuse-all"))
        self.tasks = kw.get("tasks", ["a", "b"])
        self.suite = None
        self.limit = kw.get("limit", 5)
        self.seed = kw.get("seed", 0)
        self.reference = False
        self.dataset_override = None
        self.judges = kw.get("judges", {"refusal": "rules"})
        self.judge_options: dict[str, Any] = {}
        self.judge_model = None
        self.roles = kw.get("roles", {"attacker": ModelConfig(model="scripted:comply-all")})


class _T:
    def __init__(self, id: str) -> None:
        self.id = id


def _spec(**kw: Any) -> RunSpec:
    return RunSpec.from_config(_Config(**kw))


def test_shards_are_contiguous_slices_that_cover_the_samples_in_order() -> None:
    assert [shard_slice(10, i, 3) for i in range(3)] == [(0, 3), (3, 6), (6, 10)]
    assert [shard_slice(2, i, 3) for i in range(3)] == [(0, 0), (0, 1), (1, 2)]  # an empty shard
    assert shard_slice(7, 0, 1) == (0, 7)
    with pytest.raises(ValueError):
        shard_slice(3, 3, 3)


def test_plan_is_task_by_task_then_shard_by_shard_and_carries_the_digest() -> None:
    spec = _spec()
    units = plan(spec, [_T("a"), _T("b")], shards=2)  # type: ignore[list-item]
    assert [u.name for u in units] == ["a#1of2", "a#2of2", "b#1of2", "b#2of2"]
    assert {u.spec_digest for u in units} == {spec.digest}
    assert units[0].take(["s0", "s1", "s2"]) == ["s0"] and units[1].take(["s0", "s1", "s2"]) == ["s1", "s2"]
    with pytest.raises(ValueError):
        plan(spec, [_T("a")], shards=0)  # type: ignore[list-item]


def test_a_unit_and_a_spec_pickle_and_round_trip() -> None:
    spec = _spec()
    [unit] = plan(spec, [_T("safety.jailbreak")])  # type: ignore[list-item]
    back = pickle.loads(pickle.dumps(unit))
    assert back == unit and hash(back) == hash(unit) and back.name == "safety.jailbreak#1of1"
    assert ModelConfig.model_validate_json(back.model).model == "scripted:refuse-all"
    assert dict(back.roles)["attacker"] == spec.roles[0][1]
    spec_back = pickle.loads(pickle.dumps(spec))
    assert spec_back == spec and hash(spec_back) == hash(spec) and spec_back.digest == spec.digest
    assert spec.role_configs()["attacker"].model == "scripted:comply-all"


def test_the_digest_names_what_is_measured_and_no_credential() -> None:
    base = _spec()
    assert _spec().digest == base.digest and len(base.digest) == 64
    assert _spec(seed=1).digest != base.digest
    assert _spec(limit=6).digest != base.digest
    assert _spec(judges={"refusal": "longformer"}).digest != base.digest
    assert _spec(roles={}).digest != base.digest
    # header values are credentials: they travel in the unit (a worker needs them) but two
    # tokens are the same measurement
    one = _spec(model=ModelConfig(model="scripted:refuse-all", headers={"X-Key": "tok-one-123456"}))
    two = _spec(model=ModelConfig(model="scripted:refuse-all", headers={"X-Key": "tok-two-654321"}))
    assert one.digest == two.digest and one != two


def _result(unit: Unit, ids: Sequence[str]) -> UnitResult:
    samples = [Sample(id=i, prompt=f"q {i}") for i in ids]
    return UnitResult(
        unit=unit, samples=samples, prompts=[s.prompt for s in samples],
        outcomes=[Outcome(i, response=Response(text=f"r {i}")) for i in ids], conversations=None,
        judgements={(unit.task_id, i, "refusal"): Judgement(judge="rules", label="refusal") for i in ids},
        dataset=DatasetInfo(dataset="d", path="p.json", sha256="0" * 64, records=9, source="x"),
        generation={"temperature": 0.0} if ids else None,
    )


def test_merge_restores_plan_order_whatever_the_arrival_order() -> None:
    spec = _spec()
    units = plan(spec, [_T("a"), _T("b")], shards=3)  # type: ignore[list-item]
    parts = {"a": [["1", "2"], [], ["3"]], "b": [["x"], ["y"], ["z"]]}
    results = [_result(u, parts[u.task_id][u.shard]) for u in units]
    tasks: Any = {"a": _T("a"), "b": _T("b")}
    merged = merge(units, list(reversed(results)), tasks, spec.digest)
    assert [m.task.id for m in merged] == ["a", "b"]
    assert [s.id for s in merged[0].samples] == ["1", "2", "3"]
    assert [o.response.text for o in merged[1].outcomes if o.response] == ["r x", "r y", "r z"]
    assert merged[0].generation == {"temperature": 0.0} and len(merged[1].judgements) == 3
    with pytest.raises(MergeError, match="no result for unit"):
        merge(units, results[1:], tasks, spec.digest)
    with pytest.raises(MergeError, match="two results"):
        merge(units, [*results, results[0]], tasks, spec.digest)
    with pytest.raises(MergeError, match="belongs to run spec"):
        merge(units, results, tasks, _spec(seed=9).digest)
    other_data = results[1].dataset.model_copy(update={"sha256": "1" * 64, "source": "elsewhere"})
    with pytest.raises(MergeError, match="read other data"):
        merge(units, [results[0], _with(results[1], dataset=other_data), *results[2:]], tasks, spec.digest)
    # where the data was read may differ (another machine); what was read may not
    elsewhere = results[1].dataset.model_copy(update={"source": "elsewhere"})
    assert merge(units, [results[0], _with(results[1], dataset=elsewhere), *results[2:]], tasks, spec.digest)[0].dataset.source == "x"
    with pytest.raises(MergeError, match="lacks"):
        merge(units, [results[0], _with(results[1], lacking=["logprobs"]), *results[2:]], tasks, spec.digest)


def _with(result: UnitResult, **changes: Any) -> UnitResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _toy_run(tmp: Path, data: Path, shards: int) -> Path:
    from trustgauge.pipeline.run import RunConfig, run_evaluation
    from trustgauge.report.writer import RENDERERS

    config = RunConfig(
        model=ModelConfig(model="scripted:refuse-all"), tasks=["toy.judged", "toy.attack", "toy.oneshot2"],
        data_dir=data, out=tmp / "run", judges={"refusal": "rules"},
        roles={"attacker": "scripted:comply-all"}, store_path=tmp / "store.sqlite3",
    )
    asyncio.run(run_evaluation(config, renderers=RENDERERS, shards=shards))
    return tmp / "run"


VOLATILE = {"started_at", "finished_at", "wall_time_s", "files"}


def test_n_shards_per_task_write_the_run_directory_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Single-turn, judged conversational and attacker-loop tasks, 1 vs 3 vs 4 units per task
    (6 samples: uneven shards; 4 goals in 3 shards, some shards of 1): every file identical but
    the timestamps, and the store holds the same rows."""
    import chat_toy
    from trustgauge.data.sources import registry as data_registry
    from trustgauge.tasks import registry as task_registry
    from trustgauge.types import Judgement as J

    class OneShot(Task):
        id = "toy.oneshot2"
        dimension = "toy"
        size = len(chat_toy.PROBE_RECORDS)
        title = "single turn"
        data = chat_toy.ToyProbe.data
        judges = ("refusal",)
        metrics = (("length", "higher"),)
        samples = chat_toy.ToyProbe.samples

        def score(self, sample: Sample, response: str, judgements: Mapping[str, J]) -> SampleScore:
            return SampleScore(label=judgements["refusal"].label, values={"length": float(len(response))})

        aggregator = "mean@1"

        def aggregator_params(self) -> dict[str, Any]:
            return {"metrics": [["length", "length", "higher"]]}

    monkeypatch.setitem(data_registry._REGISTRY, chat_toy.DATASET, chat_toy.source())
    state = task_registry._state()
    request.addfinalizer(lambda: task_registry._restore(state))
    for cls in (OneShot, chat_toy.JudgedProbe, chat_toy.ToyAttack):
        task_registry.register_task(cls)

    from trustgauge.pipeline.local import LocalExecutor

    answers: list[Any] = []
    real_run = LocalExecutor.run

    async def keep(self: LocalExecutor, units: Sequence[Unit]) -> Any:
        done = await real_run(self, units)
        answers.append(done)
        return done

    monkeypatch.setattr(LocalExecutor, "run", keep)
    data = chat_toy.write_data(tmp_path / "data")  # one copy: run.json records where the data was
    runs = {n: _toy_run(tmp_path / f"shards{n}", data, n) for n in (1, 3, 4)}
    one = runs[1]
    names = sorted(p.name for p in one.iterdir())
    assert "samples.jsonl" in names and "scores.json" in names
    samples = (one / "samples.jsonl").read_text()
    assert samples.count("\n") == 6 + 4 + 6
    for n in (3, 4):
        assert sorted(p.name for p in runs[n].iterdir()) == names
        assert (runs[n] / "samples.jsonl").read_text() == samples, n
        assert (runs[n] / "scores.json").read_bytes() == (one / "scores.json").read_bytes(), n
        run_one, run_n = (json.loads((r / "run.json").read_text()) for r in (one, runs[n]))
        for key in VOLATILE:
            run_one.pop(key, None)
            run_n.pop(key, None)
        assert run_n == run_one, n
        assert _rows(runs[n].parent / "store.sqlite3") == _rows(one.parent / "store.sqlite3"), n
    # what an executor hands back is plain data: it crosses a process boundary unchanged
    three = answers[1]
    assert [r.unit.name for r in three.results][:3] == ["toy.attack#1of3", "toy.attack#2of3", "toy.attack#3of3"]
    assert [len(r.samples) for r in three.results] == [1, 1, 2, 2, 2, 2, 2, 2, 2]  # 4 goals, 6 topics, 6 topics
    assert pickle.loads(pickle.dumps(three)) == three
    assert any(r.conversations for r in three.results) and any(r.judgements for r in three.results)


def _rows(path: Path) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT key, response FROM responses")) + sorted(
            db.execute("SELECT key, judgement FROM judgements"))
