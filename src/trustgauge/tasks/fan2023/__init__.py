"""Fan et al. (2023), the trustworthiness landscape of generative models: the probes of its
privacy, security and responsibility dimensions, one module per probe
(``tasks/fan2023/<probe>.py``), dimension ``fan2023``.

Each probe reads data shipped in the package (``trustgauge/data/packaged/fan2023/<probe>/``, with
its licence and a ``SOURCE.md``), or a user's own file in the same layout. ``--suite privacy``
runs the privacy probes (membership inference, training-data extraction, PII and system-prompt
leakage; ``docs/privacy.md``); ``--tasks fan2023`` every probe. ``all`` and TrustLLM's suites do
not select them.
"""
