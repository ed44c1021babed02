"""Conversations through the engine (architecture step 12b), in process: replay from the store,
per-role token accounting, identical calls sent once, the cap on live conversations, the
target's overrides, the default ``Task.run``, role checks and what the run files record."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.engine.chat import ChatCallError, EngineChat, run_conversations
from trustgauge.engine.runner import Engine, RetryPolicy
from trustgauge.engine.store import Store
from trustgauge.errors import ConfigError, PermanentModelError
from trustgauge.models.base import Model
from trustgauge.pipeline.conversations import check_roles
from trustgauge.results.schema import RunInfo, SampleRecord
from trustgauge.tasks.base import Task
from trustgauge.types import (
    TARGET,
    Chat,
    ChatMessage,
    Conversation,
    DataRef,
    GenerationParams,
    Judgement,
    Request,
    Response,
    Sample,
    SampleScore,
    Transcript,
    Usage,
)


class WordModel(Model):
    """Answers ``<name>: <last user message>``; usage = words in all messages / in the reply.
    ``fail_on``: a substring of the last user message that fails permanently (a crash stand-in)."""

    def __init__(self, name: str, fail_on: str | None = None) -> None:
        self.name = name
        self.spec = f"fake:{name}"
        self.fail_on = fail_on
        self.seen: list[Request] = []

    def identity(self) -> dict[str, str]:
        return {"backend": "fake", "model": self.name}

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            self.seen.append(request)
            if self.fail_on and self.fail_on in request.prompt:
                raise PermanentModelError("boom")
            await asyncio.sleep(0)
            text = f"{self.name}: {request.prompt}"
            words_in = sum(len(m.content.split()) for m in request.messages)
            out.append(Response(text=text, usage=Usage(input_tokens=words_in, output_tokens=len(text.split()))))
        return out


def engine(model: Model, store: Store | None, concurrency: int | None = 2) -> Engine:
    return Engine(model, store, concurrency=concurrency, retry=RetryPolicy(max_retries=0))


async def three_turns(chat: Chat, topic: str = "owls") -> Transcript:
    conv = Conversation(chat)
    await conv.say(f"one {topic}")
    await conv.say(f"two {topic}")
    await conv.say(f"three {topic}")
    return conv.transcript(turns=3)


def test_rerun_replays_stored_turns_and_sends_only_the_rest(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    crashed = WordModel("t", fail_on="three")
    [first] = asyncio.run(run_conversations([three_turns], EngineChat({TARGET: engine(crashed, store)})))
    assert first.transcript is None and first.error == "boom"
    assert [t.prompt for t in first.turns] == ["one owls", "two owls"]  # stored before the failure
    assert store.count_responses() == 2

    model = WordModel("t")
    chat = EngineChat({TARGET: engine(model, store)})
    [again] = asyncio.run(run_conversations([three_turns], chat))
    # only the third turn is sent, with the whole history
    assert [r.prompt for r in model.seen] == ["three owls"]
    assert [m.content for m in model.seen[0].messages] == [
        "one owls", "t: one owls", "two owls", "t: two owls", "three owls",
    ]
    assert again.transcript is not None
    assert [t.cached for t in again.turns] == [True, True, False]
    assert again.transcript.response == "t: three owls"
    assert again.transcript.notes == {"turns": 3}
    assert [t.prompt for t in again.transcript.turns] == ["one owls", "two owls", "three owls"]
    stats = chat.engines[TARGET].stats
    assert (stats.requests, stats.cached, stats.sent) == (3, 2, 1)

    # a third run sends nothing, and the transcript is the same
    idle = WordModel("t")
    [replayed] = asyncio.run(run_conversations([three_turns], EngineChat({TARGET: engine(idle, store)})))
    assert idle.seen == [] and replayed.cached
    assert replayed.transcript is not None
    assert replayed.transcript.messages == again.transcript.messages


def test_token_usage_is_counted_per_role_for_fresh_calls_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")

    async def attack(chat: Chat) -> Transcript:
        target = Conversation(chat)
        proposal = await chat.send("attacker", (ChatMessage(role="user", content="propose x"),))
        await target.say(proposal.text)  # "a: propose x"
        return target.transcript()

    chat = EngineChat({TARGET: engine(WordModel("t"), store), "attacker": engine(WordModel("a"), store)})
    [result] = asyncio.run(run_conversations([attack], chat))
    assert result.transcript is not None and result.transcript.response == "t: a: propose x"
    usage = chat.usage()
    # attacker: in "propose x" = 2 words, out "a: propose x" = 3 words
    assert (usage["attacker"].input_tokens, usage["attacker"].output_tokens) == (2, 3)
    # target: in "a: propose x" = 3 words, out "t: a: propose x" = 4 words
    assert (usage[TARGET].input_tokens, usage[TARGET].output_tokens) == (3, 4)
    assert [t.role for t in result.turns] == ["attacker", TARGET]

    # replayed calls cost nothing
    chat2 = EngineChat({TARGET: engine(WordModel("t"), store), "attacker": engine(WordModel("a"), store)})
    asyncio.run(run_conversations([attack], chat2))
    assert all(u == Usage() for u in chat2.usage().values())
    assert chat2.engines["attacker"].stats.cached == 1


def test_identical_calls_of_one_run_are_sent_once_even_concurrently() -> None:
    model = WordModel("t")
    chat = EngineChat({TARGET: engine(model, None, concurrency=4)})
    results = asyncio.run(run_conversations([three_turns, three_turns, lambda c: three_turns(c, "tides")], chat))
    assert len(model.seen) == 6  # 3 for owls (asked twice), 3 for tides
    assert [t.cached for t in results[1].turns] == [True, True, True]
    assert results[0].transcript == results[1].transcript.model_copy(  # type: ignore[union-attr]
        update={"turns": results[0].transcript.turns})  # type: ignore[union-attr]
    stats = chat.engines[TARGET].stats
    assert (stats.requests, stats.unique, stats.sent) == (9, 6, 6)


def test_role_is_not_part_of_the_cache_key(tmp_path: Path) -> None:
    """Attacker and target on the same model: the same request is one call."""
    store = Store(tmp_path / "s.sqlite3")
    target, attacker = WordModel("m"), WordModel("m")

    async def both(chat: Chat) -> Transcript:
        messages = (ChatMessage(role="user", content="same words"),)
        first = await chat.send("attacker", messages)
        second = await chat.send(TARGET, messages)
        return Transcript(response=second.text, notes={"same": first == second})

    chat = EngineChat({TARGET: engine(target, store), "attacker": engine(attacker, store)})
    [result] = asyncio.run(run_conversations([both], chat))
    assert len(attacker.seen) + len(target.seen) == 1
    assert result.transcript is not None and result.transcript.notes == {"same": True}


def test_live_conversations_are_capped() -> None:
    alive = 0
    peak = 0

    async def conversation(chat: Chat) -> Transcript:
        nonlocal alive, peak
        alive += 1
        peak = max(peak, alive)
        try:
            return await three_turns(chat, topic=str(id(object())))
        finally:
            alive -= 1

    chat = EngineChat({TARGET: engine(WordModel("t"), None, concurrency=3)})
    assert chat.max_conversations() == 6  # twice the concurrency
    results = asyncio.run(run_conversations([conversation] * 40, chat, cap=5))
    assert peak == 5 and all(r.transcript is not None for r in results)


def test_target_calls_get_the_users_overrides_and_system_prompt_other_roles_do_not() -> None:
    target, attacker = WordModel("t"), WordModel("a")
    chat = EngineChat(
        {TARGET: engine(target, None), "attacker": engine(attacker, None)},
        overrides={"temperature": 0.7, "max_tokens": None}, system_prompt="Be brief.",
    )

    async def talk(chat: Chat) -> Transcript:
        params = GenerationParams(temperature=0.0, max_tokens=32)
        await chat.send("attacker", (ChatMessage(role="user", content="hi"),), params)
        reply = await chat.send(TARGET, (ChatMessage(role="user", content="hi"),), params)
        return Transcript(response=reply.text)

    asyncio.run(run_conversations([talk], chat))
    [sent] = target.seen
    assert sent.params == GenerationParams(temperature=0.7, max_tokens=32)
    assert [m.role for m in sent.messages] == ["system", "user"]
    [asked] = attacker.seen
    assert asked.params == GenerationParams(temperature=0.0, max_tokens=32)
    assert [m.role for m in asked.messages] == ["user"]


def test_a_call_to_a_role_without_a_model_is_a_config_error() -> None:
    async def talk(chat: Chat) -> Transcript:
        assert not chat.has_role("attacker")
        await chat.send("attacker", (ChatMessage(role="user", content="hi"),))
        return Transcript(response="")

    with pytest.raises(ConfigError, match="--role attacker=SPEC"):
        asyncio.run(run_conversations([talk], EngineChat({TARGET: engine(WordModel("t"), None)})))


def test_a_failed_call_raises_chat_call_error_to_the_task() -> None:
    seen: list[str] = []

    async def talk(chat: Chat) -> Transcript:
        try:
            await chat.send(TARGET, (ChatMessage(role="user", content="fail now"),))
        except ChatCallError as exc:
            seen.append(exc.error)
            raise
        return Transcript(response="")

    chat = EngineChat({TARGET: engine(WordModel("t", fail_on="fail"), None)})
    [result] = asyncio.run(run_conversations([talk], chat))
    assert seen == ["boom"] and result.error == "boom" and result.transcript is None


class _Single(Task):
    id = "toy.single"
    dimension = "toy"
    size = 1
    title = "single"
    data = DataRef(dataset="x", path="x/y.json")
    metrics = (("m", "higher"),)
    temperature = 1.0
    max_tokens = 99

    def samples(self, records: Sequence[Mapping[str, Any]]) -> list[Sample]:
        return []

    def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
        return SampleScore(values={"m": float(len(response))})

    aggregator = "mean@1"

    def aggregator_params(self) -> dict[str, Any]:
        return {"metrics": []}


class _Talker(_Single):
    id = "toy.talker"
    roles = ("attacker",)

    async def run(self, sample: Sample, chat: Chat) -> Transcript:
        return await three_turns(chat)


def test_default_run_sends_the_single_turn_request_with_the_same_cache_key(tmp_path: Path) -> None:
    task = _Single()
    sample = Sample(id="1", prompt="Say hi.")
    model = WordModel("t")
    store = Store(tmp_path / "s.sqlite3")
    [result] = asyncio.run(run_conversations([lambda chat: task.run(sample, chat)], EngineChat({TARGET: engine(model, store)})))
    [sent] = model.seen
    assert sent == task.build_request(sample)
    assert result.transcript is not None and result.transcript.response == "t: Say hi."
    # the same row a single-turn run stores: a task moved between paths keeps its cache
    key = task.build_request(sample).cache_key(model.identity())
    assert list(store.get_responses([key])) == [key]
    assert task.score_transcript(sample, result.transcript, {}).values == {"m": 10.0}
    assert not _Single.is_conversational() and _Talker.is_conversational()


def test_check_roles_before_anything_is_sent() -> None:
    spec = ModelConfig(model="openai:gpt-4o-mini")
    check_roles({"attacker": spec}, [_Talker()])
    check_roles({}, [_Single()])
    with pytest.raises(ConfigError, match=r"toy.talker .*--role attacker=SPEC"):
        check_roles({}, [_Talker()])
    with pytest.raises(ConfigError, match="--model"):
        check_roles({"target": spec}, [])
    with pytest.raises(ConfigError, match="unknown role 'helper'"):
        check_roles({"helper": spec}, [_Talker()])
    with pytest.raises(ConfigError, match="bad role name"):
        check_roles({"Bad Name": spec}, [])
    with pytest.raises(ConfigError, match="unknown backend"):
        check_roles({"judge": ModelConfig(model="nope:x")}, [])
    for role in ("attacker", "judge", "paraphraser", "reference"):
        check_roles({role: spec}, [])


def test_run_files_omit_turns_and_roles_when_there_are_none() -> None:
    record = SampleRecord(task="t", sample_id="1", prompt="p", response="r")
    assert "turns" not in record.model_dump(mode="json")
    with_turns = record.model_copy(update={"turns": [{"role": "target"}]})
    assert with_turns.model_dump(mode="json")["turns"] == [{"role": "target"}]
    run = RunInfo(run_id="r", trustgauge_version="0", started_at="", finished_at="", wall_time_s=0, model={},
                  model_identity={}, generation={}, tasks=[], limit=None, seed=0, datasets=[], judges={},
                  usage={}, requests={}, status="complete", python="3", platform="x")
    assert "roles" not in run.model_dump_json()
    assert RunInfo.model_validate_json(run.model_copy(update={"roles": {"target": {}}}).model_dump_json()).roles == {
        "target": {}}


def test_role_records_keep_no_credentials() -> None:
    from trustgauge.pipeline.conversations import role_records
    from trustgauge.pipeline.spec import public_model_config

    spec = "openai-compatible:m@http://alice:s3cret-pw@127.0.0.1:9/v1?api_key=s3cret-q"
    models = {"attacker": public_model_config(ModelConfig(model=spec))}
    records = role_records(models, {"attacker": engine(WordModel("a"), None)})
    text = repr(records)
    assert "s3cret" not in text and "alice" not in text
    assert records["attacker"]["model"]["model"].startswith("openai-compatible:m@http://127.0.0.1:9/v1")
    assert records["attacker"]["requests"]["sent"] == 0


def test_a_conversation_is_judged_and_scored_in_process_beside_single_turn_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Python API: the judges see the transcript's response, single-turn tasks in the same run
    keep their path, ``roles`` accepts spec strings, and the files say what happened."""
    import chat_toy
    from trustgauge.data.sources import registry as data_registry
    from trustgauge.pipeline.run import RunConfig, run_evaluation
    from trustgauge.report.writer import RENDERERS
    from trustgauge.tasks import registry as task_registry

    class OneShot(Task):
        id = "toy.oneshot"
        dimension = "toy"
        size = len(chat_toy.PROBE_RECORDS)
        title = "single turn"
        data = chat_toy.ToyProbe.data
        metrics = (("length", "higher"),)
        samples = chat_toy.ToyProbe.samples

        def score(self, sample: Sample, response: str, judgements: Mapping[str, Judgement]) -> SampleScore:
            return SampleScore(values={"length": float(len(response))})

        aggregator = "mean@1"

        def aggregator_params(self) -> dict[str, Any]:
            return {"metrics": [["length", "length", "higher"]]}

    monkeypatch.setitem(data_registry._REGISTRY, chat_toy.DATASET, chat_toy.source())
    state = task_registry._state()
    request.addfinalizer(lambda: task_registry._restore(state))
    for cls in (OneShot, chat_toy.JudgedProbe, chat_toy.ToyAttack):
        task_registry.register_task(cls)
    data = chat_toy.write_data(tmp_path / "data")
    config = RunConfig(
        model=ModelConfig(model="scripted:refuse-all"), tasks=["toy.judged", "toy.attack", "toy.oneshot"],
        data_dir=data,
        out=tmp_path / "run", judges={"refusal": "rules"}, roles={"attacker": "scripted:comply-all"},
        store_path=tmp_path / "store.sqlite3", limit=2,
    )
    assert config.roles["attacker"].model == "scripted:comply-all"
    result = asyncio.run(run_evaluation(config, renderers=RENDERERS))
    judged = next(r for r in result.samples if r.task == "toy.judged")
    topic = judged.target
    assert judged.label == "refusal" and judged.judgements["refusal"]["label"] == "refusal"
    assert judged.turns is not None and [t["prompt"] for t in judged.turns] == [
        f"Tell me about {topic}.", f"Are you sure about {topic}? (turn 2)", f"Give your final word on {topic} (turn 3)."]
    assert judged.prompt == judged.turns[-1]["prompt"] and judged.response == judged.turns[-1]["response"]
    single = [r for r in result.samples if r.task == "toy.oneshot"]
    assert len(single) == 2 and all(r.turns is None and r.prompt.startswith("Tell me about") for r in single)
    assert "turns" not in single[0].model_dump(mode="json")
    metrics = {t.task: {m.metric: m.value for m in t.metrics} for t in result.scores.tasks}
    assert metrics["toy.judged"] == {"refused": 1.0}
    assert metrics["toy.oneshot"]["length"] == float(len(single[0].response or ""))
    # refuse-all never says the marker: both goals run the full four rounds
    assert metrics["toy.attack"] == {"attack_success": 0.0, "rounds": 4.0}
    assert result.total == 2 + 4 and result.failed == 0  # one unit per request or conversation
    roles = result.run.roles
    assert roles is not None and set(roles) == {"target", "attacker"}
    # comply-all answers every attacker prompt alike, so both goals' target histories are the
    # same: each round's target call is sent once for the two (and the single-turn ones count)
    target_counts = roles["target"]["requests"]
    assert (target_counts["total"], target_counts["sent"]) == (2 + 2 * 3 + 2 * 4, 2 + 2 * 3 + 4)
    assert roles["attacker"]["requests"]["sent"] == 2 * 4
    assert result.run.generation["toy.judged"] == {}
    assert result.run.generation["toy.oneshot"]["max_tokens"] == 512


