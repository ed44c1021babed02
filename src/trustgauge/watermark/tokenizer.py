"""What watermark detection needs of a tokenizer: the token ids of texts, no special tokens.

Backends that have one hand it out through ``Model.tokenizer()`` (``hf:``: the model's own fast
tokenizer); detection needs nothing else of the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from trustgauge.types import TextTokenizer
from trustgauge.watermark._pretoken_cache import PretokenCache

__all__ = ["HFTokenizer", "TextTokenizer"]


class HFTokenizer:
    """A transformers tokenizer as a :class:`TextTokenizer` (batch encoding runs in the Rust
    ``tokenizers`` library for fast tokenizers; for byte-level BPE tokenizers recognised exactly,
    by a pre-token cache that gives the same ids, ``pretoken_cache=False`` to turn it off)."""

    def __init__(self, tokenizer: object, name: str, vocab_size: int | None = None,
                 pretoken_cache: bool = True) -> None:
        self._tokenizer = tokenizer
        #: the Rust tokenizer behind a fast transformers tokenizer: its ``encode_batch_fast``
        #: (no offsets, no Python BatchEncoding) is what makes detection fast
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None and (getattr(backend, "padding", None) or getattr(backend, "truncation", None)):
            # a tokenizer file may switch on padding or truncation (MiniLM's pads and cuts at
            # 128 tokens): detection needs every token of the text and no pad ids, so it uses
            # its own copy with both off (the model's tokenizer is left as it is)
            from tokenizers import Tokenizer

            backend = Tokenizer.from_str(backend.to_str())
            backend.no_padding()
            backend.no_truncation()
        self._fast = getattr(backend, "encode_batch_fast", None) or getattr(backend, "encode_batch", None)
        #: byte-level BPE tokenizers recognised exactly (SmolLM2's): pre-token look-up, the same
        #: ids as the Rust call for a fraction of its CPU (see _pretoken_cache)
        self.pretoken_cache: PretokenCache | None = None
        if pretoken_cache and backend is not None and self._fast is not None:
            self.pretoken_cache = PretokenCache.for_backend(backend)
        self.name = name
        size = vocab_size if vocab_size is not None else len(tokenizer)  # type: ignore[arg-type]
        self.vocab_size = int(size)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        if self.pretoken_cache is not None:
            return self.pretoken_cache.encode_batch(texts, self._encode_rust)
        if self._fast is not None:
            return self._encode_rust(list(texts))
        encoded = self._tokenizer(list(texts), add_special_tokens=False)  # type: ignore[operator]
        return [list(ids) for ids in encoded["input_ids"]]

    def _encode_rust(self, texts: list[str]) -> list[list[int]]:
        assert self._fast is not None
        return [encoding.ids for encoding in self._fast(texts, add_special_tokens=False)]


def load_tokenizer(name_or_path: str) -> HFTokenizer:
    """A tokenizer alone (no model weights): a local directory holding a tokenizer, or a hub
    name already in the local cache or reachable. Raises :class:`ConfigError` with the reason
    when it cannot be loaded."""
    from pathlib import Path

    from trustgauge.errors import ConfigError

    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ConfigError("loading a tokenizer needs transformers: pip install 'trustgauge[local]'") from None
    source = Path(name_or_path).expanduser()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source) if source.exists() else name_or_path)
    except (OSError, ValueError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot load a tokenizer from {name_or_path}: {first}") from None
    return HFTokenizer(tokenizer, name_or_path)
