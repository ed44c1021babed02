"""Suites: named, reproducible selections of tasks and data (``trustgauge run --suite NAME``).

A suite says which tasks run and on which data:

- ``trustllm``: every TrustLLM sub-task on the full, pinned release (13,975+ prompts; fetched
  and verified on first use, or ``--data-dir``);
- ``quick``: every sub-task on the packaged quick sample (582 records, stratified and seeded,
  paired items kept whole; made by ``scripts/make_quick_sample.py``), offline, in minutes;
- one suite per dimension (``truthfulness``, ``safety``, ...) on the full release, and
  ``quick-<dimension>`` on the quick sample; TrustLLM's privacy dimension is
  ``trustllm-privacy`` and ``quick-trustllm-privacy``, because ``privacy`` is Fan et al.'s;
- ``awareness`` / ``quick-awareness``: emotional awareness and the extra awareness tasks
  (capability, mission, perspective: TrustLLM's later items in ``awareness.json``, outside its
  13,975-prompt benchmark);
- ``liu2023``: Liu et al.'s eight measured studies on their frozen prompt sets (shipped in the
  package), and ``quick-liu2023``: a seeded slice of each (:data:`LIU_QUICK_LIMIT` samples per
  study unless ``--limit`` says otherwise; paired items kept whole), in minutes on a small model;
- ``privacy``: Fan et al.'s privacy probes (membership inference, training-data extraction, PII
  and system-prompt leakage; ``docs/privacy.md``) on the data shipped with them, and
  ``quick-privacy``: a seeded slice of each (:data:`FAN_QUICK_LIMIT` samples per probe);
- ``security``: Fan et al.'s security probes (jailbreak attacks, iterative ones with a model in
  the ``attacker`` role, and prompt injection; ``docs/security.md``), and ``quick-security``;
- ``responsibility``: Fan et al.'s responsibility probes (watermark strength and robustness, the
  watermark's quality cost on a TrustLLM slice, zero-shot detection of generated text; every
  task tagged ``fan2023:responsibility/...``; they need a model trustgauge runs, ``hf:``), and
  ``quick-responsibility``.

``--tasks`` narrows a suite further. Suites are data; a run records the suite it used.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustgauge.errors import ConfigError

#: the packaged folder holding the quick sample (laid out like the release); plain data, so
#: :mod:`trustgauge.tasks.oracle` and scripts read it without building the suites
QUICK_SAMPLE = "trustllm_quick"
#: samples per study in ``quick-liu2023`` (whole groups: a question's k calibration draws, a
#: sentence with its typo'd twin, stay together, so a study may get a few more)
LIU_QUICK_LIMIT = 24
#: samples per probe in ``quick-privacy``
FAN_QUICK_LIMIT = 24
#: the Fan et al. dimension a probe's suite selects it by: its ``fan2023:<dimension>/...`` tags
FAN_SUITES = {
    "privacy": "Fan et al.'s privacy probes (membership inference, extraction, PII and system-prompt leakage)",
    "security": "Fan et al.'s security probes (jailbreaks: direct, templates, encodings, many-shot, payload "
                "splitting, PAIR, TAP, Crescendo with --role attacker=SPEC; prompt injection: BIPIA and canary "
                "hijacking)",
    "responsibility": "Fan et al.'s responsibility probes (watermarking: strength, robustness to edits, quality "
                      "cost; detection of generated text; need an hf: model)",
}


@dataclass(frozen=True)
class Suite:
    """A named selection of tasks on one data source.

    Attributes:
        name: What users type after ``--suite``.
        description: One line for ``trustgauge suites``.
        tasks: Task selectors (ids, dimensions or ``all``).
        packaged: The packaged sample folder the suite reads (``None``: the full release).
        limit: Samples per task when the run gives no ``--limit`` (a seeded slice, drawn as
            ``--limit`` draws: whole groups), ``None``: every sample.
    """

    name: str
    description: str
    tasks: tuple[str, ...]
    packaged: str | None = None
    limit: int | None = None
    #: the suite's tasks read data shipped with trustgauge whatever :attr:`packaged` says
    #: (Liu et al.'s frozen prompt sets)
    shipped: bool = False

    @property
    def offline(self) -> bool:
        """Whether the suite's data ships with trustgauge (no download needed)."""
        return self.packaged is not None or self.shipped


def _build() -> dict[str, Suite]:
    # the registry imports every task module: read it when the suites are asked for, not when
    # this module is imported (QUICK_SAMPLE alone needs none of it)
    from trustgauge.tasks.registry import TASKS, dimensions

    def renamed(dim: str) -> str:
        # ``privacy`` names Fan et al.'s privacy probes (issue 16); TrustLLM's dimension is prefixed
        return f"trustllm-{dim}" if dim in FAN_SUITES else dim

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
        suites.append(Suite(renamed(dim), f"TrustLLM's {dim} sub-tasks on the full release", (dim,)))
    awareness = ("ethics.emotional_awareness", "extra")
    suites.append(
        Suite("awareness", "emotional awareness and the extra awareness tasks (capability, "
              "mission, perspective) on the full release", awareness)
    )
    for dim in dimensions():
        suites.append(
            Suite(f"quick-{renamed(dim)}", f"TrustLLM's {dim} sub-tasks on the quick sample", (dim,), QUICK_SAMPLE)
        )
    suites.append(
        Suite("quick-awareness", "the awareness tasks on the quick sample", awareness, QUICK_SAMPLE)
    )
    suites.append(
        Suite("liu2023", "Liu et al.'s eight measured studies on their frozen prompt sets (offline)",
              ("liu2023",), shipped=True)
    )
    suites.append(
        Suite("quick-liu2023", f"a seeded slice of each Liu et al. study ({LIU_QUICK_LIMIT} samples, "
              "whole groups), offline, in minutes", ("liu2023",), limit=LIU_QUICK_LIMIT, shipped=True)
    )
    for dim, what in FAN_SUITES.items():
        probes = tuple(
            t for t, cls in TASKS.items()
            if cls.benchmark == "fan2023" and any(tag.startswith(f"fan2023:{dim}/") for tag in cls.taxonomy)
        )
        suites.append(Suite(dim, f"{what}, offline", probes, shipped=True))
        suites.append(
            Suite(f"quick-{dim}", f"{what}, {FAN_QUICK_LIMIT} samples each, offline, in minutes",
                  probes, limit=FAN_QUICK_LIMIT, shipped=True)
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
