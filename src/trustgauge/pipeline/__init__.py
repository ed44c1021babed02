"""The run pipeline (docs/architecture.md §2.1): what runs task code over the engine.

``spec`` (RunSpec, its digest), ``plan`` (units: one task shard for one model), ``executor``
(the Executor protocol and what it returns), ``local`` (LocalExecutor: the asyncio engine in
this process), ``merge`` (unit results back in plan order), ``conversations`` (multi-turn tasks),
``many`` (several models' runs side by side, one executor factory for all).
"""
