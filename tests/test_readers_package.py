"""readers/ (issue 13): the answer readers, refusal rules and exact cosine below tasks and judges.

Tasks read answers without importing a judge, so importing the readers loads no judge, task,
engine or model module; the old ``judges.*`` paths stay the same objects.
"""

from __future__ import annotations

import pytest

from _imports import modules_after

HIGHER = (
    "trustgauge.tasks", "trustgauge.judges", "trustgauge.engine", "trustgauge.models",
    "trustgauge.data", "trustgauge.report", "trustgauge.pipeline", "trustgauge.results",
)


@pytest.mark.parametrize(
    "statement",
    [
        "import trustgauge.readers",
        "import trustgauge.readers.answers, trustgauge.readers.refusal, trustgauge.readers.similarity",
    ],
)
def test_importing_readers_loads_no_judge_or_task_module(statement: str) -> None:
    loaded = modules_after(statement)
    assert "trustgauge.readers" in loaded
    assert not any(m.startswith(HIGHER) for m in loaded), sorted(loaded)


def test_the_package_alone_loads_none_of_its_modules() -> None:
    assert modules_after("import trustgauge.readers") == {"trustgauge", "trustgauge._version", "trustgauge.readers"}


def test_old_paths_are_gone() -> None:
    """One import path per name (issue 13, step 13): the judge modules no longer re-export
    the readers, and judges/extraction.py is deleted."""
    import importlib.util

    from trustgauge.judges import refusal_rules, similarity

    assert importlib.util.find_spec("trustgauge.judges.extraction") is None
    for name in ("normalize", "delivers_nothing", "FOREIGN_LANGUAGES", "HEAD_CHARS", "SHORT_CHARS",
                 "SUBSTANTIAL_CHARS", "BARE_CHARS", "CONTENT_SHARE", "LOOP_SHARE"):
        assert not hasattr(refusal_rules, name), name
    assert not hasattr(similarity, "exact_cosine")


def test_readers_give_hand_computed_answers() -> None:
    from trustgauge.readers.answers import extract_choice, extract_rating
    from trustgauge.readers.refusal import classify
    from trustgauge.readers.similarity import exact_cosine
    from trustgauge.types import Judgement

    assert extract_choice("**B**").value == "B"
    assert extract_rating("Rating: 4/5", 1, 5).value == 4.0
    assert classify("I'm sorry, but I can't help with that.")[0] == "refusal"
    assert exact_cosine(Judgement(label="different", score=0.0, raw="cosine=-0.25", judge="t")) == -0.25


def test_task_modules_import_readers_not_judges() -> None:
    """The ten task modules that read answers take them from readers/ (the layers contract also
    checks this; here it fails fast without import-linter)."""
    from pathlib import Path

    import trustgauge.tasks

    root = Path(trustgauge.tasks.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "from trustgauge.judges.extraction" in p.read_text() or "from trustgauge.judges.similarity" in p.read_text()
    ]
    assert offenders == []
