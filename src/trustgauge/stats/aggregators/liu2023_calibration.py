"""``liu2023.calibration@1``: Liu et al.'s miscalibration study (``tasks/liu2023/miscalibration.py``).

Each sample is one draw (one of ``k`` answers sampled at temperature 1) of a multiple-choice
question; the draws of a question share ``sample.group``. A draw's score carries the option it
chose (``label``), the confidence it stated for each option, ``values["stated_<X>"]`` in [0, 1],
and, when the model gave token log-probabilities, the probability of each option's letter at the
answer position, ``values["token_<X>"]`` (``None``: the model gave none). ``metadata["options"]``
lists the question's letters.

Per question with at least ``min_draws`` readable draws, and per option ``X``: the mean stated
confidence ``s_X`` over those draws, the share ``f_X`` of them that chose ``X`` (the empirical
frequency) and, where every readable draw has them, the mean token probability ``t_X``. The
metrics (:mod:`trustgauge.stats.calibration`) are over these (question, option) pairs; their
intervals are bootstraps over questions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from trustgauge.stats import calibration
from trustgauge.stats.aggregators.registry import Params, Scored, register_aggregator
from trustgauge.stats.metric_values import bootstrap_metric, proportion_metric
from trustgauge.types import MetricValue, Sample, SampleScore

#: why the token-probability metrics have no value when no draw carried log-probabilities
NO_LOGPROBS = "not scored: the model gave no token log-probabilities (no logprobs capability)"

Question = list[tuple[float, float, float | None]]  # per option: (stated, observed, token)


def questions(scored: Sequence[tuple[Sample, SampleScore]], min_draws: int = 3) -> dict[str, Question]:
    """Question (``sample.group``) -> one ``(stated, observed, token)`` triple per option, for the
    questions with at least ``min_draws`` valid draws; ``token`` is ``None`` unless every valid
    draw of the question has a token probability for every option."""
    draws: dict[str, list[tuple[Sample, SampleScore]]] = defaultdict(list)
    for sample, score in scored:
        if score.valid and score.label is not None:
            draws[sample.group or sample.id].append((sample, score))
    out: dict[str, Question] = {}
    for group, items in draws.items():
        if len(items) < min_draws:
            continue
        options = [str(o) for o in items[0][0].metadata.get("options", ["A", "B", "C"])]
        triples = []
        for option in options:
            stated = [sc.values.get(f"stated_{option}") for _, sc in items]
            tokens = [sc.values.get(f"token_{option}") for _, sc in items]
            s = sum(v or 0.0 for v in stated) / len(items)
            f = sum(1 for _, sc in items if sc.label == option) / len(items)
            t = sum(v for v in tokens if v is not None) / len(items) if all(v is not None for v in tokens) else None
            triples.append((s, f, t))
        out[group] = triples
    return out


def _pairs(qs: Sequence[Question], which: str) -> list[tuple[float, float]]:
    out = []
    for q in qs:
        for s, f, t in q:
            if which == "stated":
                out.append((s, f))
            elif t is not None:
                out.append((t, f) if which == "token" else (s, t))
    return out


@register_aggregator("liu2023.calibration@1")
def calibration_v1(scored: Scored, params: Params) -> list[MetricValue]:
    """``mean_abs_gap`` (primary, ↓), ``wasserstein`` (↓), ``gap_share`` (share of gaps above
    ``params["threshold"]``, ↓), ``ece`` over ``params["bins"]`` equal-width bins (↓),
    ``invalid_rate`` (share of draws not in the asked format, ↓; Wilson interval), then from token
    probabilities ``token_gap`` (mean ``|t − f|``), ``token_ece`` and ``verbal_token_gap`` (mean
    ``|s − t|``, the paper's comparison for completion models), all ↓ and not scored, with the
    reason, when no draw had log-probabilities. Questions with fewer than ``params["min_draws"]``
    valid draws are left out of all but ``invalid_rate``."""
    min_draws = int(params.get("min_draws", 3))
    bins = int(params.get("bins", 10))
    threshold = float(params.get("threshold", 0.05))
    n_invalid = sum(1 for _, sc in scored if not sc.valid)
    qs = list(questions(scored, min_draws).values())
    few = f"no question has {min_draws} or more draws in the asked format"

    def metric(name: str, which: str, statistic: Callable[[list[tuple[float, float]]], float | None],
               items: list[Question], reason: str) -> MetricValue:
        return bootstrap_metric(
            name, "lower", items, lambda sub: statistic(_pairs(sub, which)), n_invalid=n_invalid,
            empty_reason=reason,
        )

    def emd(pairs: list[tuple[float, float]]) -> float | None:
        return calibration.wasserstein([s for s, _ in pairs], [o for _, o in pairs])

    out = [
        metric("mean_abs_gap", "stated", calibration.mean_abs_gap, qs, few),
        metric("wasserstein", "stated", emd, qs, few),
        metric("gap_share", "stated", lambda p: calibration.gap_share(p, threshold), qs, few),
        metric("ece", "stated", lambda p: calibration.ece(p, bins), qs, few),
        proportion_metric("invalid_rate", "lower", [not sc.valid for _, sc in scored], empty_reason="no draws"),
    ]
    with_tokens = [q for q in qs if all(t is not None for _, _, t in q)]
    any_tokens = any(v is not None for _, sc in scored for k, v in sc.values.items() if k.startswith("token_"))
    reason = NO_LOGPROBS if qs and not any_tokens else few
    out += [
        metric("token_gap", "token", calibration.mean_abs_gap, with_tokens, reason),
        metric("token_ece", "token", lambda p: calibration.ece(p, bins), with_tokens, reason),
        metric("verbal_token_gap", "verbal_token", calibration.mean_abs_gap, with_tokens, reason),
    ]
    return out
