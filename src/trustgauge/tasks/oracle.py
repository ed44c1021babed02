"""The oracle's answers: prompt -> :meth:`~trustgauge.tasks.base.Task.oracle_response` of the
sample it belongs to, over every registered task and the data folders given.

``scripted:oracle`` answers from this table: each benchmark item correctly, a refusal only
where refusing is right. It is the upper reference next to ``scripted:refuse-all`` and
``scripted:comply-all`` (``docs/baselines.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trustgauge.errors import DataError

#: bumped when an oracle response changes (part of the oracle's cache identity); the table's
#: digest is in the identity too, so new prompts (a new task's) change it without a bump
ORACLE_VERSION = "1"


@dataclass
class OracleTable:
    """The oracle's answers by prompt, and the prompts two samples wanted answered differently
    (the first answer is kept; the tests require there be none)."""

    answers: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """:data:`ORACLE_VERSION` (the scripted model puts it in its identity)."""
        return ORACLE_VERSION

    def digest(self) -> str:
        blob = json.dumps(sorted(self.answers.items()), ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()


def default_roots() -> list[Path]:
    """The packaged quick sample, and the TrustLLM release if it is at hand without a download
    (``$TRUSTGAUGE_DATA_DIR`` or the cached copy)."""
    from trustgauge.data import packaged_path, resolve_data_dir
    from trustgauge.tasks.suites import QUICK_SAMPLE

    roots = [packaged_path(QUICK_SAMPLE)]
    with contextlib.suppress(DataError):
        roots.append(resolve_data_dir("trustllm", None, auto_fetch=False, progress=False))
    return roots


def build_oracle_table(roots: Iterable[Path], *, shipped: bool = True) -> OracleTable:
    """Every task's oracle response for every sample it reads from each of ``roots`` (folders
    laid out like the release; a file missing from one is skipped), then, with ``shipped``,
    from the data each task ships in the package (Liu et al.'s frozen prompt sets: a task's
    :class:`~trustgauge.data.sources.PackageFiles` source, read by that task only)."""
    from trustgauge.data import load_records
    from trustgauge.data.sources import PackageFiles
    from trustgauge.tasks.base import Task
    from trustgauge.tasks.registry import TASKS

    table = OracleTable()

    def add(task: Task, root: Path) -> None:
        if {"loglikelihood", "logits_processor"} & set(task.requires):
            # scored from log-likelihoods or made by a sampling hook (watermarking), which no
            # scripted model gives: it never asks the table, and its prompts are other tasks'
            # (the contamination check, the watermark task's passage prefixes) with other answers
            return
        try:
            records, _ = load_records(root, task.data.path)
        except DataError:
            return
        for sample in task.samples(records):
            answer = task.oracle_response(sample)
            # a single-turn task's request is keyed whole when it is more than one user turn (a
            # question about a document in the system message: the same question may have other
            # answers); a conversation's calls by their last user turn
            key = sample.prompt if task.is_conversational() else task.build_request(sample).conversation_key
            known = table.answers.setdefault(key, answer)
            if known != answer:
                table.conflicts.setdefault(key, [known]).append(f"{task.id}: {answer}")

    for root in roots:
        table.roots.append(str(root))
        for cls in TASKS.values():
            add(cls(), Path(root))
    if shipped:
        for cls in TASKS.values():
            if isinstance(cls.source, PackageFiles):
                table.roots.append(f"package:{cls.source.id}")
                add(cls(), cls.source.folder())
    return table


def oracle_roots(extra: Sequence[str | os.PathLike[str]] = ()) -> list[Path]:
    """:func:`default_roots` plus ``extra`` folders (``scripted:oracle=DIR``)."""
    return [*default_roots(), *(Path(p) for p in extra)]


def oracle_table(extra: Sequence[str | os.PathLike[str]] = ()) -> OracleTable:
    """The table ``scripted:oracle`` answers from: every task's oracle response over
    :func:`oracle_roots` (``extra``: its ``=DIR`` and ``options.data_dir`` folders). The pipeline
    passes this function to :func:`~trustgauge.models.registry.load_model` (``oracle=``), which
    calls it on the model's first answer or identity: models do not import tasks."""
    return build_oracle_table(oracle_roots(extra))
