#!/usr/bin/env python
"""Soak: 100,000 requests through the engine against a flaky server; does anything leak?

Issue 20 item 2. The engine ``trustgauge run`` uses (``Engine`` from ``engine/runner.py`` with
its adaptive limiter, its retries and a real ``Store`` in a temp dir; the model is the
``openai-compatible`` backend made by ``load_model``, as a run makes it) sends N distinct
requests to the fake OpenAI-compatible server of ``tests/fake_server.py``, which runs in **its
own process** (its memory and CPU are not the engine's) and fails a share of the requests
(``--fault-rate``, default 10%) with a transient fault drawn uniformly from: 500, 503, 429 with
a small ``Retry-After``, 429 without one, a dropped connection, a slow answer (late but within
the timeout) and a hang (past the timeout: the client gives up and retries).

The requests go in consecutive ``Engine.run`` calls of ``--chunk`` requests on one engine, one
model (its HTTP clients and pools) and one store, as a long-lived process would send them; each
chunk's outcomes are checked and dropped, so what stays in memory is what the engine itself
keeps. (One ``Engine.run`` over all N returns N outcomes, each holding its response, by design:
``--single`` measures that case, where memory grows with what the run returns.)

Measured, printed with the CPU model and flags:

* **exactly once**: every outcome ok and fresh; the store holds N rows; the server saw N distinct
  conversations, each answered successfully exactly once (``GET /_summary``: a histogram and a
  digest of the answered conversation keys, compared with the keys of the prompts sent); every
  request the server received beyond N is one of the engine's retries; a second pass over the
  same N samples (a new engine and model on the same store) sends 0 requests;
* **memory**: resident set size of this process (psutil, else ``/proc/self/status``) after
  every chunk; target: growth under 10% between the N/5-th (20k) and the N-th (100k) request;
* **descriptors and tasks**: open file descriptors (``/proc/self/fd``) and
  ``len(asyncio.all_tasks())`` at the start, after every chunk and at the end; target: no
  growth (and after the model and store are closed, the descriptors of the start);
* requests/s, per chunk and overall.

The curve (one row per chunk) is printed and written as CSV (``--csv``); a PNG plot too when
matplotlib is importable (``--plot``). Exit status 0 when every target is met.

    python benchmarks/soak.py --concurrency 64       # 100,000 requests: 7-16 minutes on 2 cores
    python benchmarks/soak.py                        # adaptive limiter (run's default): ~30 minutes
    python benchmarks/soak.py --requests 300 --chunk 100 --latency 0.005   # smoke run, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))
from _machine import cpu_description, load_average  # noqa: E402

from fake_server import FakeServer, conversation_key, keys_digest  # noqa: E402

MODEL_NAME = "fake-model"
#: the transient faults, drawn uniformly (fake_server.FAULT_KINDS)
FAULTS = ("500", "503", "429", "429_no_retry_after", "drop", "slow", "hang")
FILLER = (
    " Here is a careful answer: the claim mixes what the evidence says with how reliable that "
    "evidence is; most sources agree on the first, the second depends on the sample and on "
    "replication, so the accurate reply is a qualified one."
)


def prompt_text(i: int) -> str:
    """The i-th distinct prompt (~110 characters)."""
    return f"Soak question {i}: please verify claim #{i * 7919 % 1000003} and answer in a few words, citing evidence."


# -- what the process holds ------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process (psutil if installed, else /proc/self/status)."""
    try:
        import psutil
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no psutil and no VmRSS in /proc/self/status") from None
    return int(psutil.Process().memory_info().rss)


def open_fds() -> tuple[int, int]:
    """Open file descriptors of this process, and how many of them are sockets."""
    fds = sockets = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the directory's own descriptor, closed since
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def pooled_connections(model: Any) -> int:
    """Open connections held by the model's HTTP connection pools (one per SDK client of
    ``OpenAICompatModel``); a socket of this process that no pool holds would be a leak.
    -1 when the SDK's internals are not where this looks (another openai/httpx version)."""
    try:
        return sum(
            sum(not conn.is_closed() for conn in client._client._transport._pool.connections)
            for client in model._clients
        )
    except AttributeError:
        return -1


