"""Membership inference wired to models (issue 16 item 1): scoring requests through the engine,
the task's reading of records and of scored tokens, its aggregator, user files (``--task-data``)
and the CLI against a vLLM-like test server and a chat-only one. The attack formulas themselves:
tests/test_membership_scores.py; a real ground truth: tests/test_membership_ground_truth.py."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from fake_server import FakeServer, fake_logprob, fake_tokens
from trustgauge.data.records import read_user_records
from trustgauge.engine.runner import Engine
from trustgauge.engine.store import Store
from trustgauge.errors import CapabilityError, DataError
from trustgauge.models.base import Model
from trustgauge.stats import membership, roc
from trustgauge.stats.aggregators import aggregate
from trustgauge.tasks.fan2023.membership_inference import (
    ATTACKS,
    MembershipInference,
    attack_scores,
    parse_label,
)
from trustgauge.types import (
    Capability,
    Loglikelihood,
    Request,
    Response,
    Sample,
    SampleScore,
    TokenLogprob,
)

TASK = "fan2023.membership_inference"


def _tokens(pairs: Sequence[tuple[str, float]], moments: Sequence[tuple[float, float]] | None = None) -> tuple[TokenLogprob, ...]:
    return tuple(
        TokenLogprob(token=t, logprob=lp, dist_mean=None if moments is None else moments[i][0],
                     dist_std=None if moments is None else moments[i][1])
        for i, (t, lp) in enumerate(pairs)
    )


def _scored(pairs: Sequence[tuple[str, float]], moments: Sequence[tuple[float, float]] | None = None,
            finish: str = "scored") -> Response:
    return Response(text="", finish_reason=finish, tokens=_tokens(pairs, moments))


# -- the request type --------------------------------------------------------------------------


def test_scoring_request_is_its_own_cache_entry_and_plain_requests_are_unchanged() -> None:
    plain = Request.user("hi")
    assert "loglikelihood" not in plain.model_dump_json()
    # recorded before the field existed (tests/test_capabilities.py pins the same key)
    assert plain.cache_key({"a": "b"}) == "00827be7f1b2e34319b56f1f947cb3018e68f3adf252bf33fef4cd32d1fa5b4f"
    scoring = Request.scoring("hi")
    assert scoring.is_scoring and scoring.scoring_pair() == ("", "hi") and scoring.prompt == "hi"
    assert scoring.cache_key({"a": "b"}) != plain.cache_key({"a": "b"})
    assert Request.scoring("hi", "ctx").cache_key({"a": "b"}) != scoring.cache_key({"a": "b"})
    with pytest.raises(ValueError, match="not a scoring request"):
        plain.scoring_pair()


def test_token_moments_are_left_out_of_dumps_when_unset() -> None:
    assert "dist_mean" not in TokenLogprob(token="a", logprob=-1.0).model_dump_json()
    token = TokenLogprob(token="a", logprob=-1.0, dist_mean=-2.5, dist_std=0.5)
    assert TokenLogprob.model_validate_json(token.model_dump_json()) == token


class _Scorer(Model):
    """A model that scores every word at -1 and answers chat turns with "ok", counting calls."""

    spec = "toy:scorer"
    capabilities = frozenset({Capability.CHAT, Capability.LOGLIKELIHOOD})

    def __init__(self) -> None:
        self.scored: list[tuple[str, str]] = []
        self.generated = 0

    def identity(self) -> dict[str, str]:
        return {"backend": "toy", "name": "scorer"}

    async def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.generated += len(requests)
        return [Response(text="ok") for _ in requests]

    async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
        self.scored += list(pairs)
        return [Loglikelihood(logprob=-len(c.split()), tokens=tuple(TokenLogprob(token=w, logprob=-1.0) for w in c.split()))
                for _, c in pairs]


def test_respond_routes_each_kind_and_keeps_the_order() -> None:
    model = _Scorer()
    requests = [Request.user("a"), Request.scoring("one two"), Request.user("b"), Request.scoring("x y z", "ctx")]
    answers = asyncio.run(model.respond(requests))
    assert [a.text for a in answers] == ["ok", "", "ok", ""]
    assert [len(a.tokens or ()) for a in answers] == [0, 2, 0, 3]
    assert answers[1].finish_reason == "scored" and answers[1].usage.input_tokens == 2
    assert model.scored == [("", "one two"), ("ctx", "x y z")] and model.generated == 2


def test_a_chat_only_model_refuses_scoring_requests() -> None:
    class ChatOnly(_Scorer):
        capabilities = frozenset({Capability.CHAT})

        async def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[Loglikelihood]:
            return await Model.loglikelihood(self, pairs)

    with pytest.raises(CapabilityError, match="cannot give loglikelihood"):
        asyncio.run(ChatOnly().respond([Request.scoring("a b")]))


def test_scored_texts_are_stored_and_never_scored_twice(tmp_path: Path) -> None:
    model = _Scorer()
    requests = [Request.scoring("one two three"), Request.scoring("four five")]
    store = Store(tmp_path / "store.sqlite3")
    try:
        first = asyncio.run(Engine(model, store).run(requests))
        again = asyncio.run(Engine(model, store).run(requests))
    finally:
        store.close()
    assert [o.cached for o in first] == [False, False] and [o.cached for o in again] == [True, True]
    assert len(model.scored) == 2  # the second run sent nothing
    assert again[0].response == first[0].response and len(again[0].response.tokens or ()) == 3


# -- reading records ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "want"), [
    (1, True), (0, False), (True, True), ("member", True), ("Non-Member", False), ("0", False), (1.0, True),
    (2, None), ("maybe", None), (None, None), ([1], None),
])
def test_labels(value: Any, want: bool | None) -> None:
    assert parse_label(value) is want


def test_samples_need_text_a_label_and_both_labels() -> None:
    task = MembershipInference()
    samples = task.samples([{"text": "a b", "label": 1}, {"id": "x", "text": "c d", "label": "non-member", "source": "s"}])
    assert [(s.id, s.target, s.metadata) for s in samples] == [("text-00000", True, {}), ("x", False, {"source": "s"})]
    with pytest.raises(DataError, match="record 1 needs a non-empty 'text'"):
        task.samples([{"text": "a", "label": 1}, {"text": "  ", "label": 0}])
    with pytest.raises(DataError, match="record 0 has label 'yes please'; expected 1"):
        task.samples([{"text": "a", "label": "yes please"}])
    with pytest.raises(DataError, match=r"holds only members \(2 texts\); membership inference needs both labels"):
        task.samples([{"text": "a", "label": 1}, {"text": "b", "label": 1}])


def test_user_files_json_list_or_lines_with_the_bad_line_named(tmp_path: Path) -> None:
    lines = tmp_path / "split.jsonl"
    lines.write_text('{"text": "a", "label": 1}\n\n{"text": "b", "label": 0}\n')
    records, sha = read_user_records(lines)
    assert records == [{"text": "a", "label": 1}, {"text": "b", "label": 0}] and len(sha) == 64
    listed = tmp_path / "split.json"
    listed.write_text(json.dumps(records))
    assert read_user_records(listed)[0] == records
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": \n')
    with pytest.raises(DataError, match=r"broken.jsonl:2: not valid JSON"):
        read_user_records(broken)
    scalar = tmp_path / "scalar.jsonl"
    scalar.write_text('{"text": "a"}\n7\n')
    with pytest.raises(DataError, match=r":2: expected a JSON object, got number$"):
        read_user_records(scalar)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(DataError, match="holds no records"):
        read_user_records(empty)
    with pytest.raises(DataError, match="does not exist"):
        read_user_records(tmp_path / "nope.jsonl")


# -- from scored tokens to attack scores --------------------------------------------------------


def test_attack_scores_equal_the_reference_formulas() -> None:
    text = "The cat sat"
    target = _scored([(" cat", -2.0), (" sat", -1.0)], [(-3.0, 1.0), (-2.0, 0.5)])
    lower = _scored([(" cat", -3.0), (" sat", -1.0)])
    values, notes = attack_scores(text, target, lower, None, k=0.5)
    assert values["loss"] == membership.loss_score([-2.0, -1.0]) == -1.5
    assert values["zlib"] == pytest.approx(-1.5 / membership.zlib_bytes(text))
    assert values["lowercase"] == pytest.approx(-2.0 / -1.5)
    assert values["min_k"] == -2.0  # int(2 * 0.5) = 1 lowest token
    # (x - mu) / sigma: (-2 + 3) / 1 = 1, (-1 + 2) / 0.5 = 2; the lowest one
    assert values["min_k_plus_plus"] == 1.0
    assert values["reference"] is None and notes == []


def test_attack_scores_say_what_they_could_not_compute() -> None:
    text = "one two three"
    target = _scored([("one", -1.0), (" two", -2.0), (" three", -3.0)], finish="length")
    values, notes = attack_scores(text, target, target, None)
    assert values["min_k_plus_plus"] is None
    assert any("Min-K%++ not scored" in n for n in notes) and any(n.startswith("truncated") for n in notes)
    # a reference that cuts the text into other tokens: compared per byte
    ref = _scored([("one two", -2.0), (" three", -1.0)])
    values, notes = attack_scores(text, target, target, ref)
    assert values["reference"] == pytest.approx((-6.0 - -3.0) / len(text))
    assert any("tokenizes differently" in n for n in notes)
    same = _scored([("one", -5.0), (" two", -1.0), (" three", -1.0)])
    values, _ = attack_scores(text, target, target, same)
    assert values["reference"] == pytest.approx(-2.0 - -7.0 / 3)
    values, notes = attack_scores("x", _scored([]), _scored([]), None)
    assert all(v is None for v in values.values()) and notes == ["no token of the text was scored"]


# -- the aggregator ------------------------------------------------------------------------------


def _scored_set(scores: Sequence[float], labels: Sequence[bool], texts: Sequence[str] | None = None) -> list[tuple[Sample, SampleScore]]:
    out = []
    for i, (score, label) in enumerate(zip(scores, labels)):
        values: dict[str, float | None] = {a: None for a in ATTACKS}
        values["loss"] = score
        values["zlib"] = -score
        sample = Sample(id=f"s{i}", prompt=texts[i] if texts else f"text {i}", target=label)
        out.append((sample, SampleScore(label="member" if label else "non-member", values=values)))
    return out


def test_aggregator_by_hand() -> None:
    # members 4, 3, 1; non-members 2, 0, 0: pairs won 3+3+2 / 9 with the 1 > 0 pairs... counted:
    # 4 beats all 3, 3 beats all 3, 1 beats the two zeros and loses to 2: 8 of 9
    scored = _scored_set([4, 3, 1, 2, 0, 0], [True, True, True, False, False, False])
    metrics = {m.metric: m for m in aggregate("fan2023.membership@1", scored, {"attacks": list(ATTACKS)})}
    assert metrics["auroc[loss]"].value == pytest.approx(8 / 9)
    assert metrics["auroc[zlib]"].value == pytest.approx(1 / 9)  # the same scores turned round
    assert metrics["auroc"].value == pytest.approx(8 / 9) and metrics["auroc"].ci == metrics["auroc[loss]"].ci
    assert metrics["auroc[loss]"].ci is not None
    tpr = metrics["tpr@1%fpr[loss]"]
    assert tpr.value is None and "3 non-members cannot resolve an FPR of 1.0%" in (tpr.reason or "")
    assert metrics["auroc[reference]"].value is None and "--role reference=SPEC" in (metrics["auroc[reference]"].reason or "")
    assert metrics["auroc[min_k]"].reason == "undefined: no sample has this score"
    assert metrics["shift_auroc"].value is None  # fewer than 5 texts a label
    assert [m.metric for m in aggregate("fan2023.membership@1", scored, {"attacks": list(ATTACKS)})][:2] == [
        "auroc", "auroc[loss]"]


def test_tpr_at_one_percent_with_enough_non_members() -> None:
    # 200 non-members 0..199, members at 199.5 (above all but one), 300 and 150: at 1% FPR two
    # non-members may pass, so the threshold sits just above 197: members 199.5 and 300 pass
    scores = [float(i) for i in range(200)] + [199.5, 300.0, 150.0]
    labels = [False] * 200 + [True] * 3
    metrics = {m.metric: m for m in aggregate("fan2023.membership@1", _scored_set(scores, labels), {"attacks": ["loss"]})}
    assert metrics["tpr@1%fpr[loss]"].value == pytest.approx(2 / 3)
    assert roc.tpr_at_fpr(scores, labels, 0.01) == pytest.approx(2 / 3)
    assert metrics["tpr@0.1%fpr[loss]"].value is None


def test_shift_check_flags_a_split_its_words_give_away() -> None:
    members = [f"ancient castle knight sword {i}" for i in range(30)]
    others = [f"smartphone app download online {i}" for i in range(30)]
    scored = _scored_set([0.0] * 60, [True] * 30 + [False] * 30, members + others)
    metrics = {m.metric: m for m in aggregate("fan2023.membership@1", scored, {"attacks": ["loss"]})}
    assert metrics["shift_auroc"].value == 1.0 and metrics["shifted"].value == 1.0
    assert metrics["shift_p"].value == pytest.approx(0.01)
    assert metrics["auroc"].value == 0.5  # the model scores every text alike


def test_vectorised_bootstrap_matches_the_plain_one() -> None:
    import random

    rng = random.Random(3)
    labels = [i % 3 == 0 for i in range(150)]
    scores = [rng.gauss(0.4 if y else 0.0, 1.0) for y in labels]
    auroc_ci, tpr_ci, _ = roc.bootstrap_roc(scores, labels, n_boot=200)
    assert auroc_ci == roc.with_ci("auroc", scores, labels, n_boot=200)[1]
    assert tpr_ci == roc.with_ci("tpr_at_fpr", scores, labels, fpr=0.01, n_boot=200)[1]


# -- through the CLI -----------------------------------------------------------------------------


def _tg(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge", *args], env=cli_env(home), capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def _split(tmp_path: Path) -> Path:
    lines = [{"text": f"Member text number {i} about rivers and stone", "label": 1} for i in range(6)]
    lines += [{"text": f"other text number {i} about rivers and glass", "label": 0} for i in range(6)]
    path = tmp_path / "split.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_cli_runs_a_users_split_against_a_vllm_like_server_and_a_chat_only_one(tmp_path: Path, tg_home: Path) -> None:
    data = _split(tmp_path)
    results = {}
    for vllm in (True, False):
        with FakeServer.start(models=["m"], prompt_logprobs=vllm) as server:
            out = tmp_path / f"run-{vllm}"
            spec = f"openai-compatible:m@{server.openai_base_url}"
            res = _tg(["run", "-m", spec, "--suite", "privacy", "--tasks", TASK, "--task-data", f"{TASK}={data}",
                       "-o", str(out)], tg_home)
            assert res.returncode == 0, res.stderr
            stats = server.stats()
        task = json.loads((out / "scores.json").read_text())["tasks"][0]
        results[vllm] = (task, stats, out)
    task, stats, out = results[True]
    metrics = {m["metric"]: m for m in task["metrics"]}
    # the probe, each text, and the lower-cased texts that differ from theirs (the members'):
    # a lower-cased text equal to its text is the same request, sent once
    assert stats["by_endpoint"]["completions"] == 1 + 12 + 6
    record = json.loads((out / "samples.jsonl").read_text().splitlines()[0])
    words = [-0.0 + fake_logprob(t) for t in fake_tokens(record["prompt"])][1:]
    assert record["score"]["loss"] == pytest.approx(sum(words) / len(words))
    assert record["prompt"] == "Member text number 0 about rivers and stone"
    assert metrics["auroc[loss]"]["value"] is not None
    assert metrics["auroc[min_k_plus_plus]"]["value"] is None  # vLLM gives no full distribution
    run = json.loads((out / "run.json").read_text())
    assert [d["source"] for d in run["datasets"]] == [f"file:{data}"]
    # the report's privacy section draws one ROC curve per attack that has scores
    report = (out / "report.html").read_text()
    assert 'class="roc-plot"' in report
    drawn = {a for a in ATTACKS if f'data-attack="{a}"' in report}
    assert drawn == {"loss", "zlib", "lowercase", "min_k"}
    task, stats, _ = results[False]
    assert "chat.completions" not in stats["by_endpoint"]
    for metric in task["metrics"]:
        assert metric["value"] is None and metric["reason"].startswith("not scored: needs log-likelihoods (")


@pytest.mark.parametrize(("flag", "message"), [
    ("fan2023.membership_inference", "expected TASK=FILE"),
    ("safety.jailbreak={data}", "safety.jailbreak is not among the selected tasks"),
    ("fan2023.membership_inference={missing}", "no such file"),
])
def test_cli_task_data_mistakes_are_one_line(tmp_path: Path, tg_home: Path, flag: str, message: str) -> None:
    data = _split(tmp_path)
    flag = flag.format(data=data, missing=tmp_path / "missing.jsonl")
    res = _tg(["run", "-m", "scripted:oracle", "--tasks", TASK, "--task-data", flag, "-o", str(tmp_path / "o")], tg_home)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_cli_one_label_file_is_one_line(tmp_path: Path, tg_home: Path) -> None:
    data = tmp_path / "members.jsonl"
    data.write_text('{"text": "a b c", "label": 1}\n{"text": "d e f", "label": 1}\n')
    with FakeServer.start(models=["m"]) as server:
        res = _tg(["run", "-m", f"openai-compatible:m@{server.openai_base_url}", "--tasks", TASK,
                   "--task-data", f"{TASK}={data}", "-o", str(tmp_path / "o")], tg_home)
    assert res.returncode != 0 and "needs both labels" in res.stderr and "Traceback" not in res.stderr
    assert not math.isnan(0.0)


def test_resamples_skip_the_shift_check() -> None:
    from trustgauge.stats.metric_values import resampling

    members = [f"ancient castle knight sword {i}" for i in range(10)]
    others = [f"smartphone app download online {i}" for i in range(10)]
    scored = _scored_set([float(i) for i in range(20)], [True] * 10 + [False] * 10, members + others)
    with resampling():
        metrics = {m.metric: m for m in aggregate("fan2023.membership@1", scored, {"attacks": ["loss"]})}
    assert metrics["auroc[loss]"].value == 0.0  # members scored lowest: perfectly inverted
    assert metrics["shift_auroc"].value is None and "not recomputed on resamples" in (metrics["shift_auroc"].reason or "")


def test_a_reference_model_without_loglikelihoods_is_refused_before_anything_is_sent(tmp_path: Path, tg_home: Path) -> None:
    data = _split(tmp_path)
    with FakeServer.start(models=["m"], prompt_logprobs=True) as target, \
            FakeServer.start(models=["r"], prompt_logprobs=False) as reference:
        res = _tg(["run", "-m", f"openai-compatible:m@{target.openai_base_url}", "--tasks", TASK,
                   "--task-data", f"{TASK}={data}", "--role", f"reference=openai-compatible:r@{reference.openai_base_url}",
                   "-o", str(tmp_path / "o")], tg_home)
        sent = target.stats()["by_endpoint"].get("completions", 0)
    assert res.returncode == 2, res.stderr
    assert "--role reference=openai-compatible:r@" in res.stderr
    assert "fan2023.membership_inference needs loglikelihood of its reference model" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert sent <= 1  # at most the target's capability probe: no text was scored
