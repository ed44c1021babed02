"""Liu et al. (2023), "Trustworthy LLMs": the eight measured studies of the paper's section 11,
one module per study (``tasks/liu2023/<study>.py``), dimension ``liu2023``.

Each study reads a frozen prompt set shipped in the package (``trustgauge/data/packaged/liu2023/
<study>/``, with its licence) through a :class:`~trustgauge.data.sources.PackageFiles` source the
task declares, follows the authors' script in ``scripts/test_<study>.py`` of their release, and
says what it does differently in ``docs/liu2023.md``. ``--tasks liu2023`` or ``--suite liu2023``
runs them all; ``--suite quick-liu2023`` a seeded slice of each. ``all`` and TrustLLM's suites do
not select them.
"""