@dataclass
class Sample:
    """One point of the curve, taken after ``done`` requests were answered."""

    done: int
    elapsed_s: float
    rate: float  # requests/s over the chunk that ended here
    rss_mb: float
    fds: int
    sockets: int
    pooled: int  # connections the model's pools hold (-1: unknown)
    tasks: int
    retries: int

    @property
    def other_fds(self) -> int:
        """Descriptors that are not a pooled connection: constant unless something leaks."""
        return self.fds - max(self.pooled, 0)


def sample(done: int, t0: float, rate: float, retries: int, model: Any = None) -> Sample:
    fds, sockets = open_fds()
    pooled = 0 if model is None else pooled_connections(model)
    return Sample(done, round(time.monotonic() - t0, 3), round(rate, 1), round(rss_bytes() / 2**20, 2),
                  fds, sockets, pooled, len(asyncio.all_tasks()), retries)


def show(s: Sample) -> None:
    print(f"  {s.done:>7} {s.elapsed_s:8.1f}s {s.rate:7.1f}/s rss {s.rss_mb:7.1f} MB fds {s.fds} "
          f"(sockets {s.sockets}, pooled {s.pooled}) tasks {s.tasks}", file=sys.stderr, flush=True)


def chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


# -- the soak --------------------------------------------------------------------------------


@dataclass
class Result:
    samples: list[Sample]
    start: Sample  # before the model and store were opened
    closed: Sample  # after they were closed
    wall: float
    retries: int
    failed: int
    fresh: int
    stored: int
    second_pass_requests: int
    second_pass_cached: int
    second_pass_wall: float
    server: dict[str, Any]
    expected_digest: str
    #: the engine's failed attempts by what it saw (timeout, HTTP 503, connection error, ...)
    failures: dict[str, int] = field(default_factory=dict)


async def soak(args: argparse.Namespace, server: FakeServer, store_dir: Path) -> Result:
    from trustgauge.config import ModelConfig
    from trustgauge.engine.runner import Engine, RetryPolicy
    from trustgauge.engine.store import Store
    from trustgauge.models.registry import load_model
    from trustgauge.types import GenerationParams, Request

    n = args.requests
    params = GenerationParams(temperature=0.0, max_tokens=256)
    config = ModelConfig(model=f"openai-compatible:{MODEL_NAME}@{server.openai_base_url}", timeout=args.timeout)
    # what `trustgauge run --max-retries 8 --retry-delay D` with `timeout: T` in the model config makes
    policy = RetryPolicy(max_retries=8, base_delay=args.retry_delay, timeout=args.timeout)

    def requests_of(indices: range) -> list[Request]:
        return [Request.user(prompt_text(i), params) for i in indices]

    t0 = time.monotonic()
    start = sample(0, t0, 0.0, 0)
    model = load_model(config)
    store = Store(store_dir / "store.db")
    await model.check()
    engine = Engine(model, store, concurrency=args.concurrency, retry=policy, seed=0)
    failures = count_failures(engine)
    samples: list[Sample] = [sample(0, t0, 0.0, 0, model)]
    fresh = failed = 0
    every = max(1, args.chunk)

    def on_outcome(_outcome: Any) -> None:  # --single: sample along the one run
        nonlocal fresh
        fresh += 1
        if fresh % every == 0 or fresh == n:
            last = samples[-1]
            dt = time.monotonic() - t0 - last.elapsed_s
            samples.append(sample(fresh, t0, every / dt if dt > 0 else 0.0, engine.stats.retries, model))
            if args.verbose:
                show(samples[-1])

    started = time.monotonic()
    if args.single:
        outcomes = await engine.run(requests_of(range(n)), on_outcome=on_outcome)
        failed = sum(not o.ok for o in outcomes)
        fresh = sum(o.ok and not o.cached for o in outcomes)
        del outcomes
    else:
        done = 0
        for indices in chunks(n, args.chunk):
            c0 = time.monotonic()
            outcomes = await engine.run(requests_of(indices))
            failed += sum(not o.ok for o in outcomes)
            fresh += sum(o.ok and not o.cached for o in outcomes)
            done += len(indices)
            del outcomes
            samples.append(sample(done, t0, len(indices) / (time.monotonic() - c0), engine.stats.retries, model))
            if args.verbose:
                show(samples[-1])
    wall = time.monotonic() - started
    retries = engine.stats.retries
    stored = store.count_responses()
    await model.aclose()
    store.close()
    del engine, model, store
    closed = sample(n, t0, 0.0, retries)
    server_first = server.summary()

    # second pass: the same samples, a new engine and model on the same store: nothing is sent
    model = load_model(config)
    store = Store(store_dir / "store.db")
    p0 = time.monotonic()
    second_cached = 0
    try:
        engine = Engine(model, store, concurrency=args.concurrency, retry=policy, seed=0)
        for indices in chunks(n, 10_000):
            outcomes = await engine.run(requests_of(indices))
            second_cached += sum(o.ok and o.cached for o in outcomes)
            del outcomes
    finally:
        await model.aclose()
        store.close()
    second_wall = time.monotonic() - p0
    second_requests = server.summary()["requests"] - server_first["requests"]

    expected = keys_digest(
        conversation_key(MODEL_NAME, [{"role": "user", "content": prompt_text(i)}]) for i in range(n)
    )
    return Result(samples, start, closed, wall, retries, failed, fresh, stored, second_requests,
                  second_cached, second_wall, server_first, expected, dict(failures))


