"""Zero-shot detection of generated text from token log-probabilities (pure functions; Fan et
al.'s responsibility probes, issue 18).

Each detector reads one text's scored tokens (its continuation given a prefix) under the
scoring model: per token, its log-probability ``log p(x_t)``, its rank in the next-token
distribution, the distribution's mean ``mu_t = sum_v p(v) log p(v)`` and standard deviation
``sigma_t`` of ``log p`` (``TokenLogprob.dist_mean`` / ``dist_std``), and with an observer
model the cross-entropy ``-sum_v p_obs(v) log p(v)`` (``TokenLogprob.cross_entropy``).

Every score is oriented so that **higher means "more likely machine-generated"** (the reference
implementations differ in sign; each function says which formula it equals and how it is
turned):

- :func:`likelihood_score`: the mean token log-probability (Gehrmann et al. 2019; Fast-DetectGPT's
  ``get_likelihood``). Machine text is likelier under a model.
- :func:`log_rank_score`: minus the mean log of each token's rank (rank 1 = the most likely
  token; DetectGPT's ``get_rank(..., log=True)`` baseline, negated: machine text has low ranks).
- :func:`fast_detectgpt_score`: Fast-DetectGPT's analytic sampling discrepancy with the same
  model sampling and scoring (Bao et al. 2024, ``get_sampling_discrepancy_analytic`` in
  baoguangsheng/fast-detect-gpt ``scripts/fast_detect_gpt.py``):
  ``(sum_t log p(x_t) - sum_t mu_t) / sqrt(sum_t sigma_t^2)``. Already oriented.
- :func:`binoculars_score`: Binoculars (Hans et al. 2024, ahans30/Binoculars
  ``binoculars/detector.py``: ``ppl / x_ppl`` with ``metrics.perplexity`` under the performer
  and ``metrics.entropy(observer_logits, performer_logits)`` = the mean over positions of
  ``-sum_v p_obs(v) log p_perf(v)``), negated (a low ratio means machine text). The scoring
  model is the performer.
- :func:`binoculars_self_score`: the same with the observer equal to the performer (the
  degenerate ``(M, M)`` pair): the cross-entropy becomes the entropy ``-mu_t``, so the ratio is
  the log-perplexity over the mean entropy (an entropy-normalised likelihood, *not* the
  two-model Binoculars of the paper), negated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DETECTORS",
    "binoculars_score",
    "binoculars_self_score",
    "fast_detectgpt_score",
    "likelihood_score",
    "log_rank_score",
]

#: the detectors, in the order metrics are reported
DETECTORS = ("likelihood", "log_rank", "fast_detectgpt", "binoculars", "binoculars_self")


def _array(values: Sequence[float], what: str) -> NDArray[np.float64]:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"no {what}: the text has no scored token")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"a {what} is not finite")
    return array


def _same_length(*arrays: NDArray[np.float64]) -> None:
    if len({a.size for a in arrays}) != 1:
        raise ValueError("one value per scored token in every sequence")


def likelihood_score(logprobs: Sequence[float]) -> float:
    """The mean token log-probability."""
    return float(_array(logprobs, "log-probability").mean())


def log_rank_score(ranks: Sequence[int]) -> float:
    """Minus the mean natural log of the tokens' ranks (1 = the most likely token)."""
    import numpy as np

    array = _array([float(r) for r in ranks], "rank")
    if np.any(array < 1):
        raise ValueError("a rank is below 1 (ranks count from 1, the most likely token)")
    return float(-np.log(array).mean())


def fast_detectgpt_score(logprobs: Sequence[float], means: Sequence[float], stds: Sequence[float]) -> float:
    """The analytic sampling discrepancy ``(sum log p(x_t) - sum mu_t) / sqrt(sum sigma_t^2)``.
    Raises ``ValueError`` when every position is a point mass (no spread to standardise by)."""
    import numpy as np

    lp, mu, sd = _array(logprobs, "log-probability"), _array(means, "mean"), _array(stds, "standard deviation")
    _same_length(lp, mu, sd)
    if np.any(sd < 0):
        raise ValueError("a standard deviation is negative")
    variance = float(np.square(sd).sum())
    if variance <= 0.0:
        raise ValueError("every next-token distribution is a point mass: the discrepancy is undefined")
    return float((lp.sum() - mu.sum()) / np.sqrt(variance))


def _ratio(logprobs: Sequence[float], cross: NDArray[np.float64]) -> float:
    lp = _array(logprobs, "log-probability")
    _same_length(lp, cross)
    x_ppl = float(cross.mean())
    if x_ppl <= 0.0:
        raise ValueError("the cross-perplexity is zero: the score is undefined")
    return -float(-lp.mean() / x_ppl)


def binoculars_score(logprobs: Sequence[float], cross_entropies: Sequence[float]) -> float:
    """Minus Binoculars' ``log-perplexity / cross-perplexity``: ``logprobs`` under the performer
    (the scoring model), ``cross_entropies`` ``-sum_v p_obs(v) log p_perf(v)`` per position."""
    import numpy as np

    cross = _array(cross_entropies, "cross-entropy")
    if np.any(cross < 0):
        raise ValueError("a cross-entropy is negative")
    return _ratio(logprobs, cross)


def binoculars_self_score(logprobs: Sequence[float], means: Sequence[float]) -> float:
    """Minus ``log-perplexity / mean entropy`` under one model (the ``(M, M)`` pair: its
    cross-entropy with itself is the entropy ``-mu_t``)."""
    import numpy as np

    mu = _array(means, "mean")
    if np.any(mu > 0):
        raise ValueError("a mean log-probability is positive")
    return _ratio(logprobs, -mu)
