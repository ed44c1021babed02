"""A model-free check of a member / non-member split: can the two halves be told apart from
their words alone? (Duan et al. 2024: temporal splits such as WikiMIA can, so every attack
looks strong on them.)

A multinomial naive Bayes classifier on word counts scores each text out of fold (stratified
k-fold, seeded), and the AUROC of those scores says how separable the halves are. On small sets
that AUROC wanders far from 0.5 by chance (a standard deviation of about 0.08 for 60 + 60 texts
of 25 words), so it is judged against its own null: the same procedure on the same texts with
the labels shuffled, ``permutations`` times. The split is flagged as shifted when the permutation p-value is at most :data:`SHIFT_P`
(with the default 99 shuffles: no shuffled labelling reached the observed AUROC) and the
AUROC is at least :data:`SHIFT_WARNING_AUROC`.

Pure numpy and scipy (sparse word counts); a few seconds for thousands of texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trustgauge.stats.roc import auroc

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from scipy.sparse import csr_matrix

__all__ = ["SHIFT_P", "SHIFT_WARNING_AUROC", "ShiftCheck", "bag_of_words_auroc", "words"]

#: the permutation p-value at or below which the halves count as separable (99 shuffles: none
#: of them reached the observed AUROC)
SHIFT_P = 0.01
#: an AUROC that must also be reached (beyond beating the shuffled-label null) to flag a shift
SHIFT_WARNING_AUROC = 0.6
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class ShiftCheck:
    """What the model-free classifier found.

    Attributes:
        auroc: Its out-of-fold AUROC on the real labels (``None``: too few texts).
        null_auroc: The mean AUROC over shuffled labels (what "no difference" reads as here).
        p_value: The share of shuffled labellings reaching ``auroc`` (with the +1 correction).
        shifted: ``p_value`` at most :data:`SHIFT_P` and ``auroc`` at least :data:`SHIFT_WARNING_AUROC`.
    """

    auroc: float | None
    null_auroc: float | None
    p_value: float | None
    shifted: bool


def _counts(texts: Sequence[str]) -> csr_matrix:
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, text in enumerate(texts):
        for word in words(text):
            rows.append(i)
            cols.append(vocab.setdefault(word, len(vocab)))
    data = [1.0] * len(rows)
    return csr_matrix((data, (rows, cols)), shape=(len(texts), max(1, len(vocab))))


def _folds(labels: NDArray[np.bool_], folds: int, rng: np.random.Generator) -> NDArray[np.int64]:
    import numpy as np

    fold_of = np.zeros(len(labels), dtype=np.int64)
    for cls in (True, False):
        members = np.flatnonzero(labels == cls)
        fold_of[rng.permutation(members)] = np.arange(len(members)) % folds
    return fold_of


def _out_of_fold(x: csr_matrix, labels: NDArray[np.bool_], fold_of: NDArray[np.int64], folds: int,
                 alpha: float) -> NDArray[np.float64]:
    """Each text's naive Bayes log-odds (member over non-member) from the other folds' texts;
    Laplace smoothing ``alpha`` over the whole vocabulary."""
    import numpy as np

    scores = np.zeros(x.shape[0])
    for f in range(folds):
        train = fold_of != f
        pos = np.asarray(x[train & labels].sum(axis=0)).ravel() + alpha
        neg = np.asarray(x[train & ~labels].sum(axis=0)).ravel() + alpha
        weights = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
        prior = np.log((np.sum(train & labels) + 1) / (np.sum(train & ~labels) + 1))
        test = fold_of == f
        scores[test] = x[test] @ weights + prior
    return scores


def bag_of_words_auroc(
    texts: Sequence[str], labels: Sequence[bool], *, folds: int = 5, permutations: int = 99, seed: int = 0,
    alpha: float = 1.0,
) -> ShiftCheck:
    """The shift check of ``texts`` split by ``labels`` (``True``: member). ``None`` values
    with fewer than ``folds`` texts of either class."""
    import numpy as np

    if len(texts) != len(labels):
        raise ValueError("one label per text")
    y = np.asarray([bool(v) for v in labels], dtype=bool)
    if min(int(y.sum()), int((~y).sum())) < folds:
        return ShiftCheck(None, None, None, False)
    rng = np.random.default_rng(seed)
    x = _counts(texts)

    def cv_auroc(lab: NDArray[np.bool_]) -> float:
        value = auroc(_out_of_fold(x, lab, _folds(lab, folds, rng), folds, alpha).tolist(), lab.tolist())
        assert value is not None  # both classes present
        return value

    observed = cv_auroc(y)
    null = [cv_auroc(rng.permutation(y)) for _ in range(permutations)]
    p = (1 + sum(1 for v in null if v >= observed)) / (1 + permutations)
    return ShiftCheck(observed, float(np.mean(null)), p, p <= SHIFT_P + 1e-12 and observed >= SHIFT_WARNING_AUROC)
