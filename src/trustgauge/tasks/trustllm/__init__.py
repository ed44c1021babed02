"""The TrustLLM benchmark's sub-tasks, one module per sub-task:
``trustllm/<dimension>/<subtask>.py``.

Each module holds the task class (decorated with
:func:`~trustgauge.tasks.registry.register_task`), its per-sample helpers, its outcome rule, its
quick-sample plan and its docs row. The registry imports every module below this package on its
first read; the order of listings, suites and ``samples.jsonl`` is pinned by
:data:`trustgauge.tasks.registry.ORDER`, not by import order.
"""
