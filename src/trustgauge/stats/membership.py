"""Membership-inference scores from token log-probabilities (pure functions; Fan et al.'s
privacy probes, issue 16).

Every score is oriented so that **higher means "more likely a member"** of the model's training
data; the reference implementations differ in sign from one attack to the next, so each function
says which formula it equals and how it is turned. ``token_logprobs`` are the log-probabilities
the model gave each token of the text given the tokens before it (the first token, which has no
context, left out as every reference does).

- :func:`loss_score`: the mean token log-probability, i.e. minus the loss (Yeom et al. 2018;
  Min-K%++'s ``loss``; MIMIR's ``LOSS`` attack negated).
- :func:`zlib_score`: that mean divided by the zlib-compressed length of the text in bytes
  (Carlini et al. 2021; Min-K%++'s ``zlib``).
- :func:`lowercase_score`: the mean log-probability of the lower-cased text over that of the
  text (Carlini et al. 2021; Shi et al.'s ``ppl/lowercase_ppl`` negated).
- :func:`min_k_score`: the mean of the lowest ``k`` share of the token log-probabilities
  (Min-K% Prob, Shi et al. 2024; at least one token, as MIMIR).
- :func:`min_k_plus_plus_score`: the same over each token's log-probability standardised by the
  mean and standard deviation of the log-probability under the model's own next-token
  distribution (Min-K%++, Zhang et al. 2025; :func:`token_moments` computes those moments).
- :func:`reference_score`: the target model's mean log-probability minus a reference model's on
  the same text (Carlini et al. 2021, Shi et al.'s ``ppl/Ref_ppl`` negated).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "loss_score",
    "lowercase_score",
    "min_k_plus_plus_score",
    "min_k_score",
    "reference_score",
    "token_moments",
    "zlib_bytes",
    "zlib_score",
]


def _mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no token log-probabilities: the text has fewer than two tokens")
    return math.fsum(values) / len(values)


def loss_score(token_logprobs: Sequence[float]) -> float:
    """The mean token log-probability (= −loss)."""
    return _mean(token_logprobs)


def zlib_bytes(text: str) -> int:
    """The length in bytes of the text's UTF-8 bytes compressed by zlib (default level)."""
    return len(zlib.compress(text.encode("utf-8")))


def zlib_score(token_logprobs: Sequence[float], text: str) -> float:
    """The mean token log-probability over the zlib-compressed length of ``text``: a text the
    model finds likely *and* that is not merely repetitive (which zlib also compresses well)."""
    return _mean(token_logprobs) / zlib_bytes(text)


def lowercase_score(token_logprobs: Sequence[float], lowercase_logprobs: Sequence[float]) -> float:
    """The lower-cased text's mean log-probability over the text's (both negative): large when
    the model knows the text's exact casing far better than its lower-cased form."""
    text, lower = _mean(token_logprobs), _mean(lowercase_logprobs)
    if text == 0.0:
        return math.inf
    return lower / text


def _lowest_mean(values: Sequence[float], k: float) -> float:
    if not 0.0 < k <= 1.0:
        raise ValueError(f"k must be in (0, 1], not {k!r}")
    if not values:
        raise ValueError("no token log-probabilities: the text has fewer than two tokens")
    n = max(1, int(len(values) * k))
    return math.fsum(sorted(values)[:n]) / n


def min_k_score(token_logprobs: Sequence[float], k: float = 0.2) -> float:
    """Min-K% Prob: the mean of the ``k`` share (``int(len * k)``, at least 1) of the lowest
    token log-probabilities. A member has fewer very unlikely tokens."""
    return _lowest_mean(token_logprobs, k)


def token_moments(log_probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per position, the mean ``mu = sum p log p`` and standard deviation
    ``sigma = sqrt(sum p (log p)^2 - mu^2)`` of the log-probability under the model's next-token
    distribution; ``log_probs`` is ``(positions, vocabulary)`` of log-softmax values."""
    import numpy as np

    lp = np.asarray(log_probs, dtype=np.float64)
    p = np.exp(lp)
    mu = (p * lp).sum(axis=-1)
    var = (p * np.square(lp)).sum(axis=-1) - np.square(mu)
    return mu, np.sqrt(np.maximum(var, 0.0))


def min_k_plus_plus_score(
    token_logprobs: Sequence[float], mu: Sequence[float], sigma: Sequence[float], k: float = 0.2
) -> float:
    """Min-K%++: the mean of the ``k`` lowest of ``(log p(x_t) - mu_t) / sigma_t``. A position
    whose distribution is a point mass (``sigma_t`` 0) carries no evidence and is left out."""
    if not len(token_logprobs) == len(mu) == len(sigma):
        raise ValueError("token_logprobs, mu and sigma must have one value per token")
    z = [(x - m) / s for x, m, s in zip(token_logprobs, mu, sigma) if s > 0.0]
    return _lowest_mean(z, k)


def reference_score(token_logprobs: Sequence[float], reference_logprobs: Sequence[float]) -> float:
    """The target's mean token log-probability minus a reference model's on the same text
    (each over its own tokens): what the target finds likelier than a model that did not train
    on the candidate members."""
    return _mean(token_logprobs) - _mean(reference_logprobs)
