"""The Ray executor against the local engine alone (issue 19, acceptance: the benchmark).

Runs ``trustgauge run`` (the CLI, one subprocess per measurement) on 10,000 jailbreak-style
prompts against the fake OpenAI-compatible server of ``tests/fake_server.py`` (its own process)
at 500 ms latency:

* **local**: ``-c 128``, the local executor (this process's engine);
* **ray N**: ``-c 128 --executor ray --ray-address HOST:PORT --ray-workers N`` on a 2-node Ray
  cluster on 127.0.0.1 (``tests/ray_cluster.py``: a head and a second node, one CPU each),
  started *before* timing, as a user's running cluster would be (its start-up is printed apart).
  The executor splits the concurrency: ``128 // N`` per worker, 128 in flight in all;
* optionally (``--throughput``) **ray N @64N**: ``-c 64*N``, 64 per worker, to show throughput
  growing with the workers.

The prompts: the 1,400 TrustLLM JailbreakTrigger prompts (``safety/jailbreak.json``) cycled to
10,000 records, each made unique by a ``Request <i>:`` prefix, read through ``--task-data
safety.jailbreak=FILE`` (one task, one request per sample: 10,000 distinct requests). The fake
server refuses prompts with "how", complies with those with "write", answers the rest, so the
refusal judge's verdicts differ across items, as in ``benchmarks/overlap.py``.

Judges: the default ones (``refusal=minilm@5``, the offline MiniLM cascade; its ONNX graphs are
linked into each home, nothing is downloaded), or ``--judge rules`` for the keyword judge
(``--judge refusal=rules``). The judges run on the driver in both executors, overlapped with
generation, so they cost both sides the same work; the default is what a user runs.

Every measurement gets a fresh ``TRUSTGAUGE_HOME`` (the driver's) and the Ray nodes' worker
stores (``<node home>/ray/``) are deleted before it, so nothing is cached: each run must report
``requests.sent == 10000`` in run.json, and the server must have answered 10,000 chat requests
with 128 in flight at its peak. Every run's ``samples.jsonl`` (``cached`` flags aside) must
equal the first local run's: the Ray run directory is a local run's.

Rounds are interleaved (local, ray 2, ray 1, ray 4, ...) and the local/ray 2 pair is measured
``--rounds`` times (medians), because the 2 cores are shared. Usage::

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/ray_executor.py [--rounds 2] [--throughput] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _machine import cpu_description, load_average  # noqa: E402

from fake_server import FakeServer  # noqa: E402
from ray_cluster import RayCluster  # noqa: E402

LATENCY = 0.5
CONCURRENCY = 128
TARGET = 1.15
JAILBREAK = REPO.parent / "shared" / "data" / "trustllm" / "safety" / "jailbreak.json"
MODELS = Path.home() / ".cache" / "trustgauge" / "models"
FILLER = (
    "Here is a careful answer. The request mixes two separate questions: what is asked and "
    "whether it is safe to answer. Weighing both, the reply below sticks to general facts and "
    "leaves out anything that could cause harm; check a primary source before relying on it."
)
REPLIES = [
    ["how", "I'm sorry, but I can't help with that request."],
    ["write", "Sure, here is what you asked for: {prompt} " + FILLER],
]
DEFAULT_REPLY = "Answer to: {prompt} " + FILLER
#: Ray 2.60's `ray start --head` turns token authentication on when ~/.ray/auth_token exists (any
#: `ray.init()` that started a local Ray wrote one), while a client given an address never sends
#: it: the head would refuse every client. This private 127.0.0.1 cluster runs without tokens.
NO_TOKEN = {"RAY_AUTH_MODE": "disabled"}


@dataclass
class Measurement:
    name: str
    workers: int  # 0: the local executor
    concurrency: int
    wall: float
    sent: int
    server_requests: int
    max_in_flight: int
    driver_cpu: float  # the CLI process (and its children): user + system seconds
    cluster_cpu: float  # the Ray nodes' processes (raylets, workers, the run's store actor)
    server_cpu: float  # the fake server
    busy: float  # the machine's CPUs busy (any process, other sessions' included), share of 2


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and its reaped children (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime


def _session_processes(sessions: set[int]) -> dict[tuple[int, str], float]:
    """(pid, start time) -> CPU seconds, of every live process in the sessions ``sessions``."""
    found: dict[tuple[int, str], float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) in sessions:
                found[int(entry.name), fields[19]] = (int(fields[11]) + int(fields[12])) / TICK
    return found


class SessionCPU(threading.Thread):
    """CPU seconds the processes of some sessions use while it runs (each Ray node is a session
    of its own; its workers are not children we could wait for, and Ray reaps them without
    adding their time to anyone's, so they are sampled every 0.25 s: the last 0.25 s of a worker
    killed at the end of a run is not counted)."""

    def __init__(self, sessions: set[int]) -> None:
        super().__init__(daemon=True)
        self.sessions = sessions
        self.first = _session_processes(sessions)
        self.last = dict(self.first)
        self.halt = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.halt.wait(0.25):
            self.last.update(_session_processes(self.sessions))

    def stop(self) -> float:
        self.halt.set()
        self.join()
        self.last.update(_session_processes(self.sessions))
        return sum(cpu - self.first.get(key, 0.0) for key, cpu in self.last.items())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def write_prompts(path: Path, n: int) -> None:
    """``n`` JailbreakTrigger records (cycled), each prompt made unique by its number."""
    records = json.loads(JAILBREAK.read_text(encoding="utf-8"))
    out = [dict(records[i % len(records)], prompt=f"Request {i}: {records[i % len(records)]['prompt']}") for i in range(n)]
    path.write_text(json.dumps(out), encoding="utf-8")


def fresh_home(root: Path, name: str, judge: str) -> Path:
    home = root / name
    if home.exists():
        shutil.rmtree(home)
    (home / "models").mkdir(parents=True)
    if judge == "default":
        for f in MODELS.glob("minilm-*.onnx"):
            os.symlink(f, home / "models" / f.name)
    return home


def run_cli(
    home: Path, base_url: str, prompts: Path, out: Path, concurrency: int, judge: str,
    ray: tuple[str, int] | None,
) -> tuple[float, dict]:
    env = dict(os.environ, TRUSTGAUGE_HOME=str(home), PYTHONPATH=str(REPO / "src"), OPENAI_API_KEY="bench-key",
               RAY_USAGE_STATS_ENABLED="0", **NO_TOKEN)
    env.pop("RAY_ADDRESS", None)
    cmd = [
        sys.executable, "-m", "trustgauge", "run", "-q",
        "-m", f"openai-compatible:fake-model@{base_url}",
        "-t", "safety.jailbreak", "--task-data", f"safety.jailbreak={prompts}",
        "-c", str(concurrency), "-o", str(out),
    ]
    if judge == "rules":
        cmd += ["--judge", "refusal=rules"]
    if ray is not None:
        cmd += ["--executor", "ray", "--ray-address", ray[0], "--ray-workers", str(ray[1])]
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"trustgauge run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return wall, json.loads((out / "run.json").read_text(encoding="utf-8"))


def samples_of(out: Path) -> str:
    """samples.jsonl without the ``cached`` flags."""
    return (out / "samples.jsonl").read_text(encoding="utf-8").replace('"cached": true', '"cached": false')


async def _server_check(url: str, n: int, concurrency: int) -> float:
    """``n`` chat requests, ``concurrency`` in flight, straight at the server (aiohttp): its
    wall time against the whole-rounds floor says whether the server keeps up."""
    import aiohttp

    body = {"model": "fake-model", "messages": [{"role": "user", "content": "write a poem"}], "max_tokens": 16}
    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one() -> None:
            async with sem, session.post(url + "/chat/completions", json=body,
                                         headers={"Authorization": "Bearer bench-key"}) as resp:
                resp.raise_for_status()
                await resp.read()

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - t0


def clear_worker_stores(node_home: Path) -> None:
    """The Ray workers' own stores (one per node and model under the nodes' home): a worker
    would otherwise answer from what an earlier measurement stored."""
    shutil.rmtree(node_home / "ray", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the local / ray-2 pair (medians)")
    parser.add_argument("--workers", default="1,2,4", help="the scaling curve's worker counts (comma-separated)")
    parser.add_argument("--throughput", action="store_true",
                        help="also the curve at -c 64*N (64 per worker): throughput grows with the workers")
    parser.add_argument("--judge", choices=("default", "rules"), default="default",
                        help="default: the offline MiniLM refusal judge; rules: --judge refusal=rules")
    parser.add_argument("--quick", action="store_true", help="1,000 prompts, 1 round (smoke run)")
    parser.add_argument("--requests", type=int, default=10_000, help="prompts (requests) per run")
    args = parser.parse_args()
    n = 1000 if args.quick else args.requests
    rounds = 1 if args.quick else args.rounds
    curve = [int(w) for w in args.workers.split(",")]
    ideal = n * LATENCY / CONCURRENCY
    floor = -(-n // CONCURRENCY) * LATENCY
    print(f"CPU: {cpu_description()}")
    print(f"load average before: {load_average()}")
    print(f"{n} requests at {LATENCY * 1000:.0f} ms, -c {CONCURRENCY}; judges: "
          f"{'refusal=rules' if args.judge == 'rules' else 'default (refusal=minilm@5)'}")
    print(f"ideal {ideal:.2f} s (whole rounds of {CONCURRENCY}: {floor:.2f} s)", flush=True)
    results: list[Measurement] = []
    reference: list[str] = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tg-raybench-") as tmp, FakeServer.start(
        models=["fake-model"], latency=LATENCY, replies=REPLIES, default_reply=DEFAULT_REPLY,
    ) as server:
        root = Path(tmp)
        prompts = root / "prompts.json"
        write_prompts(prompts, n)
        url = server.openai_base_url
        server_pid = server.pid or 0

        check_n = 20 * CONCURRENCY
        wall = asyncio.run(_server_check(url, check_n, CONCURRENCY))
        peak = server.stats()["max_in_flight"]
        print(f"server alone: {check_n} requests, {CONCURRENCY} in flight (peak {peak}): {wall:.2f} s "
              f"against {check_n // CONCURRENCY * LATENCY:.2f} s of whole rounds "
              f"({check_n / wall:.0f} requests/s; the runs need {CONCURRENCY / LATENCY:.0f}/s, "
              f"{2 * CONCURRENCY / LATENCY:.0f}/s at -c {2 * CONCURRENCY})", flush=True)

        node_home = root / "node-home"
        node_home.mkdir()
        node_env = {"TRUSTGAUGE_HOME": str(node_home), "PYTHONPATH": str(REPO / "src"), "OPENAI_API_KEY": "bench-key",
                    **NO_TOKEN}
        t0 = time.perf_counter()
        with RayCluster.start(nodes=2, cpus=1, env=node_env) as cluster:
            print(f"Ray cluster (head + 1 node, 1 CPU each) at {cluster.address} up in {time.perf_counter() - t0:.1f} s "
                  "(not in any figure below)", flush=True)

            def measure(workers: int, concurrency: int) -> Measurement:
                name = "local" if workers == 0 else f"ray {workers}"
                if concurrency != CONCURRENCY:
                    name += f" @{concurrency}"
                home = fresh_home(root, "home", args.judge)
                clear_worker_stores(node_home)
                server.reset()
                out = root / "out"
                sessions = {node.pid for node in cluster.nodes}
                nodes_cpu = SessionCPU(sessions)
                before = (children_cpu(), 0.0, proc_cpu(server_pid), machine_ticks())
                wall, run = run_cli(home, url, prompts, out, concurrency, args.judge,
                                    None if workers == 0 else (cluster.address, workers))
                after = (children_cpu(), nodes_cpu.stop(), proc_cpu(server_pid), machine_ticks())
                stats = server.stats()
                chat = int(stats["by_endpoint"].get("chat.completions", 0))
                m = Measurement(
                    name, workers, concurrency, wall, int(run["requests"]["sent"]), chat, int(stats["max_in_flight"]),
                    driver_cpu=after[0] - before[0], cluster_cpu=after[1] - before[1], server_cpu=after[2] - before[2],
                    busy=(after[3][0] - before[3][0]) / max(1, after[3][1] - before[3][1]),
                )
                if m.sent != n:
                    raise SystemExit(f"{name}: run.json requests.sent = {m.sent}, expected {n} (something was cached)")
                text = samples_of(out)
                if not reference:
                    reference.append(text)
                elif text != reference[0]:
                    raise SystemExit(f"{name}: samples.jsonl differs from the first local run's")
                print(f"{name:14} wall {wall:7.2f} s  {n / wall:6.1f} requests/s  sent {m.sent}  "
                      f"server: {chat} chat requests, peak {m.max_in_flight} in flight; CPU s: driver "
                      f"{m.driver_cpu:.1f}, Ray nodes {m.cluster_cpu:.1f}, server {m.server_cpu:.1f}; machine "
                      f"{m.busy:.0%} busy (load {load_average()})", flush=True)
                results.append(m)
                return m

            for _ in range(rounds):
                measure(0, CONCURRENCY)
                measure(2, CONCURRENCY)
            for w in curve:
                if w != 2:
                    measure(w, CONCURRENCY)
            if args.throughput:
                for w in curve:
                    if w != 2:
                        measure(w, 64 * w)
    print(f"load average after: {load_average()}; benchmark total {time.perf_counter() - t_all:.0f} s")
    report(results, n, ideal, floor, rounds)
    return 0


def report(results: list[Measurement], n: int, ideal: float, floor: float, rounds: int) -> None:
    def med(name: str) -> float:
        return statistics.median(m.wall for m in results if m.name == name)

    local, ray2 = med("local"), med("ray 2")
    ratio = ray2 / local
    print()
    print(f"(a) local: {local:.2f} s   (b) ray, 2 workers on 2 nodes: {ray2:.2f} s   ideal {ideal:.2f} s "
          f"(whole rounds {floor:.2f} s)   medians of {rounds}")
    print(f"ratio ray/local = {ratio:.3f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'MISSED'}); "
          f"local/ideal {local / ideal:.3f}, ray/ideal {ray2 / ideal:.3f}")
    print()
    print(f"{'run':16} {'workers':>7} {'-c':>5} {'per worker':>10} {'wall s':>8} {'req/s':>7} {'ideal s':>8} {'wall/ideal':>10}"
          f" {'driver':>7} {'nodes':>6} {'server':>7} {'busy':>5}")
    names = list(dict.fromkeys(m.name for m in results))
    for name in names:
        m = next(x for x in results if x.name == name)
        wall = med(name)
        ide = n * LATENCY / m.concurrency
        per = "-" if m.workers == 0 else str(m.concurrency // m.workers)
        ms = [x for x in results if x.name == name]
        cpu = {k: statistics.median(getattr(x, k) for x in ms) for k in ("driver_cpu", "cluster_cpu", "server_cpu", "busy")}
        print(f"{name:16} {m.workers or '-':>7} {m.concurrency:>5} {per:>10} {wall:8.2f} {n / wall:7.1f} {ide:8.2f} {wall / ide:10.3f}"
              f" {cpu['driver_cpu']:7.1f} {cpu['cluster_cpu']:6.1f} {cpu['server_cpu']:7.1f} {cpu['busy']:5.0%}")
    print("(wall: the CLI from start to exit, medians where measured more than once; ideal: n x 0.5 s / -c;\n"
          " driver / nodes / server: CPU seconds of the CLI process, the Ray nodes' processes (workers, store actor,\n"
          " raylets), the fake server; busy: the machine's 2 CPUs, any process, during the run)")


if __name__ == "__main__":
    sys.exit(main())
