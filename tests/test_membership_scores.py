"""Membership-inference scores and ROC statistics (stats/membership.py, stats/roc.py): hand-
computed values, and equality with the reference formulas (Min-K%++'s run.py, Shi et al.'s
run.py, scikit-learn's ROC) on fixed arrays."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from trustgauge.stats.membership import (
    loss_score,
    lowercase_score,
    min_k_plus_plus_score,
    min_k_score,
    reference_score,
    token_moments,
    zlib_bytes,
    zlib_score,
)
from trustgauge.stats.roc import auroc, roc_curve, tpr_at_fpr, with_ci

LP = [-0.5, -3.0, -0.1, -2.0, -1.0]  # mean -1.32


def test_scores_by_hand() -> None:
    assert loss_score(LP) == pytest.approx(-1.32)
    assert min_k_score(LP, 0.2) == pytest.approx(-3.0)  # int(5 * 0.2) = 1 token: the lowest
    assert min_k_score(LP, 0.4) == pytest.approx((-3.0 - 2.0) / 2)
    assert min_k_score(LP, 0.1) == pytest.approx(-3.0)  # int(0.5) = 0: at least one token (MIMIR)
    assert min_k_score(LP, 1.0) == pytest.approx(-1.32)
    text = "The quick brown fox jumps over the lazy dog."
    assert zlib_bytes(text) == len(zlib.compress(text.encode()))
    assert zlib_score(LP, text) == pytest.approx(-1.32 / zlib_bytes(text))
    assert lowercase_score(LP, [-2.64, -2.64]) == pytest.approx(2.0)  # lower-cased text twice as unlikely
    assert reference_score(LP, [-2.0, -3.0]) == pytest.approx(-1.32 + 2.5)
    with pytest.raises(ValueError, match="fewer than two tokens"):
        loss_score([])
    with pytest.raises(ValueError, match=r"k must be in \(0, 1\]"):
        min_k_score(LP, 0.0)


def _logits(seed: int, positions: int = 40, vocab: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(positions, vocab))
    ids = rng.integers(0, vocab, size=positions)
    return logits, ids


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [0.1, 0.2, 0.5, 1.0])
def test_min_k_and_min_k_plus_plus_equal_the_authors_formulas(seed: int, k: float) -> None:
    logits, ids = _logits(seed)
    # Min-K%++'s run.py, transcribed to numpy: log_softmax, gather, mu, sigma (a variance), sqrt
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    probs = np.exp(log_probs)
    token_log_probs = log_probs[np.arange(len(ids)), ids]
    mu_ref = (probs * log_probs).sum(-1)
    var_ref = (probs * np.square(log_probs)).sum(-1) - np.square(mu_ref)
    k_length = int(len(token_log_probs) * k)
    mink_ref = np.mean(np.sort(token_log_probs)[:k_length])
    mink_pp_ref = np.mean(np.sort((token_log_probs - mu_ref) / np.sqrt(var_ref))[:k_length])
    mu, sigma = token_moments(log_probs)
    assert np.allclose(mu, mu_ref) and np.allclose(sigma, np.sqrt(var_ref))
    assert min_k_score(token_log_probs.tolist(), k) == pytest.approx(mink_ref, rel=1e-12)
    assert min_k_plus_plus_score(token_log_probs.tolist(), mu.tolist(), sigma.tolist(), k) == pytest.approx(
        mink_pp_ref, rel=1e-9)
    # Min-K%++'s loss and zlib: ll = -loss = the mean token log-probability
    assert loss_score(token_log_probs.tolist()) == pytest.approx(float(token_log_probs.mean()))
    text = "some text " * 5
    assert zlib_score(token_log_probs.tolist(), text) == pytest.approx(
        float(token_log_probs.mean()) / len(zlib.compress(bytes(text, "utf-8"))))


def test_shi_et_al_lowercase_and_reference_turned_so_higher_means_member() -> None:
    # Shi et al.: ppl = exp(loss); "ppl/lowercase_ppl" = -(log p_lower / log p1); "ppl/Ref_ppl"
    # = loss - ref_loss; both lower for members. Ours are the same numbers, oriented up.
    lp, lower, ref = [-1.0, -2.0], [-3.0, -3.0], [-2.5, -1.5]
    loss, loss_lower, loss_ref = 1.5, 3.0, 2.0
    shi_lowercase = -(math.log(math.exp(loss_lower)) / math.log(math.exp(loss)))
    assert lowercase_score(lp, lower) == pytest.approx(-shi_lowercase)
    assert reference_score(lp, ref) == pytest.approx(-(loss - loss_ref))


def test_a_point_mass_position_is_left_out_of_min_k_plus_plus() -> None:
    assert min_k_plus_plus_score([-0.0, -2.0], [0.0, -1.0], [0.0, 0.5], k=1.0) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="one value per token"):
        min_k_plus_plus_score([-1.0], [0.0, 0.0], [1.0, 1.0])


@pytest.mark.parametrize("seed", range(4))
def test_roc_equals_scikit_learn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = (rng.random(60) < 0.4).tolist()
    scores = np.round(rng.normal(size=60) + 0.8 * np.array(labels), 1).tolist()  # rounding makes ties
    assert auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    fpr, tpr, thr = sk_roc_curve(labels, scores, drop_intermediate=False)
    curve = roc_curve(scores, labels)
    assert curve is not None
    assert np.allclose(curve.fpr, fpr) and np.allclose(curve.tpr, tpr) and np.allclose(curve.thresholds[1:], thr[1:])
    # TPR at 10% FPR: the best threshold that flags at most 10% of negatives
    expected = max(t for f, t in zip(fpr, tpr) if f <= 0.1)
    assert tpr_at_fpr(scores, labels, 0.1) == pytest.approx(expected)


def test_roc_by_hand() -> None:
    scores = [0.9, 0.8, 0.7, 0.6]
    labels = [True, False, True, False]
    # pairs (pos, neg): (0.9,0.8) (0.9,0.6) (0.7,0.6) right, (0.7,0.8) wrong: 3/4
    assert auroc(scores, labels) == pytest.approx(0.75)
    assert tpr_at_fpr(scores, labels, 0.0) == pytest.approx(0.5)  # only 0.9 flagged
    assert tpr_at_fpr(scores, labels, 0.5) == pytest.approx(1.0)
    assert auroc([1.0, 1.0], [True, False]) == pytest.approx(0.5)  # a tie counts one half
    assert auroc([1.0, 2.0], [True, True]) is None and roc_curve([1.0], [False]) is None
    with pytest.raises(ValueError, match="NaN"):
        auroc([math.nan, 1.0], [True, False])


def test_bootstrap_interval_brackets_the_value_and_separation_shows() -> None:
    rng = np.random.default_rng(7)
    labels = [True] * 100 + [False] * 100
    separated = (np.r_[rng.normal(1.5, 1, 100), rng.normal(0, 1, 100)]).tolist()
    value, ci = with_ci("auroc", separated, labels, n_boot=200)
    assert value is not None and ci is not None and ci[0] <= value <= ci[1] and ci[0] > 0.75
    same = rng.normal(0, 1, 200).tolist()
    value, ci = with_ci("auroc", same, labels, n_boot=200)
    assert value is not None and ci is not None and ci[0] < 0.5 < ci[1]
    value, ci = with_ci("tpr_at_fpr", separated, labels, fpr=0.01, n_boot=200)
    assert value is not None and 0.0 <= value <= 1.0
