"""Suites: named, reproducible selections of tasks and data (``trustgauge run --suite NAME``).

A suite says which tasks run and on which data:

- ``trustllm``: every TrustLLM sub-task on the full, pinned release (13,975+ prompts; fetched
  and verified on first use, or ``--data-dir``);
- ``quick``: every sub-task on the packaged quick sample (582 records, stratified and seeded,
  paired items kept whole; made by ``scripts/make_quick_sample.py``), offline, in minutes;
- one suite per dimension (``truthfulness``, ``safety``, ...) on the full release, and
  ``quick-<dimension>`` on the quick sample;
- ``awareness`` / ``quick-awareness``: emotional awareness and the extra awareness tasks
  (capability, mission, perspective: TrustLLM's later items in ``awareness.json``, outside its
  13,975-prompt benchmark).

``--tasks`` narrows a suite further. Suites are data; a run records the suite it used.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustgauge.errors import ConfigError

#: the packaged folder holding the quick sample (laid out like the release); plain data, so
#: :mod:`trustgauge.tasks.oracle` and scripts read it without building the suites
QUICK_SAMPLE = "trustllm_quick"


@dataclass(frozen=True)
class Suite:
    """A named selection of tasks on one data source.

    Attributes:
        name: What users type after ``--suite``.
        description: One line for ``trustgauge suites``.
        tasks: Task selectors (ids, dimensions or ``all``).
        packaged: The packaged sample folder the suite reads (``None``: the full release).
    """

    name: str
    description: str
    tasks: tuple[str, ...]
    packaged: str | None = None

    @property
    def offline(self) -> bool:
        """Whether the suite's data ships with trustgauge (no download needed)."""
        return self.packaged is not None


def _build() -> dict[str, Suite]:
    # the registry imports every task module: read it when the suites are asked for, not when
    # this module is imported (QUICK_SAMPLE alone needs none of it)
    from trustgauge.tasks.registry import dimensions

    suites = [
        Suite("trustllm", "every TrustLLM sub-task on the full release", ("all",)),
        Suite(
            "quick",
            "every TrustLLM sub-task on the packaged stratified sample (541 prompts, offline)",
            ("all",),
            QUICK_SAMPLE,
        ),
    ]
    for dim in dimensions():
        suites.append(Suite(dim, f"the {dim} sub-tasks on the full release", (dim,)))
    awareness = ("ethics.emotional_awareness", "extra")
    suites.append(
        Suite("awareness", "emotional awareness and the extra awareness tasks (capability, "
              "mission, perspective) on the full release", awareness)
    )
    for dim in dimensions():
        suites.append(
            Suite(f"quick-{dim}", f"the {dim} sub-tasks on the quick sample", (dim,), QUICK_SAMPLE)
        )
    suites.append(
        Suite("quick-awareness", "the awareness tasks on the quick sample", awareness, QUICK_SAMPLE)
    )
    return {s.name: s for s in suites}


def suites() -> dict[str, Suite]:
    """Every suite by name, in a stable order."""
    return _build()


def get_suite(name: str) -> Suite:
    """The suite ``name``.

    Raises:
        ConfigError: unknown name; the message lists the known ones.
    """
    known = suites()
    try:
        return known[name.strip()]
    except KeyError:
        raise ConfigError(
            f"unknown suite {name!r}; known: {', '.join(known)} (`trustgauge suites` lists them)"
        ) from None