def count_failures(engine: Any) -> collections.Counter[str]:
    """Count the engine's failed attempts by kind, as its own classification names them (the
    engine's instance is wrapped, its code is not changed): which of them were timeouts tells
    a late answer the client gave up on from a request re-sent for nothing."""
    seen: collections.Counter[str] = collections.Counter()
    classify = engine._classify

    def counting(exc: Exception) -> Any:
        verdict = classify(exc)
        message = verdict.message
        if message.startswith("timeout"):
            kind = "timeout"
        elif message.startswith("HTTP "):
            kind = message.split(":", 1)[0]
        elif message.startswith("connection error"):
            kind = "connection error"
        else:
            kind = message.split(":", 1)[0][:40]
        seen[kind] += 1
        return verdict

    engine._classify = counting
    return seen


# -- verdicts and output ---------------------------------------------------------------------


def at(samples: list[Sample], done: int) -> Sample:
    """The first sample taken at or after ``done`` requests."""
    return next(s for s in samples if s.done >= done)


def verdicts(args: argparse.Namespace, r: Result) -> list[tuple[str, bool, str]]:
    n = args.requests
    srv = r.server
    chat = int(srv["by_endpoint"].get("chat.completions", 0))
    hist = {int(k): v for k, v in srv["conversation_successes_hist"].items()}
    extra = sum((k - 1) * v for k, v in hist.items() if k > 1)  # answers beyond the first
    # An attempt the client gave up on (its timeout) may still have been answered by the server:
    # the only way a sample can be answered twice. Timeouts beyond the injected hangs (which
    # always outlast the timeout) are such attempts: late answers on a busy machine.
    late = r.failures.get("timeout", 0) - srv["faults"].get("hang", 0)
    once = (
        r.failed == 0 and r.fresh == n and r.stored == n and srv["conversations"] == n and hist.get(0, 0) == 0
        and srv["succeeded_digest"] == r.expected_digest and extra <= max(late, 0)
    )
    shown = ", ".join(f"{k} time(s): {v}" for k, v in sorted(hist.items()))
    out = [(
        "every sample answered exactly once", once,
        f"{r.fresh} fresh ok, {r.failed} failed, {r.stored} stored; server: {srv['conversations']} distinct "
        f"conversations answered {shown}; digest {'matches' if srv['succeeded_digest'] == r.expected_digest else 'DIFFERS'}; "
        f"{extra} second answers <= {max(late, 0)} attempts the engine timed out beyond the injected hangs",
    )]
    faulted = srv["faults_total"] - srv["faults"].get("slow", 0)  # a slow answer is answered
    seen = ", ".join(f"{k} {v}" for k, v in sorted(r.failures.items()))
    out.append((
        "faults retried, nothing else resent",
        chat <= n + r.retries and r.retries >= faulted > 0 and r.failed == 0 and sum(r.failures.values()) == r.retries,
        f"server received {chat} chat requests = {n} + {chat - n}; engine retries {r.retries} ({seen}); "
        f"faults injected {srv['faults_total']} ({', '.join(f'{k} {v}' for k, v in sorted(srv['faults'].items()))})",
    ))
    out.append((
        "second pass sends 0 requests", r.second_pass_requests == 0 and r.second_pass_cached == n,
        f"{r.second_pass_requests} requests, {r.second_pass_cached}/{n} from the store in {r.second_pass_wall:.1f} s",
    ))
    first, last = at(r.samples, n // 5), r.samples[-1]
    growth = (last.rss_mb - first.rss_mb) / first.rss_mb
    out.append((
        f"RSS growth {first.done:,} -> {last.done:,} < 10%", growth < 0.10,
        f"{first.rss_mb:.1f} MB -> {last.rss_mb:.1f} MB ({growth:+.1%}, "
        f"{(last.rss_mb - first.rss_mb) * 2**20 / max(1, last.done - first.done):,.0f} bytes per request"
        f"{'; one run holds every outcome it returns' if args.single else ''}); start {r.start.rss_mb:.1f} MB, "
        f"peak {max(s.rss_mb for s in r.samples):.1f} MB",
    ))
    later = [s for s in r.samples if s.done >= first.done]
    # pooled keep-alive connections come and go with the load (a dropped connection is replaced,
    # an idle one expires); every other descriptor must stay put, and closing returns to the start
    along = r.samples[1:]
    others = sorted({s.other_fds for s in along})
    pool_known = all(s.pooled >= 0 for s in along)
    outside = sorted({s.sockets - s.pooled for s in along})  # the event loop's own socket pair
    fd_ok = pool_known and len(others) == 1 and len(outside) == 1 and r.closed.fds == r.start.fds
    if args.single or not pool_known:
        # samples taken inside one run catch connections half opened or half closed, and
        # without a view into the pools there is nothing to subtract: all descriptors, later at
        # most what was seen early, and closing returns to the start
        fd_ok = max(s.fds for s in later) <= max(s.fds for s in r.samples if s.done <= first.done) \
            and r.closed.fds == r.start.fds
    out.append((
        "no file descriptor growth", fd_ok,
        f"start {r.start.fds}; along the way {min(s.fds for s in along)}-{max(s.fds for s in along)} of which "
        f"{min(s.pooled for s in along)}-{max(s.pooled for s in along)} pooled connections, "
        f"sockets outside the pools {outside}, other descriptors {others}; "
        f"at {first.done:,} {first.fds}, end {last.fds}, after closing {r.closed.fds}",
    ))
    if args.single:  # inside one run the window of live request tasks is bounded, not constant
        task_ok = max(s.tasks for s in later) <= max(s.tasks for s in r.samples if s.done <= first.done)
    else:
        task_ok = all(s.tasks == r.start.tasks for s in r.samples) and r.closed.tasks == r.start.tasks
    out.append((
        "no asyncio task growth", task_ok,
        f"start {r.start.tasks}, range along the way {min(s.tasks for s in r.samples)}-{max(s.tasks for s in r.samples)}, "
        f"end {last.tasks}, after closing {r.closed.tasks}",
    ))
    return out


def print_curve(samples: list[Sample], rows: int = 22) -> None:
    step = max(1, (len(samples) - 1) // (rows - 1))
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    print(f"{'requests':>9} {'elapsed s':>9} {'req/s':>7} {'RSS MB':>8} {'fds':>4} {'pooled':>6} {'other':>5} "
          f"{'tasks':>5} {'retries':>7}")
    for s in shown:
        print(f"{s.done:>9,} {s.elapsed_s:>9.1f} {s.rate:>7.1f} {s.rss_mb:>8.1f} {s.fds:>4} {s.pooled:>6} {s.other_fds:>5} "
              f"{s.tasks:>5} {s.retries:>7,}")


def write_csv(path: Path, samples: list[Sample]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(samples[0])))
        w.writeheader()
        w.writerows(asdict(s) for s in samples)


def plot(path: Path, samples: list[Sample], title: str) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (the CSV has the curve)"
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=90)
    xs = [s.done for s in samples]
    ax.plot(xs, [s.rss_mb for s in samples], label="RSS MB")
    ax.set_xlabel("requests answered")
    ax.set_ylabel("RSS MB")
    ax2 = ax.twinx()
    ax2.plot(xs, [s.fds for s in samples], color="tab:orange", label="open fds")
    ax2.plot(xs, [s.tasks for s in samples], color="tab:green", label="asyncio tasks")
    ax2.set_ylabel("fds / tasks")
    fig.legend(loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return f"plot: {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000, help="distinct requests (default 100000)")
    parser.add_argument("--fault-rate", type=float, default=0.10, help="share of attempts that fail (default 0.10)")
    parser.add_argument("--chunk", type=int, default=2_500, help="requests per Engine.run call, and per sample")
    parser.add_argument("--single", action="store_true", help="one Engine.run over all requests (memory then holds every outcome)")
    parser.add_argument("--latency", type=float, default=0.02, help="server latency in s (plus up to as much jitter)")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-attempt timeout in s (a hang lasts twice that)")
    parser.add_argument("--retry-delay", type=float, default=0.25, help="base backoff in s (trustgauge run --retry-delay)")
    parser.add_argument("--retry-after", type=float, default=0.2, help="Retry-After of the 429 faults, s")
    parser.add_argument("--concurrency", type=int, default=None, help="fixed concurrency (default: adaptive, as run)")
    parser.add_argument("--csv", type=Path, default=HERE / "results" / "soak.csv")
    parser.add_argument("--plot", type=Path, default=HERE / "results" / "soak.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per chunk on stderr")
    parser.add_argument("--report", type=Path, default=None, help="print the curve and verdicts of a run saved with --json")
    args = parser.parse_args(argv)
    if args.report is not None:
        saved = json.loads(args.report.read_text())
        args.requests, args.single = int(saved["args"]["requests"]), saved["args"]["single"] == "True"
        args.fault_rate = float(saved["args"]["fault_rate"])
        print(f"soak run saved in {args.report}: {args.requests:,} requests, {args.fault_rate:.0%} transient faults")
        print(f"CPU: {saved['cpu']}")
        return report(args, load_result(saved["result"]), saved["cpu"])
    if args.requests < 5 or args.chunk < 1 or not 0 <= args.fault_rate < 1:
        parser.error("need --requests >= 5, --chunk >= 1 and 0 <= --fault-rate < 1")

    cpu = cpu_description()
    print(f"soak: {args.requests:,} requests, {args.fault_rate:.0%} transient faults ({', '.join(FAULTS)}), "
          f"{'one Engine.run' if args.single else f'Engine.run per {args.chunk:,} requests'}")
    print(f"CPU: {cpu}")
    print(f"load average before: {load_average()}  (the fake server runs in its own process)")
    server_config = {
        "latency": args.latency, "jitter": args.latency, "fault_rate": args.fault_rate, "faults": list(FAULTS),
        "retry_after": args.retry_after, "hang_seconds": 2 * args.timeout, "slow_fault_seconds": args.timeout / 4,
        "default_reply": "Echo: {prompt}" + FILLER, "seed": 20,
    }
    with FakeServer.start(**server_config) as server, tempfile.TemporaryDirectory(prefix="tg-soak-") as tmp:
        result = asyncio.run(soak(args, server, Path(tmp)))
    print(f"load average after: {load_average()}\n")
    code = report(args, result, cpu)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "cpu": cpu,
                                         "result": asdict(result)}, indent=1, default=str))
    return code


def load_result(data: dict[str, Any]) -> Result:
    """A :class:`Result` from its ``asdict`` (``--json``)."""
    data = dict(data)
    data["samples"] = [Sample(**s) for s in data["samples"]]
    data["start"], data["closed"] = Sample(**data["start"]), Sample(**data["closed"])
    return Result(**data)


def report(args: argparse.Namespace, result: Result, cpu: str) -> int:
    """Print the curve, the throughput and one verdict line per target; write the CSV (and
    the plot). 0 when every target is met."""
    print_curve(result.samples)
    print(f"\nfirst pass: {args.requests:,} requests in {result.wall:.1f} s = {args.requests / result.wall:,.0f} requests/s "
          f"(with {result.retries:,} retries)")
    print(f"second pass: {result.second_pass_wall:.1f} s, all from the store")
    ok_all = True
    for name, ok, detail in verdicts(args, result):
        ok_all &= ok
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}  | CPU {cpu}")
    write_csv(args.csv, result.samples)
    print(f"curve: {args.csv}")
    print(plot(args.plot, result.samples, f"soak {args.requests:,} requests, {args.fault_rate:.0%} faults; {cpu[:60]}"))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
