"""The run-directory format: the contract between the code that writes a run
(:mod:`trustgauge.pipeline.run`) and the readers (report, compare, leaderboard, gate, export).

- :mod:`~trustgauge.results.schema`: ``run.json``, ``scores.json``, ``samples.jsonl`` (versioned);
- :mod:`~trustgauge.results.writer`: ``write_run`` / ``read_run``;
- :mod:`~trustgauge.results.rundir`: written as a whole, verified (hashes, counts) when read;
- :mod:`~trustgauge.results.health`: the run's empty/truncated/failed/unreadable counts;
- :mod:`~trustgauge.results.results`: ``Results``, the loaded run for Python users.

This package sits below tasks, judges, engine and report (docs/architecture.md §2.1): it imports
only ``types``, ``config``, ``net``, ``errors``, ``_secrets``, ``_paths``, ``_version`` and
outside packages, so a run can be read without the code that produced it. Importing it loads
none of its modules (``import trustgauge.results.writer`` etc.).
"""
