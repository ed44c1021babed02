"""Aggregator of the watermark task (``tasks/fan2023/watermark.py``): how strong each scheme's
mark is, how often unmarked text is flagged, what the mark costs in perplexity and which edits
remove it.

Each scored sample is one prompt and carries, per scheme ``S`` of ``params["schemes"]``
(:func:`value_key` names them):

- ``z[none/S]``, ``z[S]``, ``z[S/<attack>]``: the z-score under ``S`` (its key, the target's
  tokenizer) of the unmarked continuation, of the continuation marked with ``S``, and of that
  marked continuation after each attack of ``params["attacks"]``; ``None`` when the text was
  too short for a meaningful z-test (the scheme's ``min_tokens``); the key is missing when the
  text was not made (an attack not run);
- ``undetermined[none/S]``, ``undetermined[S]``, ``undetermined[S/<attack>]``: 1 when that
  text was too short for the test, else 0;
- ``ppl[none]`` and ``ppl[S]``: the perplexity of the unmarked and the marked continuation given
  the prompt, under the ``reference`` model (else the target).

A text whose test is undetermined counts in no rate (it is in ``n_invalid``); how many marked
texts are is ``undetermined[S]``. TPRs use the analytic null: unmarked text scores a standard
normal z (the z-test's premise, checked by ``fpr@z4[S]`` and the unmarked z's in
:func:`z_distributions`), so a threshold of z 2.326 flags 1% of unmarked texts and 3.090 flags
0.1%: ``tpr@1%fpr[S]`` is the share of marked texts at or above 2.326 (Kirchenbauer et al.
2023 and MarkLLM report TPR at fixed z thresholds the same way). An empirical threshold from
the unmarked texts would need 100 of them per 1% and 1,000 per 0.1%.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from trustgauge.stats import roc
from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.stats.metric_values import _INTERVALS, bootstrap_metric, proportion_metric
from trustgauge.types import Direction, MetricValue, SampleScore

#: the TPR metrics with the z threshold the standard normal null gives each FPR
#: (one-sided: P(Z >= 2.326) = 1%, P(Z >= 3.090) = 0.1%)
NULL_THRESHOLDS: tuple[tuple[str, float], ...] = (("tpr@1%fpr", 2.326), ("tpr@0.1%fpr", 3.090))
#: the z at which a text counts as watermarked (Kirchenbauer et al.): ``fpr@z4``
Z4 = 4.0
#: the unmarked continuation's and the marked continuation's text names in the value keys
UNMARKED, MARKED = "unmarked", "marked"
#: most z-scores kept per distribution by :func:`z_distributions`
MAX_POINTS = 400


def value_key(kind: str, scheme: str, text: str) -> str:
    """A per-sample value's key (what the report reads): the unmarked text under ``kgw``
    ``z[none/kgw]``, the kgw-marked text ``z[kgw]``, that text after typos ``z[kgw/typos]``;
    likewise ``undetermined[...]``."""
    if text == UNMARKED:
        return f"{kind}[none/{scheme}]"
    if text == MARKED:
        return f"{kind}[{scheme}]"
    return f"{kind}[{scheme}/{text}]"


def _undefined(name: str, direction: Direction, n: int, n_invalid: int, reason: str) -> MetricValue:
    return MetricValue(metric=name, value=None, direction=direction, n=n, n_invalid=n_invalid, reason=reason)


def determined_z(scored: Scored, scheme: str, text: str) -> tuple[list[float], int, int]:
    """The z-scores of ``text`` under ``scheme`` over the valid samples whose test is
    determined; how many samples had the text but an undetermined test (or no z); how many
    did not have the text at all."""
    zs: list[float] = []
    undetermined = absent = 0
    for _, sc in scored:
        if not sc.valid:
            absent += 1
            continue
        z = sc.values.get(value_key("z", scheme, text))
        flag = sc.values.get(value_key("undetermined", scheme, text))
        if z is None and flag is None:
            absent += 1
        elif z is None or flag == 1.0 or not math.isfinite(z):
            undetermined += 1
        else:
            zs.append(float(z))
    return zs, undetermined, absent


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _z_metrics(suffix: str, zs: Sequence[float], invalid: int, missing: str, *, all_thresholds: bool) -> list[MetricValue]:
    """``z_mean[suffix]`` (bootstrap interval) and the TPR at each null threshold (Wilson)."""
    names = [name for name, _ in (NULL_THRESHOLDS if all_thresholds else NULL_THRESHOLDS[:1])]
    if not zs:
        return [_undefined(f"z_mean[{suffix}]", "higher", 0, invalid, missing),
                *(_undefined(f"{n}[{suffix}]", "higher", 0, invalid, missing) for n in names)]
    out = [bootstrap_metric(f"z_mean[{suffix}]", "higher", list(zs), _mean, n_invalid=invalid)]
    for name, threshold in NULL_THRESHOLDS:
        if name in names:
            out.append(proportion_metric(f"{name}[{suffix}]", "higher", [z >= threshold for z in zs], n_invalid=invalid))
    return out


def _why_missing(scored: Scored, what: str) -> str:
    if not scored:
        return "undefined: no samples"
    return f"undefined: no sample has {what} (the samples' notes say why)"


def _auroc(scheme: str, marked: Sequence[float], unmarked: Sequence[float], invalid: int) -> MetricValue:
    """``auroc[S]``: how well the z-score separates marked from unmarked continuations."""
    name = f"auroc[{scheme}]"
    if not marked or not unmarked:
        return _undefined(name, "higher", len(marked) + len(unmarked), invalid,
                          "undefined: needs both marked and unmarked continuations with a determined test")
    scores = [*marked, *unmarked]
    labels = [True] * len(marked) + [False] * len(unmarked)
    ci = roc.bootstrap_roc(scores, labels, ())[0] if _INTERVALS.get() else None
    return MetricValue(metric=name, value=roc.auroc(scores, labels), direction="higher", ci=ci,
                       n=len(scores), n_invalid=invalid)


def _paired(scored: Scored, scheme: str) -> list[tuple[float, float]]:
    """(unmarked ppl, marked ppl) of the valid samples that have both."""
    out = []
    for _, sc in scored:
        base, marked = sc.values.get("ppl[none]"), sc.values.get(f"ppl[{scheme}]")
        if sc.valid and base is not None and marked is not None:
            out.append((float(base), float(marked)))
    return out


def _ppl_values(scored: Scored, key: str) -> list[float]:
    return [float(v) for _, sc in scored if sc.valid and (v := sc.values.get(key)) is not None and math.isfinite(v)]


def _ratio(pairs: Sequence[tuple[float, float]]) -> float | None:
    base = _median([b for b, _ in pairs])
    marked = _median([m for _, m in pairs])
    return marked / base if base and marked is not None else None


def scheme_metrics(scored: Scored, scheme: str, attacks: Sequence[str], z4: float = Z4) -> list[MetricValue]:
    """Every metric of one scheme, in the report's order (see :func:`watermark_v1`)."""
    marked, m_und, m_abs = determined_z(scored, scheme, MARKED)
    unmarked, u_und, u_abs = determined_z(scored, scheme, UNMARKED)
    out = _z_metrics(scheme, marked, m_und + m_abs, _why_missing(scored, f"a {scheme}-marked continuation with a determined test"),
                     all_thresholds=True)
    out.append(proportion_metric(
        f"fpr@z4[{scheme}]", "lower", [z >= z4 for z in unmarked], n_invalid=u_und + u_abs,
        empty_reason=_why_missing(scored, f"an unmarked continuation with a determined {scheme} test"),
    ))
    out.append(_auroc(scheme, marked, unmarked, m_und + m_abs + u_und + u_abs))
    out.append(proportion_metric(
        f"undetermined[{scheme}]", "lower", [True] * m_und + [False] * len(marked), n_invalid=m_abs,
        empty_reason=_why_missing(scored, f"a {scheme}-marked continuation"),
    ))
    ppl = _ppl_values(scored, f"ppl[{scheme}]")
    out.append(bootstrap_metric(f"ppl[{scheme}]", "lower", ppl, _median, n_invalid=len(scored) - len(ppl),
                                empty_reason=_why_missing(scored, f"the perplexity of a {scheme}-marked continuation")))
    pairs = _paired(scored, scheme)
    out.append(bootstrap_metric(f"ppl_ratio[{scheme}]", "lower", pairs, _ratio, n_invalid=len(scored) - len(pairs),
                                empty_reason=_why_missing(scored, f"the perplexity of both continuations (unmarked and {scheme})")))
    for attack in attacks:
        zs, und, absent = determined_z(scored, scheme, attack)
        missing = _why_missing(scored, f"a {scheme}-marked continuation after {attack} with a determined test")
        out += _z_metrics(f"{scheme}/{attack}", zs, und + absent, missing, all_thresholds=False)
    return out


