"""Verify judges: judge each labelled set through the engine's judging loop (the run's path:
:func:`trustgauge.engine.judging.judge_items`, judgements cached in the store, so an llm
judge's verdicts are paid for once), measure the agreement and compare it with the reference
figure (:mod:`trustgauge.judges.verify.figures`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustgauge.engine.judging import check_judges, judge_items
from trustgauge.engine.progress import Progress
from trustgauge.engine.store import Store
from trustgauge.judges.base import Judge
from trustgauge.judges.catalogue import DEFAULT_JUDGES
from trustgauge.judges.registry import create_judge
from trustgauge.judges.verify.figures import Figure, Reference, check_verdict, reference_for
from trustgauge.judges.verify.measure import Measurement, measure_verdicts
from trustgauge.judges.verify.sets import LabelledSet
from trustgauge.types import JudgeItem

__all__ = ["JudgeChoice", "VerifyResult", "measure_judge", "verify_judges"]


@dataclass(frozen=True)
class JudgeChoice:
    """A judge to verify: ``kind=name`` with its options, on ``sets``."""

    kind: str
    name: str
    sets: tuple[LabelledSet, ...]
    options: dict[str, Any] = field(default_factory=dict)
    judge_model: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    """One judge on one set: its agreement, the reference figure and the verdict."""

    kind: str
    name: str
    judge_id: str
    labelled: LabelledSet
    measurement: Measurement
    reference: Reference | None = None
    tolerance: float | None = None
    verdict: str = "unchecked"
    reason: str = ""

    @property
    def metric(self) -> str:
        return self.labelled.metric

    def figure(self) -> Figure:
        """This measurement as a figure (for ``--save-baseline``)."""
        tol = self.tolerance if self.tolerance is not None else (
            self.reference.figure.tolerance if self.reference else _DEFAULT_TOLERANCE[self.metric])
        value = self.measurement.value(self.metric)
        return Figure(
            kind=self.kind, judge=self.name, judge_id=self.judge_id, set=self.labelled.name,
            set_sha256=self.labelled.sha256, metric=self.metric, figure=0.0 if value is None else value,
            tolerance=tol, what=f"recorded by trustgauge judges verify --save-baseline ({self.judge_id})",
        )

    def as_dict(self) -> dict[str, Any]:
        m = self.measurement
        ref = self.reference
        return {
            "kind": self.kind, "judge": self.name, "judge_id": self.judge_id, "set": self.labelled.name,
            "packaged": self.labelled.packaged, "set_sha256": self.labelled.sha256, "n": m.n, "unjudged": m.unjudged,
            "metric": self.metric,
            **{k: (None if v is None else round(v, 4)) for k, v in m.values.items()},
            **{f"{k}_ci": (None if ci is None else [round(ci[0], 4), round(ci[1], 4)]) for k, ci in m.cis.items()},
            "reference": None if ref is None else {
                "source": ref.source, "judge_id": ref.figure.judge_id, "figure": ref.figure.figure,
                "tolerance": self.tolerance if self.tolerance is not None else ref.figure.tolerance,
                "what": ref.figure.what,
            },
            "verdict": self.verdict, "reason": self.reason,
        }


#: tolerance recorded with a baseline when no reference gave one
_DEFAULT_TOLERANCE = {"kappa": 0.03, "accuracy": 0.02, "spearman": 0.02, "pearson": 0.02}


def _items(labelled: LabelledSet) -> list[JudgeItem]:
    return [JudgeItem(prompt=r.prompt, response=r.text, reference=r.reference) for r in labelled.rows]


async def _close(judge: Judge) -> None:
    aclose = getattr(judge, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


async def verify_judges(
    choices: Sequence[JudgeChoice], *, store_path: Path | None, use_cache: bool = True,
    progress: Progress | None = None, published: Iterable[Figure] = (), baseline: Iterable[Figure] = (),
    baseline_path: Path | None = None, tolerance: float | None = None,
) -> list[VerifyResult]:
    """Judge every set of every choice and compare with its reference figure. ``store_path``
    ``None``: no store (nothing cached).

    Raises:
        ConfigError: a judge cannot be created or its model cannot work (``check``).
        DataError: a reference figure was measured on other rows.
        JudgeFailedError: a judge failed (its model kept failing).
    """
    progress = progress or Progress()
    published, baseline = list(published), list(baseline)
    results: list[VerifyResult] = []
    store = Store(store_path) if store_path is not None else None
    try:
        for choice in choices:
            judge = create_judge(choice.kind, choice.name, judge_model=choice.judge_model, **choice.options)
            try:
                await check_judges([judge])
                for labelled in choice.sets:
                    verdicts, _ = await judge_items(
                        judge, _items(labelled), store, use_cache=use_cache, progress=progress,
                        description=f"verifying {choice.kind}={choice.name} on {labelled.name}",
                    )
                    measurement = await asyncio.to_thread(
                        measure_verdicts, [r.label for r in labelled.rows], verdicts, scored=labelled.scored)
                    reference = reference_for(
                        choice.kind, choice.name, labelled, default=DEFAULT_JUDGES.get(choice.kind),
                        baseline=baseline, baseline_path=baseline_path, published=published,
                    )
                    verdict, reason = check_verdict(measurement, labelled.metric, reference, tolerance)
                    results.append(VerifyResult(
                        kind=choice.kind, name=choice.name, judge_id=judge.id, labelled=labelled,
                        measurement=measurement, reference=reference, tolerance=tolerance, verdict=verdict,
                        reason=reason,
                    ))
            finally:
                await _close(judge)
    finally:
        if store is not None:
            store.close()
    return results


def measure_judge(
    kind: str, name: str, sets: Sequence[LabelledSet], *, use_cache: bool = False, **options: Any,
) -> list[VerifyResult]:
    """:func:`verify_judges` for one judge with no store and no reference (the figures script)."""
    return asyncio.run(verify_judges([JudgeChoice(kind, name, tuple(sets), options)], store_path=None,
                                     use_cache=use_cache))
