"""What the local-weights backends (``hf:`` and ``vllm:``) share, so that the two give the same
prompt and score the same tokens for the same request: the prompt of a tokenizer without a chat
template, the identity of a model directory, and how a ``(context, continuation)`` pair becomes
token ids that fit the context window. Pure functions; the tokenizer is passed in (a
``transformers`` tokenizer: vLLM's ``LLM.get_tokenizer()`` is one too)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from trustgauge.errors import PermanentModelError

#: weight/config files whose names, sizes and mtimes identify a local model directory
IDENTITY_SUFFIXES = (
    ".json",
    ".safetensors",
    ".bin",
    ".model",
    ".txt",
    ".jinja",
    ".py",
    ".gguf",
    ".tiktoken",
)


def directory_fingerprint(path: Path) -> str:
    """SHA-256 over names, sizes and mtimes of a local model directory's config/weight files."""
    h = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.is_file() and file.suffix in IDENTITY_SUFFIXES:
            st = file.stat()
            h.update(f"{file.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """For tokenizers without a chat template: the bare prompt, or a simple transcript."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join([*lines, "Assistant:"])


def scoring_ids(tokenizer: Any, context: str, continuation: str, backend: str) -> tuple[list[int], list[int]]:
    """Context and continuation tokenized apart (so the continuation's tokens are its own, as
    lm-evaluation-harness does); an empty context becomes the start (or end) token.

    Raises:
        PermanentModelError: an empty context and a tokenizer with neither token.
    """
    ctx = [int(t) for t in tokenizer(context, add_special_tokens=False)["input_ids"]]
    cont = [int(t) for t in tokenizer(continuation, add_special_tokens=False)["input_ids"]]
    if not ctx:
        start = tokenizer.bos_token_id
        if start is None:
            start = tokenizer.eos_token_id
        if start is None:
            raise PermanentModelError(f"{backend}: an empty context needs a start or end token")
        ctx = [int(start)]
    return ctx, cont


def fit_window(ctx: list[int], cont: list[int], window: int | None) -> tuple[list[int], list[int], int]:
    """Context and continuation cut to ``window`` tokens: the continuation keeps its first
    tokens (what does not fit is counted as truncated, the third value); a context too long on
    its own keeps its last tokens, so that at least one continuation token is scored."""
    if window is None or len(ctx) + len(cont) <= window:
        return ctx, cont, 0
    if len(ctx) >= window:
        ctx = ctx[-(window - 1):]
    room = window - len(ctx)
    return ctx, cont[:room], len(cont) - room
