"""The model-free split check (stats/shift.py): a shifted split is flagged, a fair one is not
(its out-of-fold AUROC sits near its shuffled-label null, whatever that null is); the naive
Bayes weights by hand."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from trustgauge.stats.shift import (
    SHIFT_P,
    SHIFT_WARNING_AUROC,
    _counts,
    _out_of_fold,
    bag_of_words_auroc,
)

TOPICS_OLD = ["castle", "king", "sword", "horse", "knight", "village", "harvest", "monk"]
TOPICS_NEW = ["smartphone", "app", "internet", "streaming", "drone", "laptop", "startup", "email"]
COMMON = ["the", "a", "people", "day", "city", "many", "new", "after", "was", "were", "and", "of"]


def _text(rng: random.Random, topics: list[str]) -> str:
    return " ".join(rng.choice(COMMON + topics if rng.random() < 0.5 else COMMON) for _ in range(25))


def test_a_temporal_split_is_flagged_and_a_fair_one_is_not() -> None:
    rng = random.Random(3)
    labels = [True] * 60 + [False] * 60
    shifted = [_text(rng, TOPICS_OLD) for _ in range(60)] + [_text(rng, TOPICS_NEW) for _ in range(60)]
    check = bag_of_words_auroc(shifted, labels, permutations=49)
    assert check.auroc is not None and check.auroc > 0.9 and check.p_value == pytest.approx(1 / 50)
    assert check.shifted is False  # 49 shuffles cannot reach p <= 0.01
    check = bag_of_words_auroc(shifted, labels)
    assert check.p_value == pytest.approx(SHIFT_P) and check.shifted
    # the same words on both sides (each text from its own seeded generator): not separable
    for seed in range(3):
        fair = [_text(random.Random(seed * 1000 + i), TOPICS_OLD + TOPICS_NEW) for i in range(120)]
        check = bag_of_words_auroc(fair, labels, permutations=49)
        assert check.auroc is not None and check.null_auroc is not None
        assert abs(check.null_auroc - 0.5) < 0.05 and abs(check.auroc - 0.5) < 0.15
        assert check.p_value is not None and check.p_value > 0.05 and not check.shifted
    assert SHIFT_WARNING_AUROC == 0.6


def test_too_few_texts_give_no_number() -> None:
    check = bag_of_words_auroc(["a b", "c d", "e f"], [True, False, True], folds=5)
    assert check.auroc is None and check.p_value is None and not check.shifted
    with pytest.raises(ValueError, match="one label per text"):
        bag_of_words_auroc(["a"], [True, False])


def test_naive_bayes_log_odds_by_hand() -> None:
    # fold 0 is scored by fold 1: members "x x", non-members "y"; vocabulary {x, y, z}, alpha 1
    texts = ["x x", "y", "x z", "z"]
    labels = np.array([True, False, True, False])
    fold_of = np.array([1, 1, 0, 0])
    scores = _out_of_fold(_counts(texts), labels, fold_of, 2, 1.0)
    # P(x|member) = 3/5, P(x|non) = 1/4, P(z|member) = 1/5, P(z|non) = 1/4; equal priors
    expected_xz = math.log(3 / 5) - math.log(1 / 4) + math.log(1 / 5) - math.log(1 / 4)
    assert scores[2] == pytest.approx(expected_xz)
    assert scores[3] == pytest.approx(math.log(1 / 5) - math.log(1 / 4))
