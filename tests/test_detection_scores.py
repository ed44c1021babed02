"""Zero-shot detectors of generated text (``trustgauge.stats.detection``): hand-computed values,
orientation (higher = machine-generated), bad input, and the moment form of Fast-DetectGPT and
Binoculars checked against the reference formulas over whole next-token distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trustgauge.stats import detection as d


def test_likelihood_is_the_mean_log_probability() -> None:
    assert d.likelihood_score([-1.0, -2.0, -3.0]) == pytest.approx(-2.0)


def test_log_rank_is_minus_the_mean_log_rank() -> None:
    # ln 1 + ln 2 + ln 4 = 3 ln 2, over 3 tokens: ln 2
    assert d.log_rank_score([1, 2, 4]) == pytest.approx(-math.log(2))
    assert d.log_rank_score([1, 1]) == 0.0  # every token the most likely: the most machine-like


def test_fast_detectgpt_analytic_discrepancy() -> None:
    # (sum lp - sum mu) / sqrt(sum sd^2) = (-2 - -4) / sqrt(9 + 16) = 2 / 5
    assert d.fast_detectgpt_score([-1.0, -1.0], [-2.0, -2.0], [3.0, 4.0]) == pytest.approx(0.4)
    # likelier than the model's own samples -> positive; less likely -> negative
    assert d.fast_detectgpt_score([-3.0, -3.0], [-2.0, -2.0], [1.0, 1.0]) == pytest.approx(-2 / math.sqrt(2))


def test_binoculars_is_minus_log_perplexity_over_cross_perplexity() -> None:
    # log-ppl (2 + 4) / 2 = 3; x-ppl (1.5 + 1.5) / 2 = 1.5; ratio 2
    assert d.binoculars_score([-2.0, -4.0], [1.5, 1.5]) == pytest.approx(-2.0)
    # the (M, M) pair: entropies 1 and 2, mean 1.5
    assert d.binoculars_self_score([-2.0, -4.0], [-1.0, -2.0]) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: d.likelihood_score([]), "no log-probability"),
        (lambda: d.likelihood_score([float("nan")]), "not finite"),
        (lambda: d.log_rank_score([0, 1]), "below 1"),
        (lambda: d.fast_detectgpt_score([-1.0], [-1.0, -2.0], [1.0, 1.0]), "one value per scored token"),
        (lambda: d.fast_detectgpt_score([-1.0], [-1.0], [0.0]), "point mass"),
        (lambda: d.fast_detectgpt_score([-1.0], [-1.0], [-1.0]), "negative"),
        (lambda: d.binoculars_score([-1.0], [0.0]), "cross-perplexity is zero"),
        (lambda: d.binoculars_score([-1.0], [-1.0]), "negative"),
        (lambda: d.binoculars_self_score([-1.0], [0.5]), "positive"),
    ],
)
def test_bad_input_is_one_clear_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_moment_forms_equal_the_reference_formulas_over_full_distributions() -> None:
    """Fast-DetectGPT's ``get_sampling_discrepancy_analytic`` with one model sampling and
    scoring, and Binoculars' ``perplexity / entropy``, computed over whole distributions as the
    authors' code does, equal the detectors fed the per-token moments the hf backend gives."""
    rng = np.random.default_rng(0)
    positions, vocab = 12, 50
    logp = _log_softmax(rng.normal(scale=3.0, size=(positions, vocab)))
    labels = rng.integers(0, vocab, size=positions)
    chosen = logp[np.arange(positions), labels]
    probs = np.exp(logp)
    mean_ref = (probs * logp).sum(-1)
    var_ref = (probs * logp**2).sum(-1) - mean_ref**2
    reference = (chosen.sum() - mean_ref.sum()) / np.sqrt(var_ref.sum())
    assert d.fast_detectgpt_score(chosen.tolist(), mean_ref.tolist(), np.sqrt(var_ref).tolist()) == pytest.approx(reference)

    observer = np.exp(_log_softmax(rng.normal(scale=3.0, size=(positions, vocab))))
    ppl = -chosen.mean()
    x_ppl = (-(observer * logp).sum(-1)).mean()
    cross = (-(observer * logp).sum(-1)).tolist()
    assert d.binoculars_score(chosen.tolist(), cross) == pytest.approx(-ppl / x_ppl)
    assert d.binoculars_self_score(chosen.tolist(), mean_ref.tolist()) == pytest.approx(
        -ppl / (-(probs * logp).sum(-1)).mean()
    )

    ranks = [int(1 + (row > c).sum()) for row, c in zip(logp, chosen)]
    assert d.log_rank_score(ranks) == pytest.approx(-np.log(ranks).mean())


def test_greedy_text_scores_as_more_machine_like_than_sampled_text() -> None:
    """Orientation: text made of each position's most likely tokens scores higher on every
    detector than text drawn from low-probability tokens of the same distributions."""
    rng = np.random.default_rng(1)
    logp = _log_softmax(rng.normal(scale=3.0, size=(20, 30)))
    probs = np.exp(logp)
    mu = (probs * logp).sum(-1)
    sd = np.sqrt((probs * logp**2).sum(-1) - mu**2)
    ent = -mu
    top, low = logp.max(-1), np.sort(logp, -1)[:, 5]
    ranks_top, ranks_low = [1] * 20, [25] * 20
    assert d.likelihood_score(top.tolist()) > d.likelihood_score(low.tolist())
    assert d.log_rank_score(ranks_top) > d.log_rank_score(ranks_low)
    assert d.fast_detectgpt_score(top.tolist(), mu.tolist(), sd.tolist()) > d.fast_detectgpt_score(low.tolist(), mu.tolist(), sd.tolist())
    assert d.binoculars_score(top.tolist(), ent.tolist()) > d.binoculars_score(low.tolist(), ent.tolist())
    assert d.binoculars_self_score(top.tolist(), mu.tolist()) > d.binoculars_self_score(low.tolist(), mu.tolist())
