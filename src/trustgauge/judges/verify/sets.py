"""Labelled sets a judge is verified on: the ones the package ships (``sets/KIND.NAME.jsonl``,
sources and licences in ``README.md`` next to them) and the user's own (``--labels FILE``).

One row a line, a JSON object: ``text`` (the response judged), ``label`` (the human's, or the
reference scorer's, verdict), optional ``prompt`` (what the response answers: the question, the
attack's goal), ``reference`` (a gold answer, for judges that compare with one), ``id`` and
``group``. A kind's labels are read as :data:`KINDS` says: the judge's two labels for a binary
kind (``true``/``false`` and ``1``/``0`` also read, 1 = the first, e.g. refusal), a number for a
scored kind (toxicity: compared with the judge's ``score``). A kind not listed there is scored
when every label is a number and categorical (labels compared as they are) otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustgauge.data.records import iter_jsonl_objects
from trustgauge.errors import ConfigError, DataError

__all__ = [
    "KINDS",
    "SETS_DIR",
    "KindSpec",
    "LabelledRow",
    "LabelledSet",
    "kinds_with_sets",
    "packaged_sets",
    "read_labels",
]

#: the packaged sets, ``KIND.NAME.jsonl``
SETS_DIR = Path(__file__).resolve().parent / "sets"


@dataclass(frozen=True)
class KindSpec:
    """How a kind's labels are compared with a judge's verdicts."""

    #: labels are numbers compared with ``Judgement.score`` (rank correlation)
    scored: bool
    #: binary kinds: (positive, negative), the judge's own labels
    labels: tuple[str, ...] = ()

    @property
    def metric(self) -> str:
        """The metric a verdict is based on: Spearman's rho (scored) or Cohen's kappa."""
        return "spearman" if self.scored else "kappa"


#: the kinds whose labels trustgauge knows (the ones it ships sets for)
KINDS: dict[str, KindSpec] = {
    "refusal": KindSpec(scored=False, labels=("refusal", "compliance")),
    "toxicity": KindSpec(scored=True),
    "harmfulness": KindSpec(scored=False, labels=("harmful", "safe")),
    "attack_success": KindSpec(scored=False, labels=("harmful", "safe")),
}


@dataclass(frozen=True)
class LabelledRow:
    text: str
    label: str | float
    prompt: str = ""
    reference: Any = None
    id: str = ""
    group: str = ""


@dataclass(frozen=True)
class LabelledSet:
    """A labelled set of one kind: its rows, where it comes from and its sha256 (of the file's
    bytes: figures measured on other rows are not compared with)."""

    kind: str
    name: str
    rows: tuple[LabelledRow, ...]
    sha256: str
    path: Path
    scored: bool
    packaged: bool

    @property
    def metric(self) -> str:
        return "spearman" if self.scored else "kappa"


def packaged_sets(kind: str) -> list[LabelledSet]:
    """The sets the package ships for ``kind`` (sorted by name; none: an empty list)."""
    return [
        read_labels(path, kind, name=path.name[len(kind) + 1 : -len(".jsonl")], packaged=True)
        for path in sorted(SETS_DIR.glob(f"{kind}.*.jsonl"))
    ]


def kinds_with_sets() -> list[str]:
    """The kinds a packaged set exists for, in :data:`KINDS` order."""
    return [kind for kind in KINDS if any(SETS_DIR.glob(f"{kind}.*.jsonl"))]


def read_labels(
    path: Path, kind: str, *, name: str | None = None, packaged: bool = False, needs_reference: bool = False,
) -> LabelledSet:
    """Read a labelled set of ``kind``.

    Raises:
        DataError: the file cannot be read, a row is malformed (``FILE:LINE: what``), a label
            is not one the kind takes, or there are no rows.
    """
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {shown}: {exc.strerror or exc}") from None
    spec = KINDS.get(kind)
    rows: list[LabelledRow] = []
    raw_labels: list[tuple[int, Any]] = []
    for lineno, row in iter_jsonl_objects(data, shown):
        text = row.get("text")
        if not isinstance(text, str):
            what = "missing field 'text'" if "text" not in row else f"field 'text' must be a string, got {type(text).__name__}"
            raise DataError(f"{shown}:{lineno}: {what}")
        if "label" not in row or row["label"] is None:
            raise DataError(f"{shown}:{lineno}: missing field 'label'")
        for field in ("prompt", "id", "group"):
            if row.get(field) is not None and not isinstance(row[field], str):
                raise DataError(f"{shown}:{lineno}: field {field!r} must be a string, got {type(row[field]).__name__}")
        if needs_reference and row.get("reference") is None:
            raise DataError(f"{shown}:{lineno}: the {kind} judge compares with a gold answer: field 'reference' is missing")
        label = _label(row["label"], spec, shown, lineno)
        raw_labels.append((lineno, label))
        rows.append(LabelledRow(text=text, label=label, prompt=row.get("prompt") or "", reference=row.get("reference"),
                                id=row.get("id") or f"line {lineno}", group=row.get("group") or ""))
    if not rows:
        raise DataError(f"{shown}: no labelled rows (one JSON object a line: text, label, optional prompt, reference)")
    if spec is not None:
        scored = spec.scored
    else:  # a kind trustgauge ships no labels for: scored when every label is a number
        numbers = [isinstance(v, float) for _, v in raw_labels]
        scored = all(numbers)
        if not scored and any(numbers):
            lineno = next(n for n, v in raw_labels if isinstance(v, float))
            raise DataError(f"{shown}:{lineno}: a number among text labels (a set is scored or labelled, not both)")
    return LabelledSet(kind=kind, name=name or path.name, rows=tuple(rows), sha256=hashlib.sha256(data).hexdigest(),
                       path=path, scored=scored, packaged=packaged)


def _label(value: Any, spec: KindSpec | None, shown: str, lineno: int) -> str | float:
    """A row's label as the kind reads it (see the module docstring)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if spec is not None and spec.scored:
        if not is_number or not math.isfinite(float(value)):
            raise DataError(f"{shown}:{lineno}: label {json.dumps(value)} is not a number (this kind is scored)")
        return float(value)
    if spec is not None:
        positive, negative = spec.labels
        if isinstance(value, bool) or (is_number and value in (0, 1)):
            return positive if value else negative
        if isinstance(value, str) and value.strip().lower() in spec.labels:
            return value.strip().lower()
        raise DataError(
            f"{shown}:{lineno}: label {json.dumps(value)} is not one of {positive}, {negative} (or true/false, 1/0)"
        )
    if is_number:
        if not math.isfinite(float(value)):
            raise DataError(f"{shown}:{lineno}: label {json.dumps(value)} is not a finite number")
        return float(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise DataError(f"{shown}:{lineno}: label {json.dumps(value)} must be a string or a number")


def check_kind_has_sets(kind: str) -> None:
    """Raises ConfigError when no set ships for ``kind`` (verify it with ``--labels FILE``)."""
    if not any(SETS_DIR.glob(f"{kind}.*.jsonl")):
        shipped = ", ".join(kinds_with_sets())
        raise ConfigError(
            f"no labelled set ships for {kind} (sets ship for {shipped}); give one with --labels FILE"
        )
