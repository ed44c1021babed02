"""SynthID-Text: tournament sampling (Dathathri et al., "Scalable watermarking for identifying
large language model outputs", Nature 634, 2024), marked through transformers' own
``SynthIDTextWatermarkLogitsProcessor`` and detected here, in vectorised numpy.

Marking. At each step the processor hashes the last ``ngram_len - 1`` generated tokens with
every candidate token and each of ``num_layers`` keys into a table of pseudo-random bits: the
token's g-value at that layer. It then reweights the model's distribution layer by layer,
``p <- p * (1 + g - E_p[g])`` (the expected outcome of a tournament with two candidates per
match), so tokens with g = 1 win more often. A context seen before in the same generation
(within the last ``context_history_size`` steps) is left unmarked, so repeats cannot pile up.

Detection. For every token after the first ``ngram_len - 1`` whose context is not a repeat
(transformers' ``compute_context_repetition_mask``), the g-values at all ``num_layers`` layers
are recomputed from the key. In text not marked with this key each is a fair pseudo-random bit
(the table's share of ones, ``p`` ~ 0.5), so their sum over the ``T`` scored tokens and ``L``
layers is a Binomial(``T L``, ``p``) count and the z-test of :func:`~trustgauge.watermark.base.z_test`
applies: ``z = (sum g - p T L) / sqrt(T L p (1 - p))``. This is the paper's *mean score*
(``synthid_text.detector_mean.mean_score`` = ``sum g / (T L)``) turned into a z-score with a
known null, which needs no trained detector (the paper's Bayesian detector is more powerful but
has to be fitted on marked and unmarked text of the model).

``p`` is the exact share of ones in the sampling table, not 1/2: the table is 2**16 coin flips,
whose share of ones is 1/2 +- 0.002, and with ``T L`` = 6,000 trials (200 tokens, 30 layers) a
0.002 bias would shift every z by 0.3.

Compatibility. The hash is transformers' (an LCG over token ids, then over each layer's key,
``% sampling_table_size``); the table is ``torch.randint(0, 2, generator=manual_seed(seed))``
on the CPU, which is MT19937 seeded with the seed's low 32 bits (torch's ``mt19937`` init), so
numpy rebuilds it without importing torch; a test checks both against transformers. The
processor handed to ``generate`` gets this CPU table even on a GPU (a CUDA generator would
draw a different table and the text would not be detectable). The ``num_layers`` keys and the
table seed are derived from the trustgauge key, so they never appear in a spec or a run (a
``sampling_table_seed`` given as a parameter is recorded like every parameter: it is not secret;
the layer keys still are). The processor's context starts as zeros, not the prompt: the first
``ngram_len - 1`` generated tokens are marked on a zero-padded context, and detection skips them
as transformers' and ``synthid_text``'s detectors do. Text is scored as given: ids without
special tokens, so there is no end-of-sequence token to cut at (``compute_eos_token_mask``).

Cost. The stock processor hashes every (candidate, layer) pair each step: 30 x 49,152 hashes
and table look-ups per row for SmolLM2, 325 ms per step for a batch of 4 on one CPU thread,
more than SmolLM2's own step. For a power-of-two table (the default)
:meth:`SynthIDScheme.logits_processor` hands out a subclass that gets the same g-values with one
look-up per candidate (:func:`_fast_processor`): 8 ms per step for the same batch, scores
bit-identical to the stock processor's (a test checks); SmolLM2's marked generation then costs
about 1.1x the CPU time of unmarked. Detection is numpy only: 23,000-34,000 texts of 200 tokens
per second in one process on a shared 2-core machine (ids given, tokenisation not counted).

Where the processor sits. ``hf`` passes it as ``generate(logits_processor=...)``, which
transformers runs before its temperature and top-p warpers (its own ``watermarking_config``
runs the watermark after them). At temperature 1 and top-p 1 the two orders are the same; at
another temperature the warper rescales the already reweighted scores, which sharpens or
flattens the mark along with everything else.

Sampling only. Tournament sampling is a sampling scheme: its guarantee (the watermarked
distribution averages to the model's own over keys) holds for sampled text. At temperature 0
the ``hf`` backend decodes greedily over the processor's reweighted scores: the argmax of the
reweighted distribution, which is still biased towards g = 1 and detectable, but it is a
different (deterministic, distorted) text from the unmarked greedy answer and not what the
paper measures (SmolLM2, 48 tokens: z 4.6-6.9 greedy, 5.3-8.0 sampled). Measure SynthID with
temperature > 0.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from trustgauge.errors import ConfigError, DataError
from trustgauge.watermark.base import (
    Detection,
    SchemeParameter,
    WatermarkScheme,
    min_tokens_for,
    register_scheme,
    z_test,
)

#: transformers' ``accumulate_hash`` LCG (newlib/musl multiplier, increment 1), modulo 2**64
_MULTIPLIER = np.uint64(6364136223846793005)
_ONE = np.uint64(1)
#: tokens scored per chunk in :meth:`SynthIDScheme.score_batch` (bounds the tokens x layers arrays)
_CHUNK_TOKENS = 1 << 15
#: transformers refuses larger sampling tables (``SynthIDTextWatermarkingConfig.validate``)
_MAX_TABLE = 1 << 24

U64 = npt.NDArray[np.uint64]


def _derive(seed: int, label: str, bits: int) -> int:
    digest = hashlib.sha256(f"trustgauge/synthid/{seed}/{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def sampling_table(seed: int, size: int) -> npt.NDArray[np.uint8]:
    """The table of g-values transformers' processor draws on the CPU,
    ``torch.randint(0, 2, (size,), generator=torch.Generator().manual_seed(seed))``, rebuilt in
    numpy: torch seeds its MT19937 with the seed's low 32 bits (the standard ``init_genrand``,
    as numpy's legacy ``RandomState(int)`` does) and draws one 32-bit output per element,
    ``output % 2``."""
    state: Any = np.random.RandomState(seed & 0xFFFFFFFF).get_state(legacy=False)
    generator = np.random.MT19937()
    generator.state = state
    return (generator.random_raw(size) & 1).astype(np.uint8)


def _accumulate(current: U64, data: U64) -> U64:
    """One step of transformers' ``accumulate_hash``: ``(current + data) * M + 1`` mod 2**64."""
    result: U64 = (current + data) * _MULTIPLIER + _ONE
    return result


