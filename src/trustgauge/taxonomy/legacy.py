"""Tags for runs that did not record them: TrustLLM's tasks as tagged on 2026-12-04, frozen.

``trustgauge run`` writes each task's tags into ``run.json`` (``taxonomy``) since that day;
runs made before carry none. Their tasks are all TrustLLM's, whose tags are frozen in
``data/trustllm_tags.json``, so such a run is read by category with that table instead of being
refused. An entry is never edited: a task retagged later records its new tags in new runs."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources

__all__ = ["FROZEN_ON", "legacy_tags", "tags_for_run"]

#: the day the table was frozen (the tags TrustLLM's tasks declared then)
FROZEN_ON = "2026-12-04"


@functools.cache
def legacy_tags() -> Mapping[str, tuple[str, ...]]:
    """TrustLLM's task ids -> their tags as of :data:`FROZEN_ON`."""
    text = resources.files(__package__).joinpath("data").joinpath("trustllm_tags.json").read_text(encoding="utf-8")
    return {task: tuple(tags) for task, tags in json.loads(text)["tags"].items()}


def tags_for_run(
    recorded: Mapping[str, Iterable[str]] | None, tasks: Iterable[str]
) -> tuple[dict[str, tuple[str, ...]] | None, bool]:
    """The tags to read a run's ``tasks`` with, and whether they come from the frozen table:
    the run's ``recorded`` tags when it has them; else the table's, when it knows at least one
    of the tasks (the others are read as untagged); else ``None``."""
    if recorded is not None:
        return {task: tuple(tags) for task, tags in recorded.items()}, False
    table = legacy_tags()
    known = {task: table[task] for task in tasks if task in table}
    return (known, True) if known else (None, False)
