"""``samples.jsonl`` is written record by record (a large run never holds the file in memory as
one string: benchmarks/README.md, "Memory of one run"), and the result is byte for byte what the
whole-text writer made: every line redacted, the hashes in run.json those of the bytes on disk,
run.json still written last."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from html_report_fixtures import synthetic_run
from secret_registry import kept_registry
from trustgauge import _secrets
from trustgauge.report.writer import write_run
from trustgauge.results import rundir
from trustgauge.results.writer import read_run

SECRET = "sk-proj-Zq8vW3xY5tR7uI9oP1aS2dF4gH6jK8lZ0xC3vB5nM7qW9eR"


@pytest.fixture
def secret() -> Iterator[str]:
    """SECRET registered for this test only (the registry is restored afterwards)."""
    with kept_registry():
        _secrets.register_secret(SECRET)
        yield SECRET


def _old_samples_bytes(samples: list) -> bytes:
    """What the writer wrote before streaming: the whole text joined, then redacted once."""
    lines = (json.dumps(s.model_dump(mode="json"), ensure_ascii=False) for s in samples)
    return _secrets.redact("\n".join(lines) + ("\n" if samples else "")).encode("utf-8")


@pytest.mark.parametrize("n", [0, 1, 37])
def test_streamed_samples_equal_the_whole_text_and_verify(tmp_path: Path, secret: str, n: int) -> None:
    run, scores, samples = synthetic_run(max(n, 1), seed=3, task_ids=["safety.jailbreak", "safety.misuse"])
    samples = samples[:n]
    # a key in a response, in a prompt split over "lines" of text, in metadata; a masked echo
    planted = [
        s.model_copy(update={"response": f"here: {secret}\nand {secret[:8]}****{secret[-6:]}",
                             "prompt": f"line one\n{secret}\u2028tail", "metadata": {"k": secret}})
        for s in samples[:3]
    ] + samples[3:]
    out = tmp_path / "run"
    written = write_run(out, run, scores, planted)
    data = (out / "samples.jsonl").read_bytes()
    assert data == _old_samples_bytes(planted)
    assert secret.encode() not in data and secret[-6:].encode() not in data if n else data == b""
    files = written.files or {}
    assert files["samples.jsonl"].sha256 == hashlib.sha256(data).hexdigest()
    assert files["samples.jsonl"].bytes == len(data) and files["samples.jsonl"].records == n
    on_disk = json.loads((out / "run.json").read_text())
    assert on_disk["files"]["samples.jsonl"]["sha256"] == hashlib.sha256(data).hexdigest()
    _, _, back = read_run(out)  # verified against run.json's hashes
    assert len(back) == n


def test_run_json_is_still_written_last_and_a_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, scores, samples = synthetic_run(12, seed=4, task_ids=["safety.jailbreak"])
    seen: list[str] = []
    monkeypatch.setattr(rundir, "checkpoint", seen.append)
    write_run(tmp_path / "a", run, scores, samples)
    files = [s for s in seen if s.startswith("file:")]
    assert files == ["file:scores.json", "file:samples.jsonl", "file:report.md", "file:run.json"]

    # a failure midway through samples.jsonl (after five lines are on disk): no directory, no
    # hidden sibling left
    from trustgauge.results import writer

    class Boom(Exception):
        pass

    def redact(text: str) -> str:
        if "BOOM-MARK" in text and text.startswith("{"):
            raise Boom("midway")
        return _secrets.redact(text)

    bad = [*samples[:5], samples[5].model_copy(update={"response": "BOOM-MARK"}), *samples[6:]]
    monkeypatch.setattr(writer, "redact", redact)
    with pytest.raises(Boom):
        write_run(tmp_path / "b", run, scores, bad)
    assert seen[-3:] == ["mkdir", "extra", "file:scores.json"]  # failed inside samples.jsonl
    assert not (tmp_path / "b").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".b.")]