@register_scheme
class SynthIDScheme(WatermarkScheme):
    """SynthID-Text tournament sampling (transformers' processor), detected by a z-test on the
    mean g-value."""

    name = "synthid"
    version = 1
    title = "SynthID-Text tournament sampling (Dathathri et al. 2024)"
    PARAMETERS: ClassVar[dict[str, SchemeParameter]] = {
        "ngram_len": SchemeParameter(
            5, "tokens hashed per g-value: the token and the ngram_len - 1 before it (paper: H = 4 context tokens)"
        ),
        "num_layers": SchemeParameter(
            30, "tournament layers (the paper's m = 30; transformers takes one key per layer, derived from the key)"
        ),
        "sampling_table_size": SchemeParameter(65536, "size of the table of pseudo-random g-values (at most 2**24)"),
        "sampling_table_seed": SchemeParameter(
            -1, "seed of the g-value table; -1: derived from the key (torch uses its low 32 bits)"
        ),
        "context_history_size": SchemeParameter(
            1024, "how many past contexts are remembered; a context seen in them is not marked or scored"
        ),
    }

    def check(self) -> None:
        n, layers = int(self.params["ngram_len"]), int(self.params["num_layers"])
        size, history = int(self.params["sampling_table_size"]), int(self.params["context_history_size"])
        seed = int(self.params["sampling_table_seed"])
        if not 2 <= n <= 64:
            raise ConfigError(f"synthid: ngram_len={n}: between 2 and 64 (it hashes ngram_len - 1 context tokens)")
        if not 1 <= layers <= 1024:
            raise ConfigError(f"synthid: num_layers={layers}: between 1 and 1024")
        if not 2 <= size <= _MAX_TABLE:
            raise ConfigError(f"synthid: sampling_table_size={size}: between 2 and 2**24 (transformers' limit)")
        if history < 1:
            raise ConfigError(f"synthid: context_history_size={history}: at least 1")
        if seed < -1 or seed >= 2**63:
            raise ConfigError(f"synthid: sampling_table_seed={seed}: -1 (from the key) or 0 .. 2**63 - 1")

    # --- settings -----------------------------------------------------------------------------

    @property
    def ngram_len(self) -> int:
        return int(self.params["ngram_len"])

    @property
    def num_layers(self) -> int:
        return int(self.params["num_layers"])

    @property
    def table_size(self) -> int:
        return int(self.params["sampling_table_size"])

    @property
    def history_size(self) -> int:
        return int(self.params["context_history_size"])

    @cached_property
    def keys(self) -> list[int]:
        """One non-negative 63-bit key per layer (torch stores them as int64), derived from the
        trustgauge key: what transformers' ``keys`` list is."""
        return [_derive(self.key.seed, f"layer/{i}", 63) for i in range(self.num_layers)]

    @cached_property
    def table_seed(self) -> int:
        seed = int(self.params["sampling_table_seed"])
        return _derive(self.key.seed, "sampling_table", 32) if seed == -1 else seed

    @cached_property
    def table(self) -> npt.NDArray[np.uint8]:
        return sampling_table(self.table_seed, self.table_size)

    @cached_property
    def p(self) -> float:
        """The share of ones in the table: the chance a g-value is 1 for text not marked with
        this key."""
        return float(self.table.mean())

    @property
    def min_tokens(self) -> int:
        # The layers' bits count as trials, but the units that are independent under the null
        # are tokens (one ngram hash feeds all layers), and a token's layer bits all move together
        # when an edit changes it. So also ask what a one-layer test would: 16 scored tokens, the
        # fewest with which a text whose every token is marked could reach z = 4 counting one
        # fair bit per token (KGW's rule at gamma = 1/2).
        return max(
            min_tokens_for(self.p, trials_per_token=self.num_layers, z_threshold=self.z_threshold),
            min_tokens_for(0.5, trials_per_token=1, z_threshold=self.z_threshold),
        )

    # --- marking --------------------------------------------------------------------------------

    def logits_processor(self, vocab_size: int, device: str) -> Any:
        """transformers' ``SynthIDTextWatermarkLogitsProcessor`` with this key's layer keys and
        table (the table is the CPU draw on every device, so detection does not depend on where
        the text was generated). Use with sampling (see the module docstring for temperature 0).

        For a power-of-two table and at most 62 layers (the default) it is
        :func:`_fast_processor`'s subclass, whose
        scores are bit-identical to the stock processor's (a test checks) at a fraction of the
        cost; ``vocab_size`` sizes its per-token table."""
        import torch
        from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

        size = self.table_size
        fast = size & (size - 1) == 0 and self.num_layers <= 62
        cls: Any = _fast_processor() if fast else SynthIDTextWatermarkLogitsProcessor
        processor = cls(
            ngram_len=self.ngram_len,
            keys=self.keys,
            sampling_table_size=size,
            sampling_table_seed=self.table_seed,
            context_history_size=self.history_size,
            device=torch.device(device),
        )
        processor.sampling_table = torch.from_numpy(self.table.astype(np.int64)).to(device)
        if fast:
            processor.prepare(self.table, self.keys, vocab_size)
        return processor

    # --- detection --------------------------------------------------------------------------------

    def _hashes(self, flat: U64) -> tuple[U64, U64]:
        """For every position ``j >= ngram_len - 1`` of ``flat``: the hash of its context
        ``flat[j - n + 1 : j]`` and of its ngram ``flat[j - n + 1 : j + 1]`` (transformers'
        ``accumulate_hash`` from 1; ngrams crossing a text boundary are computed and dropped by
        the caller)."""
        n = self.ngram_len
        count = flat.size - n + 1
        context = np.ones(count, dtype=np.uint64)
        for k in range(n - 1):
            context = _accumulate(context, flat[k : k + count])
        return context, _accumulate(context, flat[n - 1 :])

    def _layer_g(self, ngram_hash: U64) -> npt.NDArray[np.uint8]:
        """The g-values ``(len(ngram_hash), num_layers)`` of ngrams with these hashes."""
        size = self.table_size
        if size & (size - 1) == 0:
            index = np.empty((ngram_hash.size, self.num_layers), dtype=np.uint32)
            for layer, (base, step) in enumerate(self._low_index(ngram_hash)):
                np.add(base, step, out=index[:, layer])
            index &= np.uint32(size - 1)
        else:
            keys64 = np.array(self.keys, dtype=np.uint64)
            full = _accumulate(ngram_hash[:, None], keys64[None, :])
            # torch's % on int64 takes the divisor's sign (as numpy's remainder does)
            index = np.remainder(full.view(np.int64), size)  # type: ignore[assignment]
        return self.table[index]

    def _low_index(self, ngram_hash: U64) -> list[tuple[npt.NDArray[np.uint32], np.uint32]]:
        """For a power-of-two table: ``(h + key) * M + 1 mod 2**k`` depends only on the low
        bits, and equals ``h * M + (key * M + 1)``; so one 32-bit product per token and one
        addition per layer (the caller masks to the table size)."""
        low = (ngram_hash & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        low *= np.uint32(int(_MULTIPLIER) & 0xFFFFFFFF)
        m = int(_MULTIPLIER)
        return [(low, np.uint32((key * m + 1) & 0xFFFFFFFF)) for key in self.keys]

    def _token_hits(self, ngram_hash: U64) -> npt.NDArray[np.int64]:
        """Each ngram's sum of g-values over the layers (the scoring hot path: for a
        power-of-two table, one pass per layer over 32-bit indices, no tokens x layers array)."""
        size = self.table_size
        if size & (size - 1):
            sums: npt.NDArray[np.int64] = self._layer_g(ngram_hash).sum(axis=1, dtype=np.int64)
            return sums
        mask = np.uint32(size - 1)
        total = np.zeros(ngram_hash.size, dtype=np.int64)
        index = np.empty(ngram_hash.size, dtype=np.uint32)
        for base, step in self._low_index(ngram_hash):
            np.add(base, step, out=index)
            index &= mask
            total += np.take(self.table, index)
        return total

    def g_values(self, ids: Sequence[int]) -> npt.NDArray[np.uint8]:
        """The g-values ``(len(ids) - ngram_len + 1, num_layers)`` of one token sequence:
        transformers' ``compute_g_values`` (for tests and inspection; scoring is batched)."""
        flat = _as_array([ids])
        if flat.size < self.ngram_len:
            return np.zeros((0, self.num_layers), dtype=np.uint8)
        return self._layer_g(self._hashes(flat)[1])

    def context_mask(self, ids: Sequence[int]) -> npt.NDArray[np.bool_]:
        """``True`` where the position's context is not a repeat: transformers'
        ``compute_context_repetition_mask`` for one sequence."""
        flat = _as_array([ids])
        if flat.size < self.ngram_len:
            return np.zeros(0, dtype=bool)
        context = self._hashes(flat)[0]
        return ~self._repeated(context, np.zeros(context.size, dtype=np.int64), np.arange(context.size))

    def _repeated(self, context: U64, text: npt.NDArray[np.int64], index: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether each context (hash ``context``, in text ``text``, ``index``-th context of that
        text) was seen among the ``context_history_size`` contexts before it in its text, as
        transformers' history works (it starts full of zeros, so a context hashing to 0 counts as
        seen in the first ``context_history_size`` steps). Positions must be in text order."""
        repeated = np.zeros(context.size, dtype=bool)
        if context.size > 1:
            order = _order_by_hash(context)
            ctx, txt, idx = context[order], text[order], index[order]
            # equal hashes sit together in text order: each one's predecessor is the nearest
            # earlier occurrence in the same text, if it is in the same text
            seen = (ctx[1:] == ctx[:-1]) & (txt[1:] == txt[:-1]) & (idx[1:] - idx[:-1] <= self.history_size)
            repeated[order[1:]] = seen
        repeated |= (context == 0) & (index < self.history_size)
        return repeated

    def score_batch(self, ids: Sequence[Sequence[int]]) -> list[Detection]:
        """The z-test of each sequence's g-values (see the module docstring). Vectorised over the
        batch: texts are concatenated and processed in chunks of about 32k tokens."""
        detections: list[Detection] = []
        start = 0
        while start < len(ids):
            stop, tokens = start, 0
            while stop < len(ids) and (tokens == 0 or tokens + len(ids[stop]) <= _CHUNK_TOKENS):
                tokens += len(ids[stop])
                stop += 1
            detections.extend(self._score_chunk(ids[start:stop]))
            start = stop
        return detections

    def _score_chunk(self, ids: Sequence[Sequence[int]]) -> list[Detection]:
        n, layers = self.ngram_len, self.num_layers
        lengths = np.fromiter((len(s) for s in ids), dtype=np.int64, count=len(ids))
        scored = np.zeros(len(ids), dtype=np.int64)
        hits = np.zeros(len(ids), dtype=np.int64)
        flat = _as_array(ids, int(lengths.sum()))
        if flat.size >= n:
            text = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
            offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            position = np.arange(flat.size, dtype=np.int64) - offsets[text]
            context, ngram = self._hashes(flat)
            # position j of the flat array is ngram j - n + 1 of the hashes
            text, position = text[n - 1 :], position[n - 1 :]
            whole = position >= n - 1  # the ngram lies inside one text
            context, ngram, text, index = context[whole], ngram[whole], text[whole], position[whole] - (n - 1)
            keep = ~self._repeated(context, text, index)
            ngram, text = ngram[keep], text[keep]
            per_token = self._token_hits(ngram)
            scored = np.bincount(text, minlength=len(ids))
            hits = np.bincount(text, weights=per_token, minlength=len(ids)).astype(np.int64)
        minimum, p = self.min_tokens, self.p
        return [
            z_test(self.name, float(h), int(s) * layers, p, scored=int(s), min_tokens=minimum, z_threshold=self.z_threshold)
            for h, s in zip(hits.tolist(), scored.tolist(), strict=True)
        ]


_FAST_PROCESSOR: Any = None


def _fast_processor() -> Any:
    """A subclass of transformers' ``SynthIDTextWatermarkLogitsProcessor`` (built on first use:
    this module imports no torch) that computes the same g-values for the whole vocabulary with
    one table look-up per token instead of hashing every (token, layer) pair.

    For a table of ``2**k`` entries the g-value of candidate ``v`` at layer ``l`` after context
    hash ``c`` is ``table[((c + v) M + 1 + key_l) M + 1 mod 2**k]``
    ``= table[(x_v + key_l M + 1) mod 2**k]`` with ``x_v = c M^2 + M + v M^2 mod 2**k``. So a
    ``(layers, 2**k)`` table ``G[l, x] = table[(x + key_l M + 1) mod 2**k]`` built once per
    processor gives every layer's g-values for ``v`` at ``G[:, x_v]``; they are packed as the
    bits of one int64 per ``x``, so a step gathers one integer per candidate. The state and the
    repeated-context rule are transformers' own, and ``__call__`` below is theirs with the
    g-values swapped and ``update_scores``' loop inlined to read each layer's bit: the same
    operations in the same order, so the scores are bit-identical (a test checks)."""
    global _FAST_PROCESSOR
    if _FAST_PROCESSOR is not None:
        return _FAST_PROCESSOR
    import torch
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

    class FastSynthIDTextWatermarkLogitsProcessor(SynthIDTextWatermarkLogitsProcessor):
        def prepare(self, table: npt.NDArray[np.uint8], keys: Sequence[int], vocab_size: int) -> None:
            size = table.size
            self._mask = size - 1
            m = int(_MULTIPLIER)
            self._m2 = (m * m) & self._mask
            self._m1 = m & self._mask
            offsets = np.array([(k * m + 1) & self._mask for k in keys], dtype=np.int64)
            layer_table = table[(np.arange(size, dtype=np.int64)[None, :] + offsets[:, None]) & self._mask]
            # every layer's g-value of table position x, as the bits of one integer
            weights = np.left_shift(np.int64(1), np.arange(len(keys), dtype=np.int64))
            packed = (layer_table.astype(np.int64) * weights[:, None]).sum(axis=0)
            if len(keys) <= 31:  # int32 bits halve the per-layer work (and give the same scores)
                packed = packed.astype(np.int32)
            self._layer_bits = torch.from_numpy(packed).to(self.device)
            self._depth = len(keys)
            self._vocab_size = vocab_size
            self._candidates = (torch.arange(vocab_size, device=self.device) * self._m2) & self._mask

        def _candidate_offsets(self, vocab_size: int) -> torch.Tensor:
            if vocab_size != self._vocab_size:  # the scores' width decides, as in the stock processor
                self._vocab_size = vocab_size
                self._candidates = (torch.arange(vocab_size, device=self.device) * self._m2) & self._mask
            return self._candidates

        def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            self._check_input_ids_shape(input_ids)
            batch_size, vocab_size = scores.shape
            if self.debug_mode:
                scores = torch.ones_like(scores)
            if self.state is None:
                self._init_state(batch_size)
            else:
                self.state.context = torch.concat((self.state.context, input_ids[:, -1:]), dim=1)[:, 1:]
            assert self.state is not None
            self.state.num_calls += 1
            if self.skip_first_ngram_calls and self.state.num_calls < self.ngram_len:
                return scores
            start = torch.ones(batch_size, device=self.device, dtype=torch.long)
            context_hash = self.accumulate_hash(start, self.state.context)
            base = ((context_hash & self._mask) * self._m2 + self._m1) & self._mask
            x = (base[:, None] + self._candidate_offsets(vocab_size)[None, :]) & self._mask
            bits = self._layer_bits[x]
            # transformers' update_scores, with each layer's g-values read off the bits
            probs = torch.softmax(scores, dim=1)
            for i in range(self._depth):
                g_values_at_depth = (bits >> i) & 1
                g_mass_at_depth = (g_values_at_depth * probs).sum(axis=1, keepdims=True)
                probs = probs * (1 + g_values_at_depth - g_mass_at_depth)
            log_probs = torch.log(probs)
            updated_scores = torch.where(torch.isfinite(log_probs), log_probs, torch.finfo(log_probs.dtype).min)
            context_hash = context_hash[:, None]
            is_repeated_context = (self.state.context_history == context_hash).any(dim=1, keepdim=True)
            self.state.context_history = torch.concat((context_hash, self.state.context_history), dim=1)[:, :-1]
            return torch.where(is_repeated_context, input=scores, other=updated_scores)

    _FAST_PROCESSOR = FastSynthIDTextWatermarkLogitsProcessor
    return _FAST_PROCESSOR


def _order_by_hash(context: U64) -> npt.NDArray[np.intp]:
    """A stable ordering of ``context`` by value (equal values keep their order). Sorting the
    values with each one's position packed into its low bits is about twice as fast as a
    stable argsort; when two different hashes share their high bits and could interleave (about
    2**-40 per pair of positions) the exact stable argsort is used instead."""
    bits = max(1, int(context.size - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    packed = np.sort((context & ~low) | np.arange(context.size, dtype=np.uint64))
    order: npt.NDArray[np.intp] = (packed & low).astype(np.intp)
    high = packed & ~low
    ordered = context[order]
    if bool(np.any((high[1:] == high[:-1]) & (ordered[1:] != ordered[:-1]))):
        stable: npt.NDArray[np.intp] = np.argsort(context, kind="stable")
        return stable
    return order


def _as_array(ids: Sequence[Sequence[int]], total: int | None = None) -> U64:
    """The token ids of ``ids`` concatenated, as uint64; a negative id is a :class:`DataError`."""
    count = sum(len(s) for s in ids) if total is None else total
    try:
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=count)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"synthid: token ids must be integers in [0, 2**63): {exc}") from None
    if flat.size and int(flat.min()) < 0:
        raise DataError(f"synthid: token ids must be non-negative, got {int(flat.min())}")
    return flat.astype(np.uint64)