@register_aggregator("fan2023.watermark@1")
def watermark_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``tpr@1%fpr`` (primary: the mean over schemes of ``tpr@1%fpr[S]``, bootstrap interval
    over samples), ``ppl[none]`` (median perplexity of the unmarked continuations), then per
    scheme ``S`` of ``params["schemes"]``: ``z_mean[S]``, ``tpr@1%fpr[S]``, ``tpr@0.1%fpr[S]``
    (marked continuations at z >= 2.326 / 3.090, the standard normal null's 1% / 0.1%
    thresholds), ``fpr@z4[S]`` (unmarked continuations at z >= 4: the empirical false positive
    rate at the detection threshold), ``auroc[S]`` (marked against unmarked, by z),
    ``undetermined[S]`` (marked continuations too short for the test), ``ppl[S]`` (median),
    ``ppl_ratio[S]`` (median marked over median unmarked perplexity, paired samples), then per
    attack ``A`` of ``params["attacks"]``: ``z_mean[S/A]`` and ``tpr@1%fpr[S/A]``. Undefined
    metrics carry the reason."""
    schemes: list[str] = [str(s) for s in params["schemes"]]
    attacks: list[str] = [str(a) for a in params.get("attacks", [])]
    z4 = float(params.get("z_threshold", Z4))
    valid = [(s, sc) for s, sc in scored if sc.valid]

    def headline(items: Sequence[SampleScore]) -> float | None:
        shares = []
        for scheme in schemes:
            zs = [sc.values.get(value_key("z", scheme, MARKED)) for sc in items
                  if sc.values.get(value_key("undetermined", scheme, MARKED)) == 0.0]
            usable = [z for z in zs if z is not None]
            if usable:
                shares.append(sum(1 for z in usable if z >= NULL_THRESHOLDS[0][1]) / len(usable))
        return _mean(shares)

    out = [bootstrap_metric("tpr@1%fpr", "higher", [sc for _, sc in valid], headline, n_invalid=len(scored) - len(valid),
                            empty_reason=_why_missing(scored, "a marked continuation with a determined test"))]
    base = _ppl_values(scored, "ppl[none]")
    out.append(bootstrap_metric("ppl[none]", "lower", base, _median, n_invalid=len(scored) - len(base),
                                empty_reason=_why_missing(scored, "the perplexity of an unmarked continuation")))
    for scheme in schemes:
        out += scheme_metrics(scored, scheme, attacks, z4)
    return out


def _thin(values: Sequence[float], most: int) -> list[float]:
    """``values`` sorted, thinned evenly to at most ``most`` (the smallest and largest kept)."""
    ordered = sorted(values)
    if len(ordered) <= most:
        return ordered
    step = (len(ordered) - 1) / (most - 1)
    return [ordered[round(i * step)] for i in range(most)]


def z_distributions(scored: Scored, params: Params, most: int = MAX_POINTS) -> dict[str, Any]:
    """The z-scores behind the metrics, for the report's histograms: ``{"thresholds": {...},
    "schemes": {S: {"unmarked": [...], "marked": [...], "<attack>": [...]}}}``, each list the
    determined z-scores of that text under ``S`` over the valid samples, sorted and thinned
    evenly to at most ``most`` values (a histogram of the thinned list has the full list's
    shape), with ``"n"``: the counts before thinning. Pure: a stored run's ``samples.jsonl``
    gives it again."""
    schemes: list[str] = [str(s) for s in params["schemes"]]
    attacks: list[str] = [str(a) for a in params.get("attacks", [])]
    result: dict[str, Any] = {
        "thresholds": {**dict(NULL_THRESHOLDS), "fpr@z4": float(params.get("z_threshold", Z4))},
        "schemes": {},
    }
    for scheme in schemes:
        series: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        for text in (UNMARKED, MARKED, *attacks):
            zs, _, _ = determined_z(scored, scheme, text)
            series[text] = _thin(zs, most)
            counts[text] = len(zs)
        result["schemes"][scheme] = {**series, "n": counts}
    return result

