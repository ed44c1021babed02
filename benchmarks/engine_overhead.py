#!/usr/bin/env python
"""How much does trustgauge's engine cost on top of the bare OpenAI SDK?

Runs, side by side in one process and against one local fake OpenAI-compatible server (its own
process, so the client's CPU time is the client's alone):

1. wall time of 2,000 requests at 500 ms latency, concurrency 64, through ``Engine`` +
   ``OpenAICompatModel`` with a real ``Store`` (fresh cache), divided by the ideal
   ``requests x latency / concurrency`` (target <= 1.10);
2. CPU time per request at 50 ms latency: the engine next to the bare ``AsyncOpenAI`` client
   with ``asyncio.Semaphore(64)`` + ``gather`` (target ours/bare <= 1.2);
3. the way TrustLLM's generation code sends API requests (groups of 8 requests on 8 threads with
   the synchronous client, waiting for the whole group before the next), per-request wall time;
4. Inspect AI (if installed) against the same server, through its ``openai-api`` provider;
5. memory of ``Engine.run`` over 100k responses served entirely from the cache, in a
   subprocess (peak RSS increase and tracemalloc peak), and the cache-read throughput.

Only ratios are meant to be compared across machines: absolute times are noisy.

    python benchmarks/engine_overhead.py            # default run, a few minutes on 2 cores
    python benchmarks/engine_overhead.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_description

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "fake-model"
API_KEY = "bench-key"
CONCURRENCY = 64
TRUSTLLM_GROUP = 8

# ~400 characters appended to every reply, so that responses are a realistic ~500 characters.
FILLER = (
    "I cannot verify every detail, but here is a careful answer. The claim mixes two separate "
    "questions: what the evidence says and how reliable that evidence is. Most sources agree on "
    "the first point, while the second depends on sample size, on how the data was collected and "
    "on whether the result was replicated. Weighing both, the most accurate reply is a qualified "
    "one, and I would recommend checking a primary source before relying on it."
)
REPLY = "Answer to: {prompt} " + FILLER



def _value_types(*names: str) -> list[Any]:
    """The value types from ``trustgauge.types`` (their home since issue 13), or from
    ``trustgauge.models.base`` in trees older than it: ``engine_overhead_ab.py`` runs this file
    against an old tree too."""
    import importlib

    try:
        module = importlib.import_module("trustgauge.types")
    except ModuleNotFoundError:
        module = importlib.import_module("trustgauge.models.base")
    return [getattr(module, name) for name in names]

def prompt_text(i: int, tag: str) -> str:
    """A distinct ~120-character prompt (distinct per phase, so no run hits another's cache)."""
    return (
        f"[{tag}] Question {i}: please verify the following claim and answer in a few words. "
        f"Claim #{i * 7919 % 100003} is supported by the evidence."
    )


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured run of ``n`` requests."""

    name: str
    n: int
    wall: float
    cpu: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wall_per_request(self) -> float:
        return self.wall / self.n

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / self.n


def cpu_now() -> float:
    """CPU time (user + system) of this process, all threads; the server is another process."""
    return time.process_time()


async def measured(name: str, n: int, body: Callable[[], Awaitable[dict[str, Any] | None]]) -> Run:
    gc.collect()
    c0, t0 = cpu_now(), time.perf_counter()
    extra = await body()
    wall, cpu = time.perf_counter() - t0, cpu_now() - c0
    return Run(name, n, wall, cpu, extra or {})


async def run_engine(base_url: str, prompts: Sequence[str], store_dir: Path | None) -> Run:
    """Engine + OpenAICompatModel, fixed concurrency, a fresh Store (or none)."""
    from trustgauge.config import ModelConfig
    from trustgauge.engine.runner import Engine, RetryPolicy
    from trustgauge.engine.store import Store
    from trustgauge.models.openai_compat import OpenAICompatModel
    GenerationParams, Request = _value_types("GenerationParams", "Request")

    params = GenerationParams(temperature=0.0, max_tokens=512)
    requests = [Request.user(p, params) for p in prompts]  # the task's work, not the engine's
    config = ModelConfig(model=f"openai-compatible:{MODEL_NAME}@{base_url}", timeout=120.0)
    if store_dir is not None and store_dir.exists():
        shutil.rmtree(store_dir)  # a fresh cache every run

    async def body() -> dict[str, Any]:
        model = OpenAICompatModel(MODEL_NAME, base_url, API_KEY, config)
        store = Store(store_dir / "store.db") if store_dir is not None else None
        try:
            engine = Engine(model, store, concurrency=CONCURRENCY, retry=RetryPolicy(timeout=120.0))
            outcomes = await engine.run(requests)
        finally:
            await model.aclose()
            if store is not None:
                stored = store.count_responses()
                store.close()
        bad = [o for o in outcomes if not o.ok]
        if bad:
            raise RuntimeError(f"engine: {len(bad)} requests failed, e.g. {bad[0].error}")
        info: dict[str, Any] = {
            "max_in_flight": engine.stats.max_in_flight,
            "retries": engine.stats.retries,
        }
        if store is not None:
            if stored != len(prompts):
                raise RuntimeError(
                    f"engine: {stored} responses in the store, expected {len(prompts)}"
                )
            info["stored"] = stored
        return info

    label = "trustgauge Engine" + (" + Store" if store_dir is not None else " (no store)")
    return await measured(label, len(prompts), body)


async def run_bare(base_url: str, prompts: Sequence[str]) -> Run:
    """The official AsyncOpenAI client, asyncio.Semaphore(64) + gather, nothing else."""
    import openai

    async def body() -> dict[str, Any]:
        client = openai.AsyncOpenAI(
            api_key=API_KEY, base_url=base_url, max_retries=0, timeout=120.0
        )
        sem = asyncio.Semaphore(CONCURRENCY)

        async def one(prompt: str) -> str:
            async with sem:
                completion = await client.chat.completions.create(
                    model=MODEL_NAME,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.0,
                    max_tokens=512,
                )
            return completion.choices[0].message.content or ""

        try:
            texts = await asyncio.gather(*(one(p) for p in prompts))
        finally:
            await client.close()
        assert all(texts)
        return {}

    return await measured("bare AsyncOpenAI + Semaphore", len(prompts), body)


def run_trustllm(base_url: str, prompts: Sequence[str]) -> Run:
    """TrustLLM's online-model generation: groups of 8 prompts, each group on 8 threads with the
    synchronous client, waiting for the whole group before starting the next.

    This is a generous version of it: one shared client and one reused pool (TrustLLM starts a
    thread per prompt and rewrites the whole result file after every group)."""
    import openai

    gc.collect()
    c0, t0 = cpu_now(), time.perf_counter()
    client = openai.OpenAI(api_key=API_KEY, base_url=base_url, max_retries=0, timeout=120.0)

    def one(prompt: str) -> str:
        completion = client.chat.completions.create(
            model=MODEL_NAME,
            messages=[{"role": "user", "content": prompt}],
            temperature=0.0,
            max_tokens=512,
        )
        return completion.choices[0].message.content or ""

    texts: list[str] = []
    with ThreadPoolExecutor(max_workers=TRUSTLLM_GROUP) as pool:
        for start in range(0, len(prompts), TRUSTLLM_GROUP):
            texts.extend(pool.map(one, prompts[start : start + TRUSTLLM_GROUP]))
    client.close()
    wall, cpu = time.perf_counter() - t0, cpu_now() - c0
    assert len(texts) == len(prompts) and all(texts)
    return Run("TrustLLM-style (groups of 8 threads)", len(prompts), wall, cpu)


def inspect_available() -> str | None:
    """None if Inspect AI can be used, else why not."""
    try:
        import inspect_ai  # noqa: F401
        from inspect_ai.model import get_model  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        return f"inspect-ai is not importable ({type(exc).__name__}: {exc}); `pip install inspect-ai` to include it"
    return None


async def run_inspect_model(base_url: str, prompts: Sequence[str]) -> Run:
    """Inspect AI's model layer: ``get_model("openai-api/<service>/<model>").generate`` for every
    prompt, gathered; Inspect bounds the requests in flight with ``max_connections``."""
    from inspect_ai.model import GenerateConfig, get_model

    async def body() -> dict[str, Any]:
        model = get_model(
            f"openai-api/fake/{MODEL_NAME}",
            base_url=base_url,
            api_key=API_KEY,
            memoize=False,
            config=GenerateConfig(
                max_connections=CONCURRENCY, temperature=0.0, max_tokens=512, timeout=120
            ),
        )
        outputs = await asyncio.gather(*(model.generate(p) for p in prompts))
        bad = [o for o in outputs if not o.completion]
        if bad:
            raise RuntimeError(f"inspect: {len(bad)} empty completions, e.g. {bad[0]}")
        return {}

    return await measured("Inspect AI get_model().generate", len(prompts), body)


def run_inspect_eval(base_url: str, prompts: Sequence[str], log_dir: Path) -> Run:
    """Inspect AI's full ``eval()``: a Task with one Sample per prompt and the ``generate()``
    solver, no scorer, display off, logs to a temp dir (its default: logging on)."""
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate

    task = Task(dataset=[Sample(input=p, id=i) for i, p in enumerate(prompts)], solver=generate())
    gc.collect()
    c0, t0 = cpu_now(), time.perf_counter()
    logs = eval(
        task,
        model=f"openai-api/fake/{MODEL_NAME}",
        model_base_url=base_url,
        model_args={"api_key": API_KEY},
        max_connections=CONCURRENCY,
        max_samples=CONCURRENCY,
        temperature=0.0,
        max_tokens=512,
        display="none",
        log_dir=str(log_dir),
        score=False,
    )
    wall, cpu = time.perf_counter() - t0, cpu_now() - c0
    log = logs[0]
    if log.status != "success":
        raise RuntimeError(f"inspect eval: status {log.status}: {log.error}")
    return Run("Inspect AI eval()", len(prompts), wall, cpu)


# --------------------------------------------------------------------------------------------
# Memory of a run served from the cache (subprocess)
# --------------------------------------------------------------------------------------------


def memory_prompt(i: int) -> str:
    return f"Memory benchmark prompt {i}: " + FILLER[: 150 + i % 100]


def memory_reply(i: int) -> str:
    return f"Reply {i}. " + FILLER + " " + FILLER[: 60 + i % 80]  # ~500-560 characters


def build_memory_requests(n: int) -> list[Any]:
    GenerationParams, Request = _value_types("GenerationParams", "Request")

    params = GenerationParams(temperature=0.0, max_tokens=512)
    return [Request.user(memory_prompt(i), params) for i in range(n)]


class RaisingModel:
    """Stands in for a backend in the cache test: any call is a bug."""

    @staticmethod
    def make() -> Any:
        from trustgauge.models.base import Model

        class _Raising(Model):
            spec = "bench:cache-only"

            def identity(self) -> dict[str, str]:
                return {"backend": "bench", "model": "cache-only"}

            async def generate(self, requests: Any) -> Any:
                raise AssertionError("the model was called: the cache should answer everything")

        return _Raising()


def fill_store(db: Path, n: int) -> float:
    """Write ``n`` responses as Store rows (one transaction: filling is not what is measured)."""
    from trustgauge.engine.runner import Engine
    from trustgauge.engine.store import Store
    Response, Usage = _value_types("Response", "Usage")

    model = RaisingModel.make()
    requests = build_memory_requests(n)
    Store(db).close()  # creates the schema
    keys = Engine(model, None).keys(requests)
    identity = json.dumps(model.identity(), sort_keys=True)
    t0 = time.perf_counter()
    now = time.time()
    rows = (
        (
            key,
            identity,
            request.model_dump_json(),
            Response(
                text=memory_reply(i),
                finish_reason="stop",
                usage=Usage(input_tokens=40, output_tokens=90),
                model=MODEL_NAME,
            ).model_dump_json(),
            now,
        )
        for i, (key, request) in enumerate(zip(keys, requests))
    )
    con = sqlite3.connect(str(db))
    with con:
        con.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", rows)
    con.close()
    return time.perf_counter() - t0


def _proc_status(field_name: str) -> int | None:
    """A ``/proc/self/status`` memory field in bytes (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM so that it measures the peak from now on (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def memory_child(db: Path, n: int, mode: str) -> dict[str, Any]:
    """Run in a fresh interpreter: Engine.run over ``n`` cached requests."""
    import tracemalloc

    from trustgauge.engine.runner import Engine
    from trustgauge.engine.store import Store

    requests = build_memory_requests(n)  # the task's memory, not the engine's: before the baseline
    store = Store(db)
    engine = Engine(RaisingModel.make(), store)
    asyncio.run(asyncio.sleep(0))  # import/initialise asyncio before the baseline
    gc.collect()
    result: dict[str, Any] = {"mode": mode, "n": n}
    if mode == "tracemalloc":
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        t0 = time.perf_counter()
        outcomes = asyncio.run(engine.run(requests))
        result["seconds"] = time.perf_counter() - t0
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["py_peak"] = peak - base
        result["py_retained"] = current - base
    else:
        rss_before = _proc_status("VmRSS")
        exact_peak = rss_before is not None and _reset_peak_rss()
        maxrss_before = _maxrss_bytes()
        t0 = time.perf_counter()
        outcomes = asyncio.run(engine.run(requests))
        result["seconds"] = time.perf_counter() - t0
        if exact_peak:
            result["rss_peak_increase"] = (_proc_status("VmHWM") or 0) - (rss_before or 0)
            result["rss_retained"] = (_proc_status("VmRSS") or 0) - (rss_before or 0)
            result["how"] = "VmHWM reset via /proc/self/clear_refs"
        else:
            result["rss_peak_increase"] = _maxrss_bytes() - maxrss_before
            result["how"] = "ru_maxrss (a lower bound if an earlier peak was higher)"
    if not all(o.ok and o.cached for o in outcomes) or len(outcomes) != n:
        raise RuntimeError("not every request was answered from the cache")
    result["sent"] = engine.stats.sent
    store.close()
    return result


def run_memory(db: Path, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    out["fill_seconds"] = fill_store(db, n)
    for mode in ("rss", "tracemalloc"):
        proc = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--memory-child",
                str(db),
                str(n),
                mode,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"memory child ({mode}) failed:\n{proc.stderr[-3000:]}")
        out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    n: int  # requests for the engine / bare / Inspect runs
    trustllm_slow: int  # TrustLLM-style requests at 500 ms (sequential groups: slow)
    trustllm_fast: int  # TrustLLM-style requests at 50 ms
    cpu_repeats: (
        int  # repeats of engine vs bare at 50 ms (alternating order; best and median shown)
    )
    wall_repeats: int  # repeats of engine vs bare at 500 ms (best shown)
    memory_n: int
    slow_latency: float = 0.5
    fast_latency: float = 0.05

    @classmethod
    def default(cls) -> Plan:
        return cls(
            n=2000,
            trustllm_slow=160,
            trustllm_fast=800,
            cpu_repeats=3,
            wall_repeats=2,
            memory_n=100_000,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            n=256,
            trustllm_slow=32,
            trustllm_fast=96,
            cpu_repeats=1,
            wall_repeats=1,
            memory_n=10_000,
        )


def log(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 100 else f"{x:.0f}x"


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by another process (Linux), else None."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests: a smoke run")
    parser.add_argument("--no-inspect", action="store_true", help="skip the Inspect AI rows")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the 100k cached-responses test"
    )
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument(
        "--memory-child", nargs=3, metavar=("DB", "N", "MODE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.memory_child:
        db, n, mode = args.memory_child
        print(json.dumps(memory_child(Path(db), int(n), mode)))
        return 0

    plan = Plan.quick() if args.quick else Plan.default()
    sys.path.insert(0, str(REPO / "tests"))
    from fake_server import FakeServer

    started = time.perf_counter()
    load_before = loadavg()
    inspect_skip = "skipped (--no-inspect)" if args.no_inspect else inspect_available()
    tmp = Path(tempfile.mkdtemp(prefix="trustgauge-bench-"))
    srv = FakeServer.start(latency=plan.fast_latency, models=[MODEL_NAME], default_reply=REPLY)
    fast: dict[str, list[Run]] = {}
    slow: dict[str, list[Run]] = {}
    try:
        base_url = srv.openai_base_url

        def measure(label: str, fn: Callable[[], Run]) -> Run:
            """Run one measurement; check the server never saw more than CONCURRENCY requests
            at once; note the server's CPU time per request."""
            srv.reset()
            server_cpu0 = process_cpu(srv.pid)
            run = fn()
            server_cpu1 = process_cpu(srv.pid)
            stats = srv.stats()
            if stats["max_in_flight"] > CONCURRENCY:
                raise RuntimeError(
                    f"{label}: {stats['max_in_flight']} requests in flight > {CONCURRENCY}"
                )
            run.extra["server_max_in_flight"] = stats["max_in_flight"]
            if server_cpu0 is not None and server_cpu1 is not None:
                run.extra["server_cpu_per_request"] = (server_cpu1 - server_cpu0) / run.n
            return run

        engine_fn = lambda ps, d: asyncio.run(run_engine(base_url, ps, d))  # noqa: E731
        bare_fn = lambda ps: asyncio.run(run_bare(base_url, ps))  # noqa: E731
        inspect_fn = lambda ps: asyncio.run(run_inspect_model(base_url, ps))  # noqa: E731

        # -- warm-up: lazy imports, pydantic schema builds, first connections ------------------
        log(f"warm-up (load average {load_before})")
        warm = [prompt_text(i, "warm") for i in range(CONCURRENCY)]
        engine_fn(warm, tmp / "warm")
        bare_fn(warm)
        run_trustllm(base_url, warm[:TRUSTLLM_GROUP])
        if inspect_skip is None:
            try:
                inspect_fn(warm)
                run_inspect_eval(base_url, warm, tmp / "inspect-logs-warm")
            except Exception as exc:  # e.g. an Inspect release that changed its API
                inspect_skip = f"inspect-ai failed to run: {type(exc).__name__}: {exc}"

        # -- 50 ms: client CPU per request ---------------------------------------------------
        srv.configure(latency=plan.fast_latency)
        fast_ms = f"{plan.fast_latency * 1000:.0f} ms"
        for rep in range(plan.cpu_repeats):
            order: list[tuple[str, Callable[[list[str]], Run]]] = [
                ("engine", lambda ps: engine_fn(ps, tmp / "fast-store")),
                ("engine_nostore", lambda ps: engine_fn(ps, None)),
                ("bare", bare_fn),
            ]
            if rep % 2:
                order.reverse()  # alternate: no client always runs first
            if inspect_skip is None and rep == 0:
                order.append(("inspect", inspect_fn))
                order.append(
                    (
                        "inspect_eval",
                        lambda ps: run_inspect_eval(base_url, ps, tmp / "inspect-logs"),
                    )
                )
            for key, fn in order:
                log(f"{fast_ms}, {key} x {plan.n}, repeat {rep + 1}/{plan.cpu_repeats}")
                prompts = [prompt_text(i, f"fast{rep}-{key}") for i in range(plan.n)]
                fast.setdefault(key, []).append(measure(key, lambda fn=fn, ps=prompts: fn(ps)))
        log(f"{fast_ms}, TrustLLM-style x {plan.trustllm_fast}")
        prompts = [prompt_text(i, "fast-trustllm") for i in range(plan.trustllm_fast)]
        fast["trustllm"] = [measure("trustllm", lambda: run_trustllm(base_url, prompts))]

        # -- 500 ms: wall time vs ideal ------------------------------------------------------
        srv.configure(latency=plan.slow_latency)
        slow_ms = f"{plan.slow_latency * 1000:.0f} ms"
        slow_runs: list[tuple[str, Callable[[list[str]], Run], int]] = []
        for rep in range(plan.wall_repeats):
            pair: list[tuple[str, Callable[[list[str]], Run], int]] = [
                ("engine", lambda ps: engine_fn(ps, tmp / "slow-store"), plan.n),
                ("bare", bare_fn, plan.n),
            ]
            slow_runs += pair if rep % 2 == 0 else pair[::-1]
        slow_runs.append(("trustllm", lambda ps: run_trustllm(base_url, ps), plan.trustllm_slow))
        if inspect_skip is None:
            slow_runs.append(("inspect", inspect_fn, plan.n))
        for i, (key, fn, n) in enumerate(slow_runs):
            log(f"{slow_ms}, {key} x {n}")
            prompts = [prompt_text(j, f"slow{i}-{key}") for j in range(n)]
            slow.setdefault(key, []).append(measure(key, lambda fn=fn, ps=prompts: fn(ps)))
    finally:
        srv.stop()

    memory = None
    if not args.no_memory:
        log(
            f"memory: filling a store with {plan.memory_n:,} responses, then Engine.run from the cache"
        )
        memory = run_memory(tmp / "memory" / "store.db", plan.memory_n)
    shutil.rmtree(tmp, ignore_errors=True)

    elapsed = time.perf_counter() - started
    loads = (load_before, loadavg())
    report(plan, fast, slow, memory, inspect_skip, elapsed, loads)
    if args.json:
        results = {
            "plan": plan.__dict__,
            "inspect_skip": inspect_skip,
            "fast": {k: [r.__dict__ for r in v] for k, v in fast.items()},
            "slow": {k: [r.__dict__ for r in v] for k, v in slow.items()},
            "memory": memory,
            "elapsed": elapsed,
            "loadavg": loads,
        }
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def report(
    plan: Plan,
    fast: dict[str, list[Run]],
    slow: dict[str, list[Run]],
    memory: dict[str, Any] | None,
    inspect_skip: str | None,
    elapsed: float,
    loads: tuple[str, str],
) -> None:
    def best_cpu(key: str) -> Run:
        return min(fast[key], key=lambda r: r.cpu_per_request)

    def median_cpu(key: str) -> float:
        return statistics.median(r.cpu_per_request for r in fast[key])

    def best_wall(runs: list[Run]) -> Run:
        return min(runs, key=lambda r: r.wall)

    def server_cpu(run: Run) -> str:
        value = run.extra.get("server_cpu_per_request")
        return f"{value * 1e3:7.2f}" if value is not None else "    n/a"

    ideal = plan.n * plan.slow_latency / CONCURRENCY
    floor = -(-plan.n // CONCURRENCY) * plan.slow_latency  # whole rounds of CONCURRENCY requests
    ours_slow = best_wall(slow["engine"])
    bare_slow = best_wall(slow["bare"])
    bare_cpu = best_cpu("bare").cpu_per_request
    bare_cpu_median = median_cpu("bare")
    lines: list[str] = []
    add = lines.append
    add("")
    add(
        "trustgauge engine overhead"
        + (" (--quick: too few requests for the targets)" if plan.n < 2000 else "")
    )
    add(
        f"CPU: {cpu_description()}"
    )
    add(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"load average before/after {loads[0]} / {loads[1]}; fake server in its own process; "
        f"concurrency {CONCURRENCY}"
    )
    add("")
    add(
        f"1. Wall time, {plan.n} requests at {plan.slow_latency * 1000:.0f} ms latency: ideal = "
        f"{plan.n} x {plan.slow_latency:g} s / {CONCURRENCY} = {ideal:.2f} s "
        f"(whole rounds alone give {floor / ideal:.3f}); best of {plan.wall_repeats}"
    )
    add(f"   {'client':36} {'wall s':>8} {'wall/ideal':>11} {'all runs':>16}")
    for key in ("engine", "bare", "inspect"):
        if key in slow:
            r = best_wall(slow[key])
            runs = ", ".join(f"{x.wall / ideal:.3f}" for x in slow[key])
            add(f"   {r.name:36} {r.wall:8.2f} {r.wall / ideal:11.3f} {runs:>16}")
    ratio1 = ours_slow.wall / ideal
    add(
        f"   -> ours {ratio1:.3f} (target <= 1.10: {verdict(ratio1, 1.10)}); "
        f"ours/bare {ours_slow.wall / bare_slow.wall:.3f}"
    )
    add("")
    add(
        f"2. Client CPU time per request, {plan.n} requests at {plan.fast_latency * 1000:.0f} ms latency "
        f"(engine/bare: {plan.cpu_repeats} alternating repeats, best and median)"
    )
    add(
        f"   {'client':36} {'cpu ms/req':>10} {'vs bare':>8} {'median':>7} {'vs bare':>8} {'wall s':>7} {'server':>7}"
    )
    for key in ("engine", "engine_nostore", "bare", "inspect", "inspect_eval", "trustllm"):
        if key not in fast:
            continue
        r = best_cpu(key)
        med = median_cpu(key)
        add(
            f"   {r.name:36} {r.cpu_per_request * 1e3:10.3f} {fmt_ratio(r.cpu_per_request / bare_cpu):>8} "
            f"{med * 1e3:7.3f} {fmt_ratio(med / bare_cpu_median):>8} {r.wall:7.2f} {server_cpu(r)}"
        )
    ratio2 = best_cpu("engine").cpu_per_request / bare_cpu
    ratio2_median = median_cpu("engine") / bare_cpu_median
    add(
        "   ('server' = the fake server's own CPU ms per request, another process, not counted above)"
    )
    add(
        f"   -> ours/bare {ratio2:.3f} best, {ratio2_median:.3f} median "
        f"(target <= 1.20: {verdict(max(ratio2, ratio2_median), 1.20)})"
    )
    add("")
    add("3. TrustLLM-style sending (groups of 8 on 8 threads, sync client, wait for each group)")
    add(
        f"   fewer requests than ours ({plan.trustllm_slow} at {plan.slow_latency * 1000:.0f} ms, "
        f"{plan.trustllm_fast} at {plan.fast_latency * 1000:.0f} ms), so compared per request"
    )
    add(f"   {'latency':>9} {'TrustLLM ms/req':>16} {'ours ms/req':>12} {'TrustLLM/ours':>14}")
    tr_slow = slow["trustllm"][0]
    tr_fast = fast["trustllm"][0]
    ours_fast_wall = min(fast["engine"], key=lambda r: r.wall)
    for latency, tr, ours in (
        (plan.slow_latency, tr_slow, ours_slow),
        (plan.fast_latency, tr_fast, ours_fast_wall),
    ):
        add(
            f"   {latency * 1000:7.0f}ms {tr.wall_per_request * 1e3:16.2f} {ours.wall_per_request * 1e3:12.2f} "
            f"{fmt_ratio(tr.wall_per_request / ours.wall_per_request):>14}"
        )
    add(f"   (its bound is latency/{TRUSTLLM_GROUP} per request; ours is latency/{CONCURRENCY})")
    add("")
    add(f"4. Inspect AI (openai-api provider, max_connections={CONCURRENCY}, same server)")
    if inspect_skip is not None:
        add(f"   skipped: {inspect_skip}")
    else:
        ours_cpu = best_cpu("engine").cpu_per_request
        r = best_wall(slow["inspect"])
        add(
            f"   get_model().generate  wall/ideal {r.wall / ideal:.3f} (ours {ratio1:.3f}); "
            f"CPU/request {best_cpu('inspect').cpu_per_request / bare_cpu:.2f}x bare, "
            f"{best_cpu('inspect').cpu_per_request / ours_cpu:.2f}x ours"
        )
        e = best_cpu("inspect_eval")
        add(
            f"   eval() (full framework) CPU/request {e.cpu_per_request / bare_cpu:.2f}x bare, "
            f"{e.cpu_per_request / ours_cpu:.2f}x ours; wall at {plan.fast_latency * 1000:.0f} ms "
            f"{e.wall / ours_fast_wall.wall:.2f}x ours"
        )
    add("")
    add(
        "5. Memory: Engine.run over responses that are all in the cache (a model that raises if called)"
    )
    if memory is None:
        add("   skipped (--no-memory)")
    else:
        n = memory["n"]
        per = 100_000 / n
        rss, tm = memory["rss"], memory["tracemalloc"]
        mb = 1024 * 1024
        add(f"   {n:,} cached responses of ~500 characters, in a fresh subprocess (scaled to 100k)")
        add(
            f"   peak RSS increase       {rss['rss_peak_increase'] / mb * per:8.1f} MB per 100k  ({rss['how']})"
        )
        if "rss_retained" in rss:
            add(
                f"   RSS still held after    {rss['rss_retained'] / mb * per:8.1f} MB per 100k  (the returned outcomes)"
            )
        add(
            f"   tracemalloc peak        {tm['py_peak'] / mb * per:8.1f} MB per 100k  (Python allocations only)"
        )
        add(
            f"   cache-read throughput   {n / rss['seconds']:8,.0f} responses/s  ({rss['seconds']:.2f} s for {n:,})"
        )
    add("")
    add(f"total benchmark time {elapsed:.0f} s")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
