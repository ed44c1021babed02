"""Many models in one command (``trustgauge run -m A -m B``, ``--models-file``,
:func:`trustgauge.api.evaluate_many`): every model runs the same tasks with the same options,
side by side in one asyncio loop, each through its own :func:`~trustgauge.pipeline.run.run_evaluation`
(its own engine, limiter and run directory ``OUT/<name>/``, the very directory ``trustgauge run -m
MODEL -o OUT/<name>`` writes: only the timestamps, the wall time and ``run.json``'s ``command``
differ). The caller writes the leaderboard over the run directories (the report layer is not
the pipeline's to import).

How the models share the machine:

- **API models overlap**: an API model's run is mostly waiting on its server, so every API
  (and ``scripted:``) model runs at once; each engine keeps its own adaptive concurrency, so one
  slow or rate-limited provider does not slow the others.
- **Local-weight models run one after another** (:data:`LOCAL_WEIGHT_BACKENDS`: ``hf:``,
  ``gguf:``, ``vllm:``): two of them would hold their weights in memory at once and fight for the
  same cores (or GPU), each going slower than alone. They take turns among themselves while the
  API models keep going beside them (``local_one_at_a_time=False`` lifts this, e.g. for an
  executor that places each model on its own machine). A run whose *role* or judge model has
  local weights (``--role attacker=gguf:smollm2``) takes turns too: each run loads its own.
- **The judges' weights load once, not once per model**: each run opens its judges
  (:func:`~trustgauge.pipeline.run.open_judges`), but what is costly in them, the ONNX Runtime
  session of each MiniLM graph and its embedding memo, is one per process
  (``judges._encoder.shared_encoder``, ``_graph_session``), so the second model's judges reuse the
  first's session (ONNX Runtime sessions may be run from several threads at once). A judgement
  depends on its item alone, so sharing changes no verdict.
- **The store is shared**: every run opens the same SQLite store (WAL, a busy timeout: several
  runs may write to it at once), so an interrupted command resumes every model from what it
  stored.

Failures stay with their model: every model is checked before anything is sent
(:func:`preflight`: its spec, backend package, API key, server URL, run directory); a model that
fails the check, or whose run raises (server unreachable, a judge that cannot go on), becomes a
:class:`ModelFailure` and the others go on. (A run that completes with failed requests is a
:class:`RunResult` like any other: its run directory counts them; the caller applies its limits.)
Anything wrong with what every model shares (tasks, suite, roles) raises before any model runs.
``KeyboardInterrupt``/cancellation stop every run (their engines close; what was stored stays).

The executor (``executor``) is passed unchanged to every model's run: ``None`` runs each locally
(:class:`~trustgauge.pipeline.local.LocalExecutor`), a Ray executor's factory runs each model's
units on the cluster.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trustgauge._secrets import redact
from trustgauge.config import ModelConfig, read_config_data
from trustgauge.engine.progress import Progress
from trustgauge.errors import ConfigError, TrustgaugeError, UsageError
from trustgauge.models._http import public_spec
from trustgauge.pipeline.executor import ExecutorFactory
from trustgauge.pipeline.run import RunConfig, RunResult, run_evaluation
from trustgauge.results.writer import Renderers

__all__ = [
    "LOCAL_WEIGHT_BACKENDS",
    "ModelEntry",
    "ModelFailure",
    "ModelOutcome",
    "default_models_dir",
    "model_entries",
    "preflight",
    "read_models_file",
    "run_models",
    "uses_local_weights",
]

log = logging.getLogger(__name__)

#: backends whose model runs on this machine's weights: one such model at a time
LOCAL_WEIGHT_BACKENDS = frozenset({"hf", "gguf", "vllm"})


@dataclass(frozen=True)
class ModelEntry:
    """One model of a many-model command: its run directory name (unique in the command) and
    its config."""

    name: str
    config: ModelConfig


@dataclass
class ModelFailure:
    """A model that produced no run directory (the others went on)."""

    #: its run directory name (``OUT/<name>``)
    name: str
    #: its spec, credentials removed
    model: str
    out_dir: Path
    #: ``"preflight"`` (nothing was sent for it) or ``"run"``
    stage: str
    #: one line, secrets redacted
    error: str

    def line(self) -> str:
        when = "before anything was sent" if self.stage == "preflight" else "while running"
        return f"{self.name} ({self.model}) failed {when}: {self.error}"


ModelOutcome = RunResult | ModelFailure


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "model"


def default_models_dir() -> Path:
    """``runs/models-TIMESTAMP``: where a many-model command writes without ``-o``."""
    return Path("runs") / f"models-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def model_entries(models: Sequence[tuple[str | None, ModelConfig]]) -> list[ModelEntry]:
    """Name each model's run directory: its given name, else its spec without the server URL
    (``openai-compatible:llama3@http://...`` -> ``openai-compatible-llama3``), made filesystem-safe;
    two models that would share a name get ``-2``, ``-3``... in the order given (a given name is
    kept as it is and others move aside).

    Raises:
        ConfigError: a given name is used twice.
    """
    given = [_slug(n) for n, _ in models if n]
    doubled = sorted({n for n in given if given.count(n) > 1})
    if doubled:
        raise ConfigError(f"model name {doubled[0]!r} is given to two models: each needs its own")
    taken = set(given)
    entries = []
    for name, config in models:
        if name:
            entries.append(ModelEntry(_slug(name), config))
            continue
        base = _slug(config.model.split("@", 1)[0])
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        entries.append(ModelEntry(slug, config))
    return entries


def read_models_file(path: Path) -> list[tuple[str | None, ModelConfig]]:
    """The models of a models file (YAML, TOML or JSON, by suffix as ``--model-config``): a list
    whose entries are a model spec (``openai:gpt-4o-mini``) or a model config mapping as
    ``--model-config`` reads it, optionally with a ``name`` (the run directory's name). The list
    may also be the value of a top-level ``models`` key (TOML has no top-level list:
    ``[[models]]`` tables)::

        - openai:gpt-4o-mini
        - name: llama-t0
          model: openai-compatible:llama3@http://127.0.0.1:8000/v1
          generation: {temperature: 0}

    Returns ``(name or None, config)`` per entry, in file order.

    Raises:
        ConfigError: one line naming the file and, for a bad entry, its number (from 1) and name.
    """
    data: Any = read_config_data(path)
    if isinstance(data, dict) and set(data) == {"models"}:
        data = data["models"]
    if not isinstance(data, list):
        raise ConfigError(
            f"models file {path}: expected a list of models (specs or model configs), or a 'models:' key "
            "holding one"
        )
    if not data:
        raise ConfigError(f"models file {path}: the list of models is empty")
    out: list[tuple[str | None, ModelConfig]] = []
    for i, item in enumerate(data, 1):
        where = f"models file {path}, entry {i}"
        if isinstance(item, str):
            if not item.strip():
                raise ConfigError(f"{where}: an empty model spec")
            out.append((None, _config(where, {"model": item.strip()})))
            continue
        if not isinstance(item, dict):
            raise ConfigError(
                f"{where}: expected a model spec or a model config mapping, got {type(item).__name__}"
            )
        fields = dict(item)
        name = fields.pop("name", None)
        if name is not None and (not isinstance(name, str) or not _slug(name).strip("-") or not name.strip()):
            raise ConfigError(f"{where}: name must be a non-empty string (a folder name), got {name!r}")
        if name is not None:
            where += f" ({name})"
        if not fields.get("model"):
            raise ConfigError(f"{where}: no 'model:' (a spec such as openai:gpt-4o-mini)")
        out.append((name, _config(where, fields)))
    return out


def _config(where: str, fields: dict[str, Any]) -> ModelConfig:
    try:
        return ModelConfig(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "entry"
        raise ConfigError(f"{where}: {loc}: {err['msg']}") from None


def uses_local_weights(config: RunConfig) -> bool:
    """The run loads weights on this machine (``hf:``, ``gguf:``, ``vllm:``): for its model, a
    role's or the llm judges' (``judge_model``)."""
    specs = [config.model.model, *(r.model for r in config.roles.values()), config.judge_model or ""]
    return any(spec.partition(":")[0] in LOCAL_WEIGHT_BACKENDS for spec in specs)


def _failure(config: RunConfig, stage: str, exc: BaseException) -> ModelFailure:
    assert config.out is not None
    text = str(exc) if isinstance(exc, TrustgaugeError) else f"{type(exc).__name__}: {exc}"
    line = " ".join(redact(text).split()) or type(exc).__name__
    return ModelFailure(config.out.name, public_spec(config.model.model), config.out, stage, line)


async def check_shared(config: RunConfig) -> None:
    """What every model's run shares, checked once: the tasks (suite, ``--tasks``,
    ``--task-param``, ``--task-data``), their aggregators, the roles (their URLs, backends and
    keys, as :func:`preflight` checks a model). Raises :class:`UsageError` (the whole command
    is wrong, not one model)."""
    from trustgauge.models.registry import load_model
    from trustgauge.pipeline.conversations import check_roles
    from trustgauge.pipeline.preflight import check_aggregators, check_model_urls
    from trustgauge.pipeline.run import select_tasks_and_config
    from trustgauge.tasks.oracle import oracle_table

    for role_config in config.roles.values():
        check_model_urls(role_config)
    tasks, config = select_tasks_and_config(config)
    check_roles(config.roles, tasks)
    check_aggregators(tasks)
    for role_config in config.roles.values():
        await load_model(role_config, oracle=oracle_table).aclose()


async def preflight(config: RunConfig) -> None:
    """Check one model before anything is sent for any model: its run directory can be
    written, its server URL parses, its backend exists with its package installed, its API key
    is set, a ``--watermark`` is one its backend can make. The backend is created and closed
    again: no request is made and no weights are loaded (backends load them on first use).
    Raises :class:`UsageError`."""
    from trustgauge.models.registry import load_model
    from trustgauge.pipeline.local import refuse_watermark
    from trustgauge.pipeline.preflight import check_model_urls, check_run_locations
    from trustgauge.tasks.oracle import oracle_table

    check_run_locations(config.out, config.store_path)
    check_model_urls(config.model)
    model = load_model(config.model, oracle=oracle_table)
    try:
        refuse_watermark(model, config.model)
    finally:
        await model.aclose()


async def run_models(
    configs: Sequence[RunConfig],
    *,
    renderers: Renderers,
    progress_factory: Callable[[str], Progress] | None = None,
    command: Sequence[str] = (),
    executor: ExecutorFactory | None = None,
    shards: int = 1,
    local_one_at_a_time: bool = True,
    on_outcome: Callable[[ModelOutcome], None] | None = None,
) -> list[ModelOutcome]:
    """Run every config (one per model, each with its own ``out``: ``OUT/<name>``) side by
    side; returns, in the order given, each model's :class:`RunResult` or :class:`ModelFailure`.

    Args:
        configs: the runs; they differ only in ``model`` and ``out`` (the shared part is checked
            once, on the first: :func:`check_shared`).
        renderers: ``report.md``/``report.html`` of each run directory.
        progress_factory: the progress of the run named so (its ``out`` folder's name), e.g. an
            :class:`~trustgauge.engine.progress.ProgressGroup`; default silent.
        command: ``run.json``'s ``command`` of every run.
        executor: passed unchanged to every :func:`run_evaluation` (``None``: local).
        shards: units per task, as :func:`run_evaluation`'s.
        local_one_at_a_time: models of :data:`LOCAL_WEIGHT_BACKENDS` take turns (API models
            still overlap them).
        on_outcome: called as each model fails its preflight, finishes or fails (e.g. to print
            one line at once).

    Raises:
        UsageError: no config, a config without ``out``, two with one ``out``, or what every
            model shares is wrong (:func:`check_shared`); nothing is sent then.
        KeyboardInterrupt, asyncio.CancelledError: every run is stopped; what was stored stays.
    """
    if not configs:
        raise UsageError("no model to run")
    outs = [c.out for c in configs]
    if any(o is None for o in outs):
        raise UsageError("every model's run needs its own run directory (out)")
    if len({Path(str(o)).resolve() for o in outs}) != len(outs):
        raise UsageError("two models would write the same run directory: give each its own name")
    await check_shared(configs[0])
    report = on_outcome or (lambda outcome: None)
    make_progress = progress_factory or (lambda name: Progress())

    outcomes: dict[int, ModelOutcome] = {}
    for i, config in enumerate(configs):  # every model, before anything is sent for any
        try:
            await preflight(config)
        except UsageError as exc:
            outcomes[i] = _failure(config, "preflight", exc)
            report(outcomes[i])

    turn = asyncio.Lock()

    async def one(i: int, config: RunConfig) -> None:
        assert config.out is not None
        try:
            if local_one_at_a_time and uses_local_weights(config):
                async with turn:
                    result = await _run(config)
            else:
                result = await _run(config)
        except (KeyboardInterrupt, asyncio.CancelledError):
            raise
        except TrustgaugeError as exc:
            outcomes[i] = _failure(config, "run", exc)
        except Exception as exc:  # a bug in one backend must not cost the other models' runs
            log.exception("the run of %s failed", config.out.name)
            outcomes[i] = _failure(config, "run", exc)
        else:
            outcomes[i] = result
        report(outcomes[i])

    async def _run(config: RunConfig) -> RunResult:
        assert config.out is not None
        return await run_evaluation(
            config, renderers=renderers, progress=make_progress(config.out.name), command=command,
            shards=shards, executor=executor,
        )

    runs = [asyncio.ensure_future(one(i, c)) for i, c in enumerate(configs) if i not in outcomes]
    try:
        await asyncio.gather(*runs)
    finally:
        for task in runs:  # an interrupt: stop every run, and let each close its engine and store
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
    return [outcomes[i] for i in range(len(configs))]
