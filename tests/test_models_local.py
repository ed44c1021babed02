"""What ``hf:`` and ``vllm:`` share (``trustgauge.models._local``): the prompt without a chat
template, a model directory's identity, and the token ids a (context, continuation) pair is
scored on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from trustgauge.errors import PermanentModelError
from trustgauge.models._local import directory_fingerprint, fit_window, plain_prompt, scoring_ids


class Words:
    """Splits on spaces: ``"a b"`` -> ids of ``a``, ``b``; start token 1 unless told otherwise."""

    def __init__(self, bos: int | None = 1, eos: int | None = 2) -> None:
        self.bos_token_id, self.eos_token_id = bos, eos

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, Any]:
        assert add_special_tokens is False
        return {"input_ids": [100 + ord(w[0]) for w in text.split()]}


def test_context_and_continuation_are_tokenized_apart() -> None:
    assert scoring_ids(Words(), "a b", "c d e", "hf") == ([197, 198], [199, 200, 201])
    # an empty context is the start token, else the end token
    assert scoring_ids(Words(), "", "c", "hf") == ([1], [199])
    assert scoring_ids(Words(bos=None), "", "c", "hf") == ([2], [199])
    with pytest.raises(PermanentModelError, match="vllm: an empty context needs a start or end token"):
        scoring_ids(Words(bos=None, eos=None), "", "c", "vllm")


def test_a_pair_is_cut_to_the_window_keeping_the_continuations_first_tokens() -> None:
    ctx, cont = [1, 2, 3], [4, 5, 6, 7]
    assert fit_window(ctx, cont, None) == (ctx, cont, 0)
    assert fit_window(ctx, cont, 7) == (ctx, cont, 0)
    assert fit_window(ctx, cont, 5) == ([1, 2, 3], [4, 5], 2)
    # a context as long as the window keeps its last tokens and leaves one place to score
    assert fit_window([1, 2, 3, 4, 5], cont, 4) == ([3, 4, 5], [4], 3)


def test_the_plain_prompt_is_the_bare_prompt_or_a_transcript() -> None:
    assert plain_prompt([{"role": "user", "content": "Hi?"}]) == "Hi?"
    assert plain_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]) == (
        "System: Be brief.\n\nUser: Hi?\n\nAssistant:")


def test_a_directory_is_identified_by_its_weight_and_config_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "notes.md").write_text("ignored")
    first = directory_fingerprint(tmp_path)
    (tmp_path / "notes.md").write_text("still ignored, another size")
    assert directory_fingerprint(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 8)
    second = directory_fingerprint(tmp_path)
    assert second != first and len(second) == 64
    os.utime(tmp_path / "model.safetensors", ns=(1, 1))
    assert directory_fingerprint(tmp_path) != second
