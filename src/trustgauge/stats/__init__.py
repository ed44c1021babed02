"""Statistics over scored samples: pure metric functions (``metrics``), metric values with
intervals (``metric_values``), and the catalogue of named, versioned aggregators
(``aggregators``) that turn a task's scored samples into its metrics.

This layer imports only :mod:`trustgauge.types` (and numpy): a stored run's metrics can be
recomputed from its ``samples.jsonl`` and the aggregator name ``scores.json`` records, without
the task code that produced them."""
