"""The network-and-disk floor every higher layer shares: one retry/backoff loop
(:mod:`trustgauge.net.retry`) and one atomic file write (:mod:`trustgauge.net.atomic`).

It imports only the foundation modules (``errors``, ``_secrets``, ``_paths``), so models, data
downloads, judges and the engine can all use it (docs/architecture.md §2.1)."""
