"""Membership inference against a ground truth (issue 16 item 1): a tiny GPT-2 trained from
scratch on a random half of synthetic texts, loaded by the real ``hf:`` backend, attacked through
``trustgauge run``. The attacks must separate its members; the same architecture trained on a
third, disjoint set (it saw neither half) must not separate them. Also the ``hf:`` scoring itself
on that model: each token's log-probability and its distribution's moments equal a direct
computation, and a text longer than the context window is cut and said to be."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from _scripts import load_script

pytest.importorskip("torch")
pytest.importorskip("transformers")
gt = load_script("mia_ground_truth")

pytestmark = pytest.mark.slow

#: the attacks that read the target model's likelihoods of the text
LIKELIHOOD_ATTACKS = ("loss", "zlib", "min_k", "min_k_plus_plus")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("mia-tiny")
    texts = gt.tiny_texts()
    records = gt.split(texts[:120])
    members = [r["text"] for r in records if r["label"] == 1]
    return {
        "root": root,
        "data": gt.write_jsonl(records, root / "split.jsonl"),
        "trained": gt.tiny_model(members, root / "members"),
        "unseen": gt.tiny_model(texts[120:], root / "unseen"),
    }


def test_attacks_separate_the_members_of_a_model_trained_on_them(tiny: dict[str, Any]) -> None:
    metrics = gt.run_attacks(f"hf:{tiny['trained']}", tiny["data"], tiny["root"] / "run-trained",
                             reference=f"hf:{tiny['unseen']}", home=tiny["root"] / "home")
    for attack in (*LIKELIHOOD_ATTACKS, "reference"):
        auroc = metrics[f"auroc[{attack}]"]
        assert auroc["value"] >= 0.75, (attack, auroc)
        assert auroc["ci"][0] > 0.5, (attack, auroc)  # the interval excludes chance
    # all texts are lower case: the lowercase attack has nothing to compare, exactly chance
    assert metrics["auroc[lowercase]"]["value"] == 0.5
    # the halves come from one distribution: the words alone do not tell them apart
    assert metrics["shifted"]["value"] == 0.0
    assert metrics["auroc"]["value"] == max(metrics[f"auroc[{a}]"]["value"] for a in (*LIKELIHOOD_ATTACKS, "reference"))


def test_a_model_that_saw_neither_half_gives_chance(tiny: dict[str, Any]) -> None:
    metrics = gt.run_attacks(f"hf:{tiny['unseen']}", tiny["data"], tiny["root"] / "run-unseen",
                             home=tiny["root"] / "home")
    for attack in LIKELIHOOD_ATTACKS:
        auroc = metrics[f"auroc[{attack}]"]
        assert abs(auroc["value"] - 0.5) <= 0.15, (attack, auroc)
        assert auroc["ci"][0] <= 0.5 <= auroc["ci"][1], (attack, auroc)
    assert metrics["auroc[reference]"]["value"] is None
    assert "--role reference=SPEC" in metrics["auroc[reference]"]["reason"]


def test_hf_scores_equal_a_direct_computation_and_long_texts_are_cut(tiny: dict[str, Any]) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trustgauge.config import ModelConfig
    from trustgauge.models.registry import load_model
    from trustgauge.stats.membership import token_moments
    from trustgauge.types import Request

    folder = tiny["trained"]
    text = gt.tiny_texts()[0]
    long_text = " ".join([text] * 4)  # 96 words; the model reads 64 positions
    model = load_model(ModelConfig(model=f"hf:{folder}"))
    try:
        short, cut = asyncio.run(model.respond([Request.scoring(text), Request.scoring(long_text)]))
    finally:
        asyncio.run(model.aclose())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    direct = AutoModelForCausalLM.from_pretrained(folder).eval()
    ids = [tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"]]
    with torch.inference_mode():
        logprobs = torch.log_softmax(direct(torch.tensor([ids])).logits[0].double(), dim=-1)
    want = [float(logprobs[i, ids[i + 1]]) for i in range(len(ids) - 1)]
    mu, sigma = token_moments(logprobs[:-1].numpy())
    tokens = short.tokens or ()
    assert [t.logprob for t in tokens] == pytest.approx(want, abs=1e-4)
    assert [t.dist_mean for t in tokens] == pytest.approx(list(mu), abs=1e-4)
    assert [t.dist_std for t in tokens] == pytest.approx(list(sigma), abs=1e-4)
    assert short.finish_reason == "scored" and len(tokens) == 24
    # 96 words after the start token in a 64-position window: the first 63 are scored
    assert cut.finish_reason == "length" and len(cut.tokens or ()) == 63
    assert [t.logprob for t in (cut.tokens or ())[:24]] == pytest.approx(want, abs=1e-4)
