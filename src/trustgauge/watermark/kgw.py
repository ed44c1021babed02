"""KGW: the green-list watermark of Kirchenbauer et al. (2023), "A Watermark for Large Language
Models" (ICML), with the seeding schemes of their "On the Reliability of Watermarks for Large
Language Models" (2023b).

At every sampling step the tokens before it (the *context*: the last ``context_width`` tokens)
seed a pseudo-random split of the vocabulary into a *green* fraction ``gamma`` and a red rest;
``delta`` is added to the green logits, so a marked text has more green tokens than the
``gamma`` share chance gives. Detection recomputes each token's green list from its context and
the key and z-tests the green count (eq. 2 of the paper: ``(|s|_G - gamma T) / sqrt(T gamma
(1 - gamma))``). It needs only the key and the tokenizer.

Seeding (``seeding``; the names of MarkLLM's ``f_scheme``, Kirchenbauer et al. 2023b, "hashing schemes"): the
context's tokens are reduced to one value that seeds the green list. ``additive``: their sum;
``time``: their product (of ``id + 1`` in ``hash`` mode, so token 0 does not zero it);
``skip``: the furthest token alone (``ids[-context_width]``); ``min``: the smallest key-hash of
the context's tokens; ``selfhash`` (``green_list=hash`` only; after Algorithm 3 of 2023b, with our hash, not
transformers' ``selfhash`` rejection sampling): the smallest key-hash over the context AND the
candidate token itself, so each candidate has its own green list, computed for the whole
vocabulary at once. With ``context_width=1`` every scheme but ``min`` and
``selfhash`` seeds from the previous token.

Green lists (``green_list``):

``hash`` (default; ours): token ``t`` is green after a context of value ``v`` iff
``mix(mix(v ^ k_ctx) ^ h(t)) < gamma * 2**32`` where ``h(t) = mix(t ^ k_tok)``, ``mix`` is a
32-bit integer mixer (xor-shift-multiply, multipliers below 2**31 so every product of a 32-bit
value fits a signed 64-bit integer: no overflow, identical results in numpy and torch) and
``k_tok``, ``k_ctx`` come from the key. Membership is O(1) and a whole vocabulary row is one
vectorised operation over a precomputed ``h`` table, so marking costs nothing measurable and
detection scores every token of every text of a batch at once. The green share is ``gamma``
(to 2**-32) for every context, but not an exact count per row.

``permutation``: the authors' own algorithm as transformers implements it
(``WatermarkLogitsProcessor``/``WatermarkDetector``, which follow the lm-watermarking repository):
a ``torch.Generator`` seeded with ``(hash_key * f(context)) % (2**64 - 1)`` draws
``randperm(vocab_size)`` and the first ``int(gamma * vocab_size)`` tokens are green; ``f`` is
the seeding value over raw token ids (sum, product, furthest token, smallest id). It is THE
reference for this mode: with ``context_width=1`` (transformers' ``lefthash``), the key
``15485863`` (transformers' and MarkLLM's default) and the same ``vocab_size`` it gives
transformers' green lists and z-scores exactly (tests/test_watermark_kgw.py checks both).

``markllm``: MarkLLM 0.1.5's ``KGWUtils`` (``window_scheme="left"``): the seed is
``(hash_key * prf[f(context)]) % vocab_size`` with ``prf = randperm(vocab_size)`` drawn from
the key, and ``f`` MarkLLM's ``f_scheme`` (the sum or product taken ``% vocab_size``). Same green
lists and z-scores as MarkLLM for every ``seeding`` but ``selfhash`` (checked by the tests).

Both permutation modes draw the permutation on the CPU whatever device the model is on (a CUDA
generator draws a different permutation from the same seed), need ``vocab_size`` (the model's
logits width; :meth:`KGW.detect_texts` takes it from the tokenizer) and cost a ``randperm`` per
new seed: detection caches each seed's green mask (LRU, bit-packed). The seed space is the
vocabulary (``context_width=1``), so a warm cache makes detection fast, but ``hash`` is the one
to use when speed matters.

``ignore_repeated`` (default on, as Kirchenbauer et al. 2023b recommend): each (context
seed, token) pair of a text is scored once. Repetitive text repeats its (context, token) pairs,
and a repeated pair is the same coin flip, not a new one: counting it again inflates z on
unmarked text. The pair is the seed value with the token, so two contexts that seed the same
green list (equal sums under ``additive``) count as one, like transformers' detector counts
n-grams for ``context_width=1``.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from trustgauge.errors import ConfigError
from trustgauge.watermark.base import (
    Detection,
    SchemeParameter,
    WatermarkScheme,
    min_tokens_for,
    register_scheme,
    z_test,
)
from trustgauge.watermark.tokenizer import TextTokenizer

MASK32 = 0xFFFFFFFF
#: odd multipliers below 2**31: a 32-bit value times one fits a signed 64-bit integer
_MULTIPLIERS = (0x7FEB352D, 0x2C1B3C6D, 0x297A2D39)
_TOKEN_SALT = 0x5BD1E995
_CONTEXT_SALT = 0x1B873593
#: transformers' seed modulus (lm-watermarking's ``prf_key % (2**64 - 1)``)
_SEED_MODULUS = 2**64 - 1
#: green masks a scheme keeps in the permutation modes (bit-packed: 6 KB each for 49,152 logits;
#: not a parameter, so it stays out of the spec and the generation cache key)
MASK_CACHE_SIZE = 16384
#: the largest id the hash lookup tables cover (2**22: 32 MB a table)
_TABLE_LIMIT = 2**22
#: texts scored per padded matrix (bounded padding and memory)
_CHUNK = 4096

Int64Array = npt.NDArray[np.int64]


def mix32(x: Any) -> Any:
    """A 32-bit integer mixer (xor-shift-multiply, three rounds) on values in ``[0, 2**32)``.

    The same operators on a Python int, a numpy int64 array or a torch int64 tensor give the same
    numbers: every product is a 32-bit value times a multiplier below 2**31, so nothing overflows
    64 bits, and each step is masked back to 32 bits."""
    for multiplier in _MULTIPLIERS:
        x = x ^ (x >> 16)
        x = (x * multiplier) & MASK32
    return x ^ (x >> 15)


def key_words(seed: int) -> tuple[int, int]:
    """The two 32-bit words the ``hash`` green lists draw from the key's 63-bit seed."""
    k_tok = mix32(((seed & MASK32) ^ _TOKEN_SALT) & MASK32)
    k_ctx = mix32((((seed >> 32) & MASK32) ^ _CONTEXT_SALT ^ k_tok) & MASK32)
    return int(k_tok), int(k_ctx)


