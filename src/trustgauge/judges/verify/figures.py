"""The figures a judge's agreement is compared with, and the verdict.

* **Published** (``published.json``, packaged): what each offline judge of this package scores
  on each shipped set, measured by ``scripts/judge_verify_sets.py figures``. Most are a
  training fit (the judge was trained or tuned on those rows; each figure says what it is), so
  they do not estimate agreement on new data: they detect drift (other int8 kernels, a broken
  weight download, a changed encoder).
* **A baseline** (``--baseline FILE``, written by ``--save-baseline FILE``): figures the user
  recorded, by kind and set, whatever judge measured them. The guard for swapping a judge (a new
  judge model): the new one is compared with what the old one scored.
* Otherwise a judge with no figure of its own (an ``llm`` judge, a plugin, Perspective) is
  compared with the kind's **default judge's** published figure on the set: a replacement must
  not agree worse than what it replaces.

A judge fails a set when its figure is below the reference figure minus the tolerance (or, for
a scored set, when more than ``MAX_UNJUDGED`` of the rows got no score).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustgauge.errors import DataError
from trustgauge.judges.verify.measure import MAX_UNJUDGED, Measurement
from trustgauge.judges.verify.sets import LabelledSet

__all__ = [
    "BASELINE_FORMAT",
    "FIGURES_FORMAT",
    "PUBLISHED",
    "Figure",
    "Reference",
    "baseline_record",
    "check_verdict",
    "published_figures",
    "read_figures",
    "reference_for",
]

PUBLISHED = Path(__file__).resolve().parent / "published.json"
FIGURES_FORMAT = "trustgauge-judge-figures/1"
BASELINE_FORMAT = "trustgauge-judge-baseline/1"


@dataclass(frozen=True)
class Figure:
    """One recorded figure: ``judge`` scored ``figure`` in ``metric`` on ``set``."""

    kind: str
    judge: str
    judge_id: str
    set: str
    set_sha256: str
    metric: str
    figure: float
    tolerance: float
    what: str = ""


@dataclass(frozen=True)
class Reference:
    """The figure a measurement is compared with, and where it comes from."""

    figure: Figure
    #: ``published``, ``baseline FILE`` or ``default judge NAME (published)``
    source: str


def read_figures(path: Path, expected_format: str) -> list[Figure]:
    """The figures of a published or baseline file.

    Raises:
        DataError: unreadable, not JSON, another format, or a malformed figure.
    """
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise DataError(f"{path}: not JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(record, dict) or record.get("format") != expected_format:
        got = record.get("format") if isinstance(record, dict) else None
        raise DataError(f"{path}: not a {expected_format} file (format {got!r}); write one with --save-baseline FILE")
    figures = record.get("figures")
    if not isinstance(figures, list):
        raise DataError(f"{path}: 'figures' must be a list")
    out = []
    for i, f in enumerate(figures):
        try:
            out.append(Figure(
                kind=str(f["kind"]), judge=str(f["judge"]), judge_id=str(f.get("judge_id", "")), set=str(f["set"]),
                set_sha256=str(f["set_sha256"]), metric=str(f["metric"]), figure=float(f["figure"]),
                tolerance=float(f["tolerance"]), what=str(f.get("what", "")),
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: figure {i + 1} is malformed ({type(exc).__name__}: {exc})") from None
        if out[-1].tolerance < 0:
            raise DataError(f"{path}: figure {i + 1} has a negative tolerance")
    return out


def published_figures() -> list[Figure]:
    """The packaged figures (``published.json``)."""
    return read_figures(PUBLISHED, FIGURES_FORMAT)


def reference_for(
    kind: str, name: str, labelled: LabelledSet, *, default: str | None,
    baseline: Iterable[Figure] = (), baseline_path: Path | None = None, published: Iterable[Figure] = (),
) -> Reference | None:
    """The reference figure for judge ``kind=name`` on ``labelled``: the baseline's figure for the
    kind and set, else the judge's published one, else the kind's default judge's (``default``);
    ``None`` when there is none.

    Raises:
        DataError: the reference was measured on other rows (the set's sha256 differs).
    """
    found: Reference | None = None
    for f in baseline:
        if f.kind == kind and f.set == labelled.name:
            found = Reference(f, f"baseline {baseline_path}" if baseline_path else "baseline")
    if found is None:
        published = list(published)
        for f in published:
            if f.kind == kind and f.judge == name and f.set == labelled.name:
                found = Reference(f, "published")
        if found is None and default is not None and default != name:
            for f in published:
                if f.kind == kind and f.judge == default and f.set == labelled.name:
                    found = Reference(f, f"default judge {default} (published)")
    if found is not None and found.figure.set_sha256 != labelled.sha256:
        raise DataError(
            f"the {found.source} figure for {kind} on {labelled.name} was measured on other rows (set sha256 "
            f"{found.figure.set_sha256[:12]}…, this one {labelled.sha256[:12]}…): figures on different rows "
            "are not comparable; record a new baseline with --save-baseline FILE"
        )
    return found


def check_verdict(
    measurement: Measurement, metric: str, reference: Reference | None, tolerance: float | None = None,
) -> tuple[str, str]:
    """``("pass" | "fail" | "unchecked", reason)``. ``tolerance`` overrides the reference's."""
    value = measurement.value(metric)
    if value is None:
        return "fail", f"{metric} is undefined on these rows"
    if metric in ("spearman", "pearson") and measurement.unjudged > MAX_UNJUDGED * measurement.n:
        return "fail", (f"{measurement.unjudged} of {measurement.n} rows got no score "
                        f"(more than {MAX_UNJUDGED:.0%})")
    if reference is None:
        return "unchecked", "no reference figure (record one with --save-baseline FILE)"
    tol = reference.figure.tolerance if tolerance is None else tolerance
    floor = reference.figure.figure - tol
    if value < floor - 1e-12:
        return "fail", (f"{metric} {value:.3f} is below the {reference.source} figure {reference.figure.figure:.3f} "
                        f"minus the tolerance {tol:.3f}")
    return "pass", f"{metric} {value:.3f} >= {reference.figure.figure:.3f} - {tol:.3f} ({reference.source})"


def baseline_record(figures: Iterable[Figure], *, keep: Iterable[Figure] = (), meta: Mapping[str, Any]) -> dict[str, Any]:
    """A baseline file's content: ``figures``, plus those of ``keep`` (an older baseline) for
    other kinds or sets."""
    new = list(figures)
    taken = {(f.kind, f.set) for f in new}
    merged = [f for f in keep if (f.kind, f.set) not in taken] + new
    return {
        "format": BASELINE_FORMAT,
        **meta,
        "figures": [
            {"kind": f.kind, "judge": f.judge, "judge_id": f.judge_id, "set": f.set, "set_sha256": f.set_sha256,
             "metric": f.metric, "figure": round(f.figure, 4), "tolerance": f.tolerance, "what": f.what}
            for f in sorted(merged, key=lambda f: (f.kind, f.set))
        ],
    }
