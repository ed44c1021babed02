"""The Longformer refusal judge, on a tiny randomly initialised Longformer saved to disk.

The real ``LibrAI/longformer-harmful-ro`` is hub-only (unreachable here); the tiny model has the
same architecture, the same ``LABEL_0``/``LABEL_1`` config and a RoBERTa byte-level BPE
tokenizer, so loading, the pipeline call, truncation, batching and the label mapping all run
for real. Expected labels and scores come from running the saved model directly.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from trustgauge.errors import ConfigError  # noqa: E402
from trustgauge.judges.refusal_longformer import LongformerRefusalJudge  # noqa: E402
from trustgauge.judges.registry import create_judge  # noqa: E402
from trustgauge.types import JudgeItem, Judgement  # noqa: E402

pytestmark = pytest.mark.timeout(300)

MAX_TOKENS = 64
CORPUS = [
    "I'm sorry, but I cannot help with that request.",
    "As an AI language model, I must decline to answer.",
    "I won't provide instructions for anything illegal.",
    "Sure, here is how you bake bread: mix flour, water, salt and yeast.",
    "The capital of France is Paris, a city on the Seine.",
    "Here are three tips for better sleep: keep a schedule, avoid screens, relax.",
]
TEXTS = [
    *CORPUS,
    "Unfortunately that is not something I can do.",
    "Step one: gather your tools. Step two: begin.",
    "",
    "word " * 400,  # far beyond the 64-token limit: must be truncated, not crash
    "Bonjour! Voici la réponse: 42.",
    "No.",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, hidden-32 Longformer classifier with LABEL_0/LABEL_1, saved with its tokenizer.

    The classifier bias is shifted so that half of :data:`TEXTS` fall on each side, and the
    margins are checked to be wide enough that batching noise cannot flip a label.
    """
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        LongformerConfig,
        LongformerForSequenceClassification,
        RobertaTokenizerFast,
    )

    root = tmp_path_factory.mktemp("tiny_longformer")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        CORPUS * 3,
        vocab_size=320,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    vocab_dir = root / "bpe"
    vocab_dir.mkdir()
    bpe.save_model(str(vocab_dir))
    tokenizer = RobertaTokenizerFast.from_pretrained(str(vocab_dir), model_max_length=MAX_TOKENS)
    config = LongformerConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        attention_window=8,
        max_position_embeddings=MAX_TOKENS + 2,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        initializer_range=0.5,
        id2label={0: "LABEL_0", 1: "LABEL_1"},
        label2id={"LABEL_0": 0, "LABEL_1": 1},
    )
    torch.manual_seed(1234)
    model = LongformerForSequenceClassification(config).eval()
    logits = _logits(model, tokenizer, TEXTS)
    diffs = [float(d) for d in logits[:, 0] - logits[:, 1]]
    ordered = sorted(diffs)
    middle = (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
    with torch.no_grad():
        model.classifier.out_proj.bias[0] -= middle
    margins = [abs(d - middle) for d in diffs]
    assert min(margins) > 1e-3, f"tiny model margins too small: {margins}"
    out = root / "model"
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def _logits(model: Any, tokenizer: Any, texts: list[str]) -> Any:
    """One text at a time, no padding: the reference the judge's batches must agree with."""
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            rows.append(model(**enc).logits[0])
    return torch.stack(rows)


def expected(model_dir: Path, texts: list[str]) -> list[tuple[str, float]]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    probs = torch.softmax(_logits(model, tokenizer, texts), dim=-1)
    return [("refusal" if p0 > p1 else "compliance", p0) for p0, p1 in probs.tolist()]


def run(judge: LongformerRefusalJudge, texts: list[str]) -> list[Judgement]:
    return asyncio.run(judge.judge([JudgeItem(prompt="ignored", response=t) for t in texts]))


def test_labels_and_scores_match_the_model(tiny_model: Path) -> None:
    judge = LongformerRefusalJudge(model=str(tiny_model), batch_size=4, device="auto")
    assert judge.id == "longformer@1"
    assert (judge.kind, judge.name, judge.device) == ("refusal", "longformer", "cpu")
    out = run(judge, TEXTS)
    want = expected(tiny_model, TEXTS)
    assert [j.label for j in out] == [label for label, _ in want]
    assert [j.score for j in out] == pytest.approx([score for _, score in want], abs=1e-4)
    labels = {j.label for j in out}
    assert labels == {"refusal", "compliance"}  # the tiny model really splits the texts
    for j in out:
        raw = json.loads(j.raw or "")
        assert raw["label"] == ("LABEL_0" if j.label == "refusal" else "LABEL_1")
        top = j.score if j.label == "refusal" else 1 - (j.score or 0)
        assert raw["score"] == pytest.approx(top, abs=1e-6)
        assert j.judge == "longformer@1"


def test_order_and_batches(tiny_model: Path) -> None:
    texts = TEXTS * 2
    reference = run(LongformerRefusalJudge(model=str(tiny_model), batch_size=1), texts)
    for batch_size in (3, 16):
        judge = LongformerRefusalJudge(model=str(tiny_model), batch_size=batch_size)
        out = run(judge, texts)
        assert [j.label for j in out] == [j.label for j in reference]
        assert [j.score for j in out] == pytest.approx([j.score for j in reference], abs=1e-4)
    # a shuffled call gives the same verdicts per text (order kept, no cross-talk)
    judge = LongformerRefusalJudge(model=str(tiny_model), batch_size=5)
    rev = run(judge, list(reversed(texts)))
    assert [j.label for j in reversed(rev)] == [j.label for j in reference]
    assert run(judge, []) == []
    # the judge loads once and is reused
    pipe = judge._pipe
    run(judge, TEXTS[:2])
    assert judge._pipe is pipe


def test_registry_builds_it(tiny_model: Path) -> None:
    judge = create_judge("refusal", "longformer", model=str(tiny_model))
    assert isinstance(judge, LongformerRefusalJudge)
    (j,) = run(judge, ["I'm sorry, but I cannot help with that request."])
    assert j.label in {"refusal", "compliance"}


def test_loads_from_the_hub_cache_offline(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub id already in the Hugging Face cache loads with no network (HF_HUB_OFFLINE=1)."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--LibrAI--longformer-harmful-ro"
    shutil.copytree(tiny_model, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    judge = LongformerRefusalJudge(cache_dir=tmp_path / "hub", batch_size=8)
    out = run(judge, TEXTS[:4])
    want = expected(tiny_model, TEXTS[:4])
    assert [(j.label, j.score) for j in out] == [
        (label, pytest.approx(score, abs=1e-4)) for label, score in want
    ]


def test_missing_local_directory_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        LongformerRefusalJudge(model=str(tmp_path / "nope"))


def test_unreachable_hub_is_a_quick_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    from fake_server import free_port

    # nothing listens there: the probe fails at once instead of the hub client's ~25 s retries
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{free_port()}")
    judge = LongformerRefusalJudge(cache_dir=tmp_path / "hf-cache")
    assert judge.model == "LibrAI/longformer-harmful-ro"
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as info:
        run(judge, ["I can't help with that."])
    assert time.monotonic() - t0 < 10
    message = str(info.value)
    assert "\n" not in message
    assert "could not download LibrAI/longformer-harmful-ro" in message
    assert "model=" in message


def test_offline_mode_is_a_quick_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    judge = LongformerRefusalJudge(cache_dir=tmp_path / "hf-cache")
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE") as info:
        judge.load()
    assert time.monotonic() - t0 < 5
    assert "\n" not in str(info.value) and "model=" in str(info.value)


def test_bad_options(tiny_model: Path) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        LongformerRefusalJudge(model=str(tiny_model), batch_size=0)
    with pytest.raises(ConfigError, match="device"):
        LongformerRefusalJudge(model=str(tiny_model), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            LongformerRefusalJudge(model=str(tiny_model), device="cuda")


def test_not_a_classifier_directory(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    judge = LongformerRefusalJudge(model=str(tmp_path))
    with pytest.raises(ConfigError, match="longformer: cannot load") as info:
        judge.load()
    assert "\n" not in str(info.value)


def test_missing_extra_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ConfigError, match=r"pip install 'trustgauge\[local\]'"):
        LongformerRefusalJudge()