@register_scheme
class KGW(WatermarkScheme):
    """Kirchenbauer et al.'s green-list watermark (module docstring: the modes and seedings)."""

    name: ClassVar[str] = "kgw"
    version: ClassVar[int] = 1
    title: ClassVar[str] = "KGW green list (Kirchenbauer et al. 2023)"
    PARAMETERS: ClassVar[dict[str, SchemeParameter]] = {
        "gamma": SchemeParameter(0.25, "share of the vocabulary that is green at each step"),
        "delta": SchemeParameter(2.0, "bias added to green logits"),
        "context_width": SchemeParameter(1, "tokens before a step that seed its green list"),
        "seeding": SchemeParameter(
            "additive", "how the context seeds the green list (MarkLLM's f_scheme)",
            ("additive", "time", "min", "skip", "selfhash"),
        ),
        "green_list": SchemeParameter(
            "hash", "hash: fast 32-bit hash; permutation: transformers' randperm; markllm: MarkLLM's",
            ("hash", "permutation", "markllm"),
        ),
        "ignore_repeated": SchemeParameter(True, "score each (context, token) pair of a text once"),
        "vocab_size": SchemeParameter(
            0, "logits width for the permutation modes (0: from the model or tokenizer)"
        ),
    }

    def check(self) -> None:
        self.gamma = float(self.params["gamma"])
        self.delta = float(self.params["delta"])
        self.width = int(self.params["context_width"])
        self.seeding = str(self.params["seeding"])
        self.green_list = str(self.params["green_list"])
        self.ignore_repeated = bool(self.params["ignore_repeated"])
        self.vocab_size = int(self.params["vocab_size"])
        if not 0.0 < self.gamma < 1.0:
            raise ConfigError(f"kgw: gamma={self.gamma} must be between 0 and 1 (exclusive)")
        if self.delta < 0.0:
            raise ConfigError(f"kgw: delta={self.delta} must be >= 0")
        if not 1 <= self.width <= 64:
            raise ConfigError(f"kgw: context_width={self.width} must be between 1 and 64")
        if self.vocab_size < 0:
            raise ConfigError("kgw: vocab_size must be >= 0")
        if self.seeding == "selfhash" and self.green_list != "hash":
            raise ConfigError("kgw: seeding=selfhash needs green_list=hash")
        self.threshold = int(self.gamma * 2**32)
        self.k_tok, self.k_ctx = key_words(self.key.seed)
        self._masks: OrderedDict[tuple[int, int], npt.NDArray[np.uint8]] = OrderedDict()
        self._prf: dict[int, Int64Array] = {}
        self._token_table: Int64Array = np.zeros(0, dtype=np.int64)
        self._ctx_table: Int64Array = np.zeros(0, dtype=np.int64)

    @property
    def min_tokens(self) -> int:
        return min_tokens_for(self.gamma, z_threshold=self.z_threshold)

    # --- the hash green lists (numpy or torch: the same operators) ---------------------------

    def token_hash(self, ids: Any) -> Any:
        """``h(t) = mix(t ^ k_tok)`` (numpy int64 array or torch int64 tensor)."""
        return mix32((ids & MASK32) ^ self.k_tok)

    def hash_is_green(self, context_value: Any, tokens: Any) -> Any:
        """Whether each token is green after a context of value ``context_value`` (broadcasts)."""
        return mix32(mix32(context_value ^ self.k_ctx) ^ self.token_hash(tokens)) < self.threshold

    def _hash_context_value(self, context: list[Any], table: Int64Array | None = None) -> Any:
        """The seeding value of a context given as its columns, furthest first (numpy arrays or
        torch tensors of ids, all one shape; ``table``: precomputed token hashes for numpy)."""
        if self.seeding == "additive":
            total = context[0] & MASK32
            for column in context[1:]:
                total = (total + (column & MASK32)) & MASK32
            return total
        if self.seeding == "time":
            product = (context[0] + 1) & MASK32
            for column in context[1:]:
                product = (product * ((column + 1) & 0x7FFFFFFF)) & MASK32
            return product
        if self.seeding == "skip":
            return context[0] & MASK32
        # min, selfhash: the smallest token hash
        hasher = self.token_hash if table is None else table.__getitem__
        smallest = hasher(context[0])
        for column in context[1:]:
            hashed = hasher(column)
            smallest = (np.minimum(smallest, hashed) if isinstance(smallest, np.ndarray)
                        else _torch_min(smallest, hashed))
        return smallest

    def green_mask(self, context_ids: Sequence[int], vocab_size: int) -> npt.NDArray[np.bool_]:
        """The green tokens of a whole vocabulary after ``context_ids`` (the last
        ``context_width`` of them count), as a boolean array (for inspection and tests)."""
        context = [int(t) for t in context_ids][-self.width:]
        if len(context) < self.width:
            raise ConfigError(f"kgw: a green list needs {self.width} context tokens")
        if self.green_list != "hash":
            seed = self._seeds(np.asarray([context], dtype=np.int64), vocab_size)[0]
            return np.unpackbits(self._mask(int(seed), vocab_size), count=vocab_size).astype(bool)
        vocab = np.arange(vocab_size, dtype=np.int64)
        columns = [np.asarray([t], dtype=np.int64) for t in context]
        if self.seeding == "selfhash":
            value = np.minimum(self._hash_context_value(columns), self.token_hash(vocab))
            return np.asarray(self.hash_is_green(value, vocab), dtype=bool)
        return np.asarray(self.hash_is_green(self._hash_context_value(columns), vocab), dtype=bool)

    # --- the permutation green lists ------------------------------------------------------------

    def _vocab(self, vocab_size: int | None = None) -> int:
        size = self.vocab_size or (vocab_size or 0)
        if size <= 0:
            raise ConfigError(
                f"kgw: green_list={self.green_list} needs vocab_size (the model's logits width); "
                "detect_texts takes it from the tokenizer"
            )
        return size

    def _prf_table(self, vocab_size: int) -> Int64Array:
        """MarkLLM's ``prf``: ``randperm(vocab_size)`` from a generator seeded with the key."""
        table = self._prf.get(vocab_size)
        if table is None:
            import torch

            generator = torch.Generator(device="cpu")
            generator.manual_seed(self.key.seed)
            table = torch.randperm(vocab_size, generator=generator).numpy().astype(np.int64)
            self._prf[vocab_size] = table
        return table

    def _seeds(self, contexts: Int64Array, vocab_size: int) -> list[int]:
        """The generator seed of each context row (``contexts``: rows of ``context_width`` ids,
        furthest first)."""
        key = self.key.seed
        if self.green_list == "markllm":
            prf = self._prf_table(vocab_size)
            ids = contexts % vocab_size
            if self.seeding == "additive":
                value = prf[ids.sum(axis=1) % vocab_size]
            elif self.seeding == "time":
                product = np.ones(len(ids), dtype=np.int64)
                for column in ids.T:
                    product = (product * column) % vocab_size
                value = prf[product]
            elif self.seeding == "skip":
                value = prf[ids[:, 0]]
            else:  # min
                value = prf[ids].min(axis=1)
            return [int(s) for s in (value * (key % vocab_size)) % vocab_size]
        # permutation: transformers / lm-watermarking, over raw ids with Python integers
        rows = contexts.tolist()
        if self.seeding == "additive":
            values = [sum(row) for row in rows]
        elif self.seeding == "time":
            values = [_product(row) for row in rows]
        elif self.seeding == "skip":
            values = [row[0] for row in rows]
        else:  # min
            values = [min(row) for row in rows]
        return [(key * v) % _SEED_MODULUS for v in values]

    def _mask(self, seed: int, vocab_size: int) -> npt.NDArray[np.uint8]:
        """The bit-packed green mask of a seed (LRU-cached)."""
        cached = self._masks.get((seed, vocab_size))
        if cached is not None:
            self._masks.move_to_end((seed, vocab_size))
            return cached
        import torch

        generator = torch.Generator(device="cpu")
        generator.manual_seed(seed)
        permutation = torch.randperm(vocab_size, generator=generator).numpy()
        mask = np.zeros(vocab_size, dtype=bool)
        mask[permutation[: int(vocab_size * self.gamma)]] = True
        packed = np.packbits(mask)
        self._masks[(seed, vocab_size)] = packed
        if len(self._masks) > MASK_CACHE_SIZE:
            self._masks.popitem(last=False)
        return packed

    def _permutation_green(
        self, contexts: Int64Array, tokens: Int64Array, vocab_size: int
    ) -> tuple[npt.NDArray[np.bool_], Int64Array]:
        """Green flags of ``tokens`` after ``contexts`` and a small integer per distinct seed."""
        # distinct contexts first: the seeds are Python integers, computed once per context
        unique_contexts, inverse = np.unique(contexts, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        seeds = self._seeds(unique_contexts, vocab_size)
        seed_ids: dict[int, int] = {}
        context_seed = np.fromiter((seed_ids.setdefault(s, len(seed_ids)) for s in seeds),
                                   dtype=np.int64, count=len(seeds))
        position_seed = context_seed[inverse]
        distinct = list(seed_ids)  # in id order
        green = np.zeros(len(tokens), dtype=bool)
        inside = tokens < vocab_size
        order = np.argsort(position_seed, kind="stable")
        bounds = np.flatnonzero(np.diff(position_seed[order])) + 1
        for group in np.split(order, bounds):
            if not len(group):
                continue
            seed = distinct[int(position_seed[group[0]])]
            packed = self._mask(seed, vocab_size)
            tok = tokens[group]
            ok = inside[group]
            bits = (packed[np.where(ok, tok, 0) >> 3] >> (7 - (np.where(ok, tok, 0) & 7))) & 1
            green[group] = ok & (bits == 1)
        return green, position_seed

    # --- detection ------------------------------------------------------------------------------

    def detect_texts(self, tokenizer: TextTokenizer, texts: Sequence[str]) -> list[Detection]:
        return self.score_batch(tokenizer.encode_batch(texts), vocab_size=tokenizer.vocab_size)

    def score_batch(
        self, ids: Sequence[Sequence[int]], vocab_size: int | None = None
    ) -> list[Detection]:
        """Detect the mark in each token sequence: every token of every text at once (padded
        matrices of up to 4096 texts of similar length)."""
        size = self._vocab(vocab_size) if self.green_list != "hash" else 0
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        hits = np.zeros(len(ids), dtype=np.int64)
        scored = np.zeros(len(ids), dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(ids), _CHUNK):
            chunk = order[start:start + _CHUNK]
            chunk_hits, chunk_scored = self._score_chunk([ids[i] for i in chunk], lengths[chunk], size)
            hits[chunk] = chunk_hits
            scored[chunk] = chunk_scored
        least = self.min_tokens
        return [
            z_test(self.name, float(h), int(s), self.gamma, scored=int(s),
                   min_tokens=least, z_threshold=self.z_threshold)
            for h, s in zip(hits.tolist(), scored.tolist(), strict=True)
        ]

    def _score_chunk(
        self, ids: list[Sequence[int]], lengths: Int64Array, vocab_size: int
    ) -> tuple[Int64Array, Int64Array]:
        w = self.width
        longest = int(lengths.max(initial=0))
        if longest <= w:
            zeros = np.zeros(len(ids), dtype=np.int64)
            return zeros, zeros
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        if flat.size and (flat.min() < 0 or flat.max() >= 2**31):
            raise ConfigError("kgw: token ids must be in [0, 2**31)")
        matrix = np.zeros((len(ids), longest), dtype=np.int64)
        present = np.arange(longest) < lengths[:, None]
        matrix[present] = flat
        targets = matrix[:, w:]
        valid = present[:, w:]
        context = [matrix[:, w - k: longest - k] for k in range(w, 0, -1)]  # furthest first
        if self.green_list == "hash":
            largest = int(flat.max(initial=0))
            # lookup tables for vocabulary-sized ids (not for ids in the billions: computed)
            hashes = self._hash_table(largest) if largest < _TABLE_LIMIT else None
            value = self._hash_context_value(context, hashes)
            token_hashes = self.token_hash(targets) if hashes is None else hashes[targets]
            if self.seeding == "selfhash":
                value = np.minimum(value, token_hashes)
            if w == 1 and self.seeding in ("additive", "skip", "time") and largest < _TABLE_LIMIT - 1:
                context_hashes = self._context_table(int(value.max(initial=0)))[value]
            else:
                context_hashes = mix32(value ^ self.k_ctx)
            green = mix32(context_hashes ^ token_hashes) < self.threshold
            group = value
        else:
            rows = np.stack([c[valid] for c in context], axis=1)
            flags, seeds = self._permutation_green(rows, targets[valid], vocab_size)
            green = np.zeros(targets.shape, dtype=bool)
            green[valid] = flags
            group = np.zeros(targets.shape, dtype=np.int64)
            group[valid] = seeds
        if not self.ignore_repeated:
            return (valid & green).sum(axis=1), valid.sum(axis=1)
        return _distinct_pairs(group, targets, green, valid, np.maximum(lengths - w, 0))

    def _hash_table(self, largest: int) -> Int64Array:
        """``h(t)`` for every id up to ``largest`` (a power-of-two-sized table, grown as needed)."""
        if self._token_table.size <= largest:
            size = 1 << max(16, largest.bit_length())
            self._token_table = self.token_hash(np.arange(size, dtype=np.int64))
        return self._token_table

    def _context_table(self, largest: int) -> Int64Array:
        """``mix(v ^ k_ctx)`` for every context value up to ``largest``."""
        if self._ctx_table.size <= largest:
            size = 1 << max(16, largest.bit_length())
            self._ctx_table = mix32(np.arange(size, dtype=np.int64) ^ self.k_ctx)
        return self._ctx_table

    # --- marking --------------------------------------------------------------------------------

    def logits_processor(self, vocab_size: int, device: str) -> Any:
        """A ``transformers.LogitsProcessor`` adding ``delta`` to the green logits of each row
        (batched; nothing when the sequence is shorter than ``context_width``)."""
        if self.vocab_size and vocab_size != self.vocab_size:
            raise ConfigError(
                f"kgw: vocab_size={self.vocab_size} was asked for, the model gives {vocab_size} logits"
            )
        return _make_processor(self, vocab_size, device)


def _product(values: Sequence[int]) -> int:
    result = 1
    for v in values:
        result *= v
    return result


def _torch_min(a: Any, b: Any) -> Any:
    import torch

    return torch.minimum(a, b)


def _distinct_pairs(
    group: Int64Array, targets: Int64Array, green: npt.NDArray[np.bool_], valid: npt.NDArray[np.bool_],
    n_valid: Int64Array,
) -> tuple[Int64Array, Int64Array]:
    """Per row: how many distinct green (group, token) pairs, and how many distinct pairs.

    One sort per row of the keys ``green << 63 | group << 31 | token`` (group < 2**32, token <
    2**31; green is a function of the pair, so it adds no distinctness); the padding sorts last
    (all ones) and only the first ``n_valid`` sorted positions of a row count."""
    keys = (green.astype(np.uint64) << np.uint64(63)) | (group.astype(np.uint64) << np.uint64(31)) \
        | targets.astype(np.uint64)
    keys[~valid] = np.uint64(2**64 - 1)
    keys.sort(axis=1)
    first = np.empty(keys.shape, dtype=bool)
    first[:, 0] = True
    np.not_equal(keys[:, 1:], keys[:, :-1], out=first[:, 1:])
    first &= np.arange(keys.shape[1]) < n_valid[:, None]
    hits = (first & (keys >= np.uint64(2**63))).sum(axis=1)
    return hits, first.sum(axis=1)


def _make_processor(scheme: KGW, vocab_size: int, device: str) -> Any:
    import torch
    from transformers import LogitsProcessor

    class KGWLogitsProcessor(LogitsProcessor):  # type: ignore[misc]
        """Adds ``delta`` to the green logits of every row of a batch."""

        def __init__(self) -> None:
            self.vocab = torch.arange(vocab_size, dtype=torch.int64, device=device)
            self.token_hash = scheme.token_hash(self.vocab)
            self.token_hash_np = scheme.token_hash(np.arange(vocab_size, dtype=np.int64))
            self.on_cpu = torch.device(device).type == "cpu"

        def green(self, input_ids: Any) -> Any:
            """The (batch, vocab) green mask after each row's last ``context_width`` ids (a
            torch tensor on the model's device)."""
            if scheme.green_list == "hash" and not self.on_cpu:
                return self.green_torch(input_ids)
            return torch.from_numpy(self.green_rows(input_ids)).to(device)

        def green_rows(self, input_ids: Any) -> npt.NDArray[np.bool_]:
            """The green mask as a numpy array (hash: :meth:`green_numpy`; permutation: the
            cached masks of the rows' seeds)."""
            if scheme.green_list == "hash":
                return self.green_numpy(input_ids)
            contexts = input_ids[:, -scheme.width:].to("cpu", torch.int64).numpy()
            seeds = scheme._seeds(contexts, vocab_size)
            rows = [np.unpackbits(scheme._mask(s, vocab_size), count=vocab_size) for s in seeds]
            return np.stack(rows).astype(bool)

        def green_torch(self, input_ids: Any) -> Any:
            """The hash green mask with torch int64 tensors (on the model's device)."""
            w = scheme.width
            ids = input_ids[:, -w:].to(torch.int64)
            value = scheme._hash_context_value([ids[:, k:k + 1] for k in range(w)])  # (B, 1)
            if scheme.seeding == "selfhash":
                value = torch.minimum(value, self.token_hash[None, :])
            return mix32(mix32(value ^ scheme.k_ctx) ^ self.token_hash[None, :]) < scheme.threshold

        def green_numpy(self, input_ids: Any) -> npt.NDArray[np.bool_]:
            """The same mask with numpy (the CPU path: numpy runs these element-wise integer
            operations on one thread, where torch's intra-op threads wait for each other at
            every operation when the cores are busy, measured 10x slower on 2 shared cores)."""
            w = scheme.width
            ids = input_ids[:, -w:].to("cpu", torch.int64).numpy()
            value = scheme._hash_context_value([ids[:, k:k + 1] for k in range(w)])
            if scheme.seeding == "selfhash":
                value = np.minimum(value, self.token_hash_np[None, :])
            mixed = mix32(mix32(value ^ scheme.k_ctx) ^ self.token_hash_np[None, :])
            return np.asarray(mixed < scheme.threshold, dtype=bool)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if input_ids.shape[-1] < scheme.width or scheme.delta == 0.0:
                return scores
            width = min(scores.shape[-1], vocab_size)
            if self.on_cpu and scores.dtype in (torch.float32, torch.float64) and not scores.requires_grad:
                # numpy on the CPU: one thread, no wait at torch's intra-op barriers
                out = scores.numpy().copy()
                green = self.green_rows(input_ids)[:, :width]
                out[:, :width] += np.asarray(scheme.delta, dtype=out.dtype) * green
                return torch.from_numpy(out)
            green = self.green(input_ids)
            out = scores.clone()
            out[:, :width] = out[:, :width] + scheme.delta * green[:, :width].to(scores.dtype)
            return out

    return KGWLogitsProcessor()