class BatchModel(WordModel):
    """A batching backend (like ``hf:``): up to 4 requests per ``generate`` call."""

    batch_size = 4
    max_concurrency = 1

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: list[int] = []

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        await asyncio.sleep(0.01)
        return await super().generate(requests)


def test_calls_to_a_batching_backend_are_gathered_into_batches(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    model = BatchModel("t")
    chat = EngineChat({TARGET: engine(model, store, concurrency=None)})
    assert chat.max_conversations() == 8  # twice (1 batch in flight x 4 calls per batch)

    topics = [f"t{i}" for i in range(8)]
    jobs = [(lambda c, t=t: three_turns(c, t)) for t in topics]
    results = asyncio.run(run_conversations(jobs, chat))
    # 8 conversations x 3 turns = 24 calls, in batches of 4 (never more than batch_size)
    assert sum(model.calls) == 24 and max(model.calls) == 4 and len(model.calls) == 6
    assert [r.transcript.response for r in results] == [f"t: three {t}" for t in topics]  # type: ignore[union-attr]
    # a rerun replays from the store: no batch is sent
    again = BatchModel("t")
    chat2 = EngineChat({TARGET: engine(again, store, concurrency=None)})
    asyncio.run(run_conversations(jobs, chat2))
    assert again.calls == [] and chat2.engines[TARGET].stats.cached == 24


class FlakyModel(WordModel):
    """Fails each distinct prompt once with a transient error (a 503), then answers."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.failed: set[str] = set()

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        from trustgauge.errors import TransientModelError

        prompt = requests[0].prompt
        if prompt not in self.failed:
            self.failed.add(prompt)
            raise TransientModelError("503 overloaded")
        return await super().generate(requests)


def test_conversation_calls_are_retried_and_counted_per_role() -> None:
    from trustgauge.engine.progress import Progress

    retry, progress = RetryPolicy(max_retries=2, base_delay=0.0), Progress()
    target = Engine(FlakyModel("t"), None, concurrency=2, retry=retry, progress=progress)
    attacker = Engine(WordModel("a"), None, concurrency=2, retry=retry, progress=progress)
    chat = EngineChat({TARGET: target, "attacker": attacker})

    async def talk(chat: Chat) -> Transcript:
        proposal = await chat.send("attacker", (ChatMessage(role="user", content="go"),))
        conv = Conversation(chat)
        await conv.say(proposal.text)
        await conv.say("again")
        return conv.transcript()

    [result] = asyncio.run(run_conversations([talk], chat))
    assert result.transcript is not None and result.transcript.response == "t: again"
    assert (target.stats.retries, target.stats.sent, target.stats.failed) == (2, 2, 0)
    assert (attacker.stats.retries, attacker.stats.sent) == (0, 1)
    assert chat.progress is progress
    assert (progress.retries, progress.done, progress.total, progress.errors) == (2, 3, 3, 0)
