"""Readers: pure functions that read an answer out of a model's text or a judge's verdict.

- :mod:`~trustgauge.readers.answers`: an option letter, yes/no, agreement, a fact-check label,
  any label, a rating (from ``judges/extraction.py``);
- :mod:`~trustgauge.readers.refusal`: the refusal rules the ``rules`` refusal judge applies and
  answer extraction uses to tell a refusal from an unreadable answer (from
  ``judges/refusal_rules.py``);
- :mod:`~trustgauge.readers.similarity`: the exact cosine of a similarity judgement (from
  ``judges/similarity.py``).

This package sits below tasks and judges (docs/architecture.md §2.1), beside models, data and
results: it imports only ``types`` and outside packages, so a task reads answers without
importing a judge. The old ``judges.*`` paths re-export the same objects. Importing the package
loads none of its modules.
"""
