"""What watermark detection needs of a tokenizer: the token ids of texts, no special tokens.

Backends that have one hand it out through ``Model.tokenizer()`` (``hf:``: the model's own fast
tokenizer); detection needs nothing else of the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.types import TextTokenizer

__all__ = ["HFTokenizer", "TextTokenizer"]


class HFTokenizer:
    """A transformers tokenizer as a :class:`TextTokenizer` (batch encoding runs in the Rust
    ``tokenizers`` library for fast tokenizers)."""

    def __init__(self, tokenizer: object, name: str, vocab_size: int | None = None) -> None:
        self._tokenizer = tokenizer
        #: the Rust tokenizer behind a fast transformers tokenizer: its ``encode_batch_fast``
        #: (no offsets, no Python BatchEncoding) is what makes detection fast
        backend = getattr(tokenizer, "backend_tokenizer", None)
        self._fast = getattr(backend, "encode_batch_fast", None) or getattr(backend, "encode_batch", None)
        self.name = name
        size = vocab_size if vocab_size is not None else len(tokenizer)  # type: ignore[arg-type]
        self.vocab_size = int(size)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        if self._fast is not None:
            return [encoding.ids for encoding in self._fast(list(texts), add_special_tokens=False)]
        encoded = self._tokenizer(list(texts), add_special_tokens=False)  # type: ignore[operator]
        return [list(ids) for ids in encoded["input_ids"]]
