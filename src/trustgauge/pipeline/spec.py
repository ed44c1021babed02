"""What a run measures, as a frozen, hashable value with a digest (docs/architecture.md step 12c).

``RunConfig`` (:mod:`trustgauge.pipeline.run`) stays the public API; the pipeline converts it to a
:class:`RunSpec` (what is measured: models, roles, tasks and their parameters, data, limit, seed,
judges) and an
:class:`ExecutionSettings` (how this machine runs it: concurrency, retries, cache, store, data
directory), so that units of work can be shipped to other processes and checked to belong to
one run by the spec's digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustgauge._secrets import public_url
from trustgauge.config import ModelConfig
from trustgauge.models._http import public_spec
from trustgauge.net.retry import RetryPolicy

__all__ = ["ExecutionSettings", "RunSpec", "public_model_config"]


def public_model_config(config: ModelConfig) -> dict[str, Any]:
    """The model config as recorded: env var *names* are kept, key files are reduced to a
    fingerprint of their path, header values are redacted (they often carry tokens)."""
    data = config.model_dump(mode="json")
    data["model"] = public_spec(config.model)
    if config.base_url:
        data["base_url"] = public_url(config.base_url)
    if data.get("api_key_file"):
        data["api_key_file"] = "<file:" + hashlib.sha256(str(data["api_key_file"]).encode()).hexdigest()[:8] + ">"
    data["headers"] = {k: "<redacted>" for k in data.get("headers", {})}
    return data


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class RunSpec:
    """What a run measures. Every field is an immutable value (model configs as canonical
    JSON), so a spec hashes, pickles and compares by value.

    ``model`` and the ``roles`` values are ``ModelConfig`` JSON (credentials by reference
    only: env var names, key file paths; header values are kept because a worker needs them
    to call the model, and are left out of :attr:`digest`)."""

    model: str
    tasks: tuple[str, ...]
    suite: str | None = None
    limit: int | None = None
    seed: int = 0
    reference: bool = False
    #: the packaged sample the run reads (``dataset_override``), ``None``: the release
    dataset_override: str | None = None
    judges: tuple[tuple[str, str], ...] = ()
    #: ``--judge KIND=NAME,opt=value`` options, canonical JSON
    judge_options: str = "{}"
    judge_model: str | None = None
    roles: tuple[tuple[str, str], ...] = ()
    #: ``--task-data TASK=FILE``: task id -> the user's record file
    task_data: tuple[tuple[str, str], ...] = ()
    #: ``--task-param TASK:NAME=VALUE``: task id -> its parameters set to other than their
    #: default, both sorted by name (the pipeline drops values equal to the default first)
    task_params: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @classmethod
    def from_config(cls, config: Any) -> RunSpec:
        """From a ``RunConfig`` (duck-typed: :mod:`trustgauge.pipeline.run`, which defines it,
        imports this module)."""
        return cls(
            model=_canonical(config.model.model_dump(mode="json")),
            tasks=tuple(config.tasks),
            suite=config.suite,
            limit=config.limit,
            seed=config.seed,
            reference=config.reference,
            dataset_override=None if config.dataset_override is None else str(config.dataset_override),
            judges=tuple(sorted(config.judges.items())),
            judge_options=_canonical(config.judge_options),
            judge_model=config.judge_model,
            roles=tuple((name, _canonical(mc.model_dump(mode="json"))) for name, mc in config.roles.items()),
            task_data=tuple(sorted((task, str(path)) for task, path in getattr(config, "task_data", {}).items())),
            task_params=tuple(
                (task, tuple(sorted((str(name), str(value)) for name, value in values.items())))
                for task, values in sorted(getattr(config, "task_params", {}).items())
                if values
            ),
        )

    def model_config(self) -> ModelConfig:
        return ModelConfig.model_validate_json(self.model)

    def role_configs(self) -> dict[str, ModelConfig]:
        return {name: ModelConfig.model_validate_json(mc) for name, mc in self.roles}

    def params_of(self, task_id: str) -> dict[str, str]:
        """The parameters ``task_id`` runs with, other than its defaults (``{}``: none)."""
        return next((dict(values) for task, values in self.task_params if task == task_id), {})

    @property
    def digest(self) -> str:
        """SHA-256 of the spec with credentials reduced as in ``run.json``: equal digests, the
        same measurement. Machine-local settings (:class:`ExecutionSettings`) are not in it."""
        public = {
            "model": public_model_config(self.model_config()),
            "tasks": list(self.tasks),
            "suite": self.suite,
            "limit": self.limit,
            "seed": self.seed,
            "reference": self.reference,
            "dataset_override": None if self.dataset_override is None else Path(self.dataset_override).name,
            "judges": dict(self.judges),
            "judge_options": json.loads(self.judge_options),
            "judge_model": None if self.judge_model is None else public_spec(self.judge_model),
            "roles": {name: public_model_config(mc) for name, mc in self.role_configs().items()},
        }
        if self.task_data:  # absent from runs without it: their digests stay what they were
            public["task_data"] = {task: Path(path).name for task, path in self.task_data}
        if self.task_params:  # likewise: a run with every task at its defaults keeps its digest
            public["task_params"] = {task: dict(values) for task, values in self.task_params}
        return hashlib.sha256(_canonical(public).encode()).hexdigest()


@dataclass(frozen=True)
class ExecutionSettings:
    """How one machine executes units: not part of what is measured (not in the digest)."""

    store_path: Path
    concurrency: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    use_cache: bool = True
    data_dir: Path | None = None
    #: the most requests in flight the adaptive limit may grow to (a worker's share of one
    #: API budget when several run the model: the Ray executor); ``None``: the model's own cap
    concurrency_cap: int | None = None
    #: send the single-turn requests through the provider's batch API (``--batch``; docs/batch.md)
    batch: bool = False
    #: seconds before the first poll of a batch (``--batch-poll``; the wait then grows)
    batch_poll: float = 30.0
