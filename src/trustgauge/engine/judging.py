"""The cached judging loop: judge items through the store, batch by batch, and every judge slot
of every task in a run, stage by stage.

It sits in the engine (docs/architecture.md §2.1) next to the request cache it mirrors: it
knows judges only through the :class:`~trustgauge.types.Judge` protocol and tasks only through
:class:`JudgedTask` (the hooks the loop calls), so it imports no judge or task module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from trustgauge.engine.progress import Progress
from trustgauge.engine.runner import Outcome
from trustgauge.engine.store import Store, redact_judgement
from trustgauge.errors import JudgeError, ModelError, TrustgaugeError
from trustgauge.types import Judge, JudgeItem, Judgement, JudgeSlot, Sample

__all__ = [
    "ERROR_LABEL",
    "JUDGE_BATCH",
    "JudgeFailedError",
    "JudgeStats",
    "JudgeWork",
    "JudgedTask",
    "check_judges",
    "judge_all",
    "judge_items",
]


class JudgedTask(Protocol):
    """What the loop asks of a task (:class:`trustgauge.tasks.base.Task` has all of it)."""

    @property
    def id(self) -> str: ...

    @property
    def judges(self) -> Sequence[JudgeSlot]: ...

    def wants_judgement(
        self, slot: JudgeSlot, sample: Sample, earlier: Mapping[str, Judgement], response: str | None = None
    ) -> bool: ...

    def peer(self, slot: JudgeSlot, sample: Sample) -> str | None: ...

    def judge_item(
        self, slot: JudgeSlot, sample: Sample, response: str, peer_response: str | None = None
    ) -> JudgeItem: ...


class JudgeWork(Protocol):
    """A task and its samples, in the order of their outcomes."""

    @property
    def task(self) -> JudgedTask: ...

    @property
    def samples(self) -> Sequence[Sample]: ...


#: the label of a judgement whose judge call failed for that item (never cached)
ERROR_LABEL = "error"
#: items per ``Judge.judge`` call
JUDGE_BATCH = 256


class JudgeFailedError(TrustgaugeError):
    """A judge failed (its model or API kept failing, or failed on every item of a batch).

    Everything judged before is in the store; running again judges only the rest."""


@dataclass
class JudgeStats:
    """What :func:`judge_items` did."""

    unique: int = 0
    cached: int = 0
    judged: int = 0
    errors: int = 0


async def judge_items(
    judge: Judge,
    items: Sequence[JudgeItem],
    store: Store | None,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    batch_size: int = JUDGE_BATCH,
    description: str | None = None,
    ready: Mapping[str, Judgement] | None = None,
) -> tuple[list[Judgement], JudgeStats]:
    """Judge ``items`` (in order) with ``judge``, through the store.

    Identical items are judged once. Judgements are looked up in the store under
    ``item.cache_key(judge.cache_id)`` (unless ``use_cache`` is false) and every fresh one is stored,
    a batch at a time, except those labelled ``error`` (a later run judges them again).

    ``ready`` holds judgements this run already made with this judge, by key (the first
    batches of this very call, judged while the responses were arriving: see
    :mod:`trustgauge.engine.early_judging`): they count and are shown as judged, not cached, and
    are not judged again; the rest is judged in the batches it would have been in.

    Raises:
        JudgeFailedError: the judge raised a model error, or (llm judge) failed on every item
            of a batch; the batches judged before are stored.
    """
    progress = progress or Progress()
    ready = ready or {}
    keys = [item.cache_key(judge.cache_id) for item in items]
    uniq: dict[str, JudgeItem] = dict(zip(keys, items))
    cached = store.get_judgements(list(uniq)) if (store is not None and use_cache) else {}
    # error judgements stored by older versions are judged again too
    cached = {k: v for k, v in cached.items() if v.label != ERROR_LABEL and k not in ready}
    done = [k for k in uniq if k in ready]
    todo = [k for k in uniq if k not in cached and k not in ready]
    stats = JudgeStats(unique=len(uniq), cached=len(cached), judged=len(done))
    progress.start(description or f"judging ({judge.kind}: {judge.id})", total=len(uniq), cached=len(cached))
    if todo:
        prepare_judge(judge, len(todo))
    fresh: dict[str, Judgement] = {k: ready[k] for k in done}
    for k in done:
        if ready[k].label == ERROR_LABEL:
            progress.error()
        else:
            progress.advance()
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        try:
            verdicts = await judge.judge([uniq[k] for k in chunk])
        except (ModelError, JudgeError) as exc:
            raise JudgeFailedError(f"the {judge.kind} judge {judge.id} failed: {exc}") from exc
        if len(verdicts) != len(chunk):
            raise JudgeFailedError(
                f"the {judge.kind} judge {judge.id} returned {len(verdicts)} judgements for {len(chunk)} items"
            )
        verdicts = [redact_judgement(v) for v in verdicts]  # a judge model may echo its key
        fresh.update(zip(chunk, verdicts))
        if store is not None:
            store.put_judgements((k, v) for k, v in zip(chunk, verdicts) if v.label != ERROR_LABEL)
        stats.judged += len(chunk)
        for v in verdicts:
            if v.label == ERROR_LABEL:
                progress.error()
            else:
                progress.advance()
    progress.finish()
    out = [cached.get(key) or fresh[key] for key in keys]
    stats.errors = sum(1 for j in out if j.label == ERROR_LABEL)
    return out, stats


async def check_judges(judges: Iterable[Judge]) -> None:
    """Fail fast (ConfigError) on judges that can check themselves (``check``), e.g. an llm
    judge whose model is unreachable, before any model is asked anything."""
    for judge in judges:
        check = getattr(judge, "check", None)
        if check is not None:
            await check()


def prepare_judge(judge: Judge, expected: int) -> None:
    """Tell a judge that can use it (``prepare``) that about ``expected`` items are coming, so
    it can start what pays only for large jobs (the refusal cascade's helper process). A hint:
    verdicts do not depend on it."""
    prepare = getattr(judge, "prepare", None)
    if prepare is not None:
        prepare(expected)


async def judge_all(
    work: Sequence[JudgeWork],
    outcomes: dict[str, list[Outcome]],
    judges: Mapping[str, Judge],
    store: Store | None,
    use_cache: bool,
    progress: Progress,
    ready: Mapping[str, Mapping[str, Judgement]] | None = None,
) -> dict[tuple[str, str, str], Judgement]:
    """Judge every answered sample in each judge slot its task lists (``judges`` has the judge
    of each kind that can run; slots of other kinds are skipped); cached in the store
    (judgements labelled ``error`` are not stored, so a rerun judges them again). The verdicts
    are keyed by ``(task id, sample id, str(slot))``, the key :meth:`Task.score` and
    ``samples.jsonl`` use. ``ready`` (judge kind -> cache key -> judgement) holds the first
    stage's judgements made while generating (:class:`~trustgauge.engine.early_judging.EarlyJudging`)."""
    # Slots run in the order each task lists them, stage by stage, so a task can skip a later
    # judgement given earlier ones (toxicity is only asked of responses that complied).
    results: dict[tuple[str, str, str], Judgement] = {}
    stages = max((len(w.task.judges) for w in work), default=0)
    for stage in range(stages):
        wanted: dict[str, list[tuple[tuple[str, str, str], JudgeItem]]] = defaultdict(list)
        for w in work:
            if stage >= len(w.task.judges):
                continue
            slot = JudgeSlot.parse(w.task.judges[stage])  # a duck-typed task may still give "kind#role"
            kind = slot.kind
            if kind not in judges:
                continue
            texts = {
                s.id: o.response.text
                for s, o in zip(w.samples, outcomes[w.task.id])
                if o.response is not None
            }
            for sample in w.samples:
                response = texts.get(sample.id)
                if response is None:
                    continue
                earlier = {
                    str(k): results[(w.task.id, sample.id, str(k))]
                    for k in w.task.judges[:stage]
                    if (w.task.id, sample.id, str(k)) in results
                }
                if not w.task.wants_judgement(slot, sample, earlier, response):
                    continue
                peer_id = w.task.peer(slot, sample)
                peer_response = None if peer_id is None else texts.get(peer_id)
                if peer_id is not None and peer_response is None:
                    continue
                item = w.task.judge_item(slot, sample, response, peer_response)
                wanted[kind].append(((w.task.id, sample.id, str(slot)), item))
        for kind, entries in wanted.items():
            verdicts, _ = await judge_items(
                judges[kind], [item for _, item in entries], store, use_cache=use_cache, progress=progress,
                ready=(ready or {}).get(kind) if stage == 0 else None,
            )
            for (ident, _), verdict in zip(entries, verdicts):
                results[ident] = verdict
    return results
