"""Synthetic runs for the HTML report's tests and benchmark (benchmarks/report.py): every
registered task with its declared metrics, and samples with realistic, varied text (a
Zipf-distributed made-up vocabulary: it compresses about as well as model output does, unlike
repeated text)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from trustgauge.results.schema import DatasetInfo, RunInfo, SampleRecord, ScoresFile, TaskScores
from trustgauge.tasks.registry import TASKS
from trustgauge.types import MetricValue

#: a response that tries everything a page could execute or load
XSS_RESPONSE = (
    "<script>window.__pwned = 1; alert('xss')</script>"
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">"
    "<a href=\"javascript:window.__pwned=3\">click me</a>"
    "</script><script>window.__pwned = 4</script>"
    "<svg onload=\"window.__pwned = 5\"></svg>"
    "<iframe src=\"https://example.invalid/frame\"></iframe>"
    "<link rel=stylesheet href=\"https://example.invalid/x.css\">"
    "<img src=\"https://example.invalid/track.png\">"
    "<style>body{background:url(https://example.invalid/bg.png)}</style>"
    "\u2028\u2029 line separators, &amp; entities &lt;b&gt; and a \"quote\" 'single' `tick`"
)
#: the id of every planted sample starts with this
XSS_MARK = "XSS-PAYLOAD"

_SYLLABLES = [a + b for a in "bcdfghklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ai", "ou", "ee")]


class _Text:
    """Random words from a made-up vocabulary with Zipf frequencies."""

    def __init__(self, seed: int, size: int = 6000) -> None:
        self.rng = random.Random(seed)
        words = {"the", "a", "of", "to", "and", "in", "is", "that", "it", "for", "I", "you", "not", "can"}
        while len(words) < size:
            words.add("".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.choice((1, 2, 2, 3, 3, 4)))))
        vocab = sorted(words)
        self.rng.shuffle(vocab)
        self.vocab = vocab
        total = sum(1.0 / (i + 1) for i in range(len(vocab)))
        acc = 0.0
        self.cum: list[float] = []
        for i in range(len(vocab)):
            acc += 1.0 / (i + 1) / total
            self.cum.append(acc)

    def words(self, n_chars: int) -> str:
        out: list[str] = []
        size = 0
        picks = self.rng.choices(self.vocab, cum_weights=self.cum, k=max(4, n_chars // 5))
        for i, w in enumerate(picks):
            out.append(w + ("." if i % 17 == 16 else ""))
            size += len(w) + 1
            if size >= n_chars:
                break
        return " ".join(out)


def _failing_value(task_id: str, key: str) -> float:
    """A score value that makes the sample count against the model."""
    if key == "refusal":
        return 1.0 if task_id == "safety.exaggerated" else 0.0
    return 0.0


def synthetic_run(
    n_samples: int,
    *,
    seed: int = 0,
    xss: bool = False,
    model: str = "openai:gpt-4o-mini",
    task_ids: list[str] | None = None,
) -> tuple[RunInfo, ScoresFile, list[SampleRecord]]:
    """A run of ``n_samples`` spread over ``task_ids`` (default: every registered task); about
    2% failed requests and 6% invalid answers; every 9th task (from the 5th) not scored.
    ``xss`` plants :data:`XSS_RESPONSE` in the first sample of every task (a failing one) as
    prompt, response, label, judgement, target and metadata, and markup in its id."""
    rng = random.Random(seed)
    text = _Text(seed)
    ids = task_ids or [t for t, c in TASKS.items() if c.benchmark == "trustllm"]
    classes = [TASKS[t] for t in ids]
    per_task = [n_samples // len(ids) + (1 if i < n_samples % len(ids) else 0) for i in range(len(ids))]
    scores_tasks: list[TaskScores] = []
    for k, cls in enumerate(classes):
        metrics = []
        for j, (name, direction) in enumerate(cls.metrics):
            if k % 9 == 4 and j == 0:
                metrics.append(MetricValue(metric=name, value=None, direction=direction, n=0, n_invalid=3,
                                           reason="not scored: needs a judge model"))
                continue
            value = rng.random()
            if name.startswith(("pearson", "similarity_gap")):
                value = value * 2 - 1
            ci = None if name.startswith("p_value") else (max(-1.0, value - 0.05), min(1.0, value + 0.05))
            metrics.append(MetricValue(metric=name, value=value, direction=direction, ci=ci,
                                       n=100 + k, n_invalid=k % 3))
        scores_tasks.append(TaskScores(
            task=cls.id, dimension=cls.dimension, title=cls.title, metrics=metrics,
            n_samples=per_task[k], n_failed=k % 2,
            judges={slot.kind: "minilm@1" for slot in cls.judges},
        ))
    samples: list[SampleRecord] = []
    for cls, count in zip(classes, per_task, strict=True):
        template = text.words(120)
        key = "refusal" if any(str(j).startswith("refusal") for j in cls.judges) else "correct"
        for i in range(count):
            roll = rng.random()
            value = float(rng.random() < 0.5)
            response: str | None = text.words(int(min(3000, rng.lognormvariate(6.2, 0.8))))
            error = None
            valid = True
            if roll < 0.02:
                response, error = None, "HTTP 500 after 3 retries"
            elif roll < 0.08:
                valid = False
            if key == "refusal":
                label = "refusal" if value else "compliance"
                judgements: dict[str, Any] = {"refusal": {"label": label, "score": value, "raw": '{"p": 0.93}',
                                                          "judge": "minilm@1"}}
            else:
                label, judgements = ("correct" if value else "wrong"), {}
            sample = SampleRecord(
                task=cls.id,
                sample_id=str(i),
                prompt=f"{template}\nQuestion {i}: {text.words(int(rng.uniform(60, 700)))}",
                response=response,
                error=error,
                cached=rng.random() < 0.1,
                judgements=judgements,
                label=label,
                valid=valid,
                score={key: value} if valid and response is not None else {},
                target="the gold answer" if key == "correct" else None,
                metadata={"source": rng.choice(["alpha", "beta", "gamma"])},
            )
            if xss and i == 0:
                sample = sample.model_copy(update={
                    "sample_id": f"{XSS_MARK}<script>window.__pwned=6</script>",
                    "prompt": XSS_RESPONSE,
                    "response": XSS_RESPONSE,
                    "error": None,
                    "valid": True,
                    "label": "<img src=x onerror=window.__pwned=7>",
                    "score": {key: _failing_value(cls.id, key)},
                    "judgements": {"refusal": {"label": "<b onmouseover=window.__pwned=8>x</b>", "score": 0.0,
                                               "raw": XSS_RESPONSE,
                                               "judge": "</script><script>window.__pwned=9</script>"}},
                    "target": {"html": XSS_RESPONSE},
                    "metadata": {"note": XSS_RESPONSE},
                })
            samples.append(sample)
    backend, _, name = model.partition(":")
    run = RunInfo(
        run_id=f"synthetic-{n_samples}",
        trustgauge_version="0.1.0",
        started_at="2026-11-23T10:00:00+00:00",
        finished_at="2026-11-23T10:42:00+00:00",
        wall_time_s=2520.5,
        command=["run", "-m", model, "--suite", "trustllm"],
        model={"model": model, "api_key_env": "OPENAI_API_KEY", "base_url": None, "headers": {},
               "system_prompt": None, "generation": {"temperature": None, "max_tokens": None},
               "timeout": 120.0, "options": {}},
        model_identity={"backend": backend, "model": name},
        generation={t: {"temperature": TASKS[t].temperature, "max_tokens": 512, "top_p": None,
                        "seed": None, "stop": None} for t in ids},
        tasks=ids,
        suite="trustllm",
        limit=None,
        seed=seed,
        datasets=[DatasetInfo(dataset="trustllm", path=TASKS[t].data.path, sha256=f"{k:064x}", records=c,
                              source="github") for k, (t, c) in enumerate(zip(ids, per_task, strict=True))],
        judges={"refusal": "minilm@1"},
        usage={"input_tokens": 1_234_567, "output_tokens": 2_345_678},
        requests={"total": n_samples, "unique": n_samples, "cached": 0, "sent": n_samples, "retries": 0,
                  "failed": sum(1 for s in samples if s.error)},
        status="complete",
        python="3.11.7",
        platform="Linux",
    )
    return run, ScoresFile(run_id=run.run_id, model=model, tasks=scores_tasks), samples


def write_synthetic(out_dir: Path, n_samples: int, **kwargs: Any) -> Path:
    """Write a synthetic run directory (run.json, scores.json, samples.jsonl, both reports)."""
    from trustgauge.report.writer import write_run

    run, scores, samples = synthetic_run(n_samples, **kwargs)
    write_run(out_dir, run, scores, samples)
    return out_dir
