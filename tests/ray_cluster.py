"""A real Ray cluster on 127.0.0.1 for tests and benchmarks: a head and worker nodes, each a
``ray start --block`` process of its own (so a node can be killed alone), one CPU each by
default, in a temporary directory of its own; started and stopped within bounded time.

Only the processes this cluster started are stopped (each node is its own process group):
never ``ray stop``, which would stop every Ray on the machine.

    with RayCluster.start(nodes=2) as cluster:
        subprocess.run([..., "--executor", "ray", "--ray-address", cluster.address])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fake_server import free_port

RAY = str(Path(sys.executable).with_name("ray"))
#: the environment of the cluster's processes and its clients: no usage stats; no token
#: authentication (Ray >= 2.5x turns it on for a new cluster whenever ~/.ray/auth_token exists,
#: which any earlier local ``ray.init()`` on the machine writes; a test cluster on 127.0.0.1 and
#: its clients agree on "disabled" instead of on a file shared by every cluster of the user)
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


@dataclass
class RayCluster:
    address: str
    temp_dir: Path
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, nodes: int = 2, cpus: float = 1, env: Mapping[str, str] | None = None, timeout: float = 90.0,
        head_env: Mapping[str, str] | None = None,
    ) -> Iterator[RayCluster]:
        """``nodes`` nodes (the head included) of ``cpus`` CPUs; ``env`` for every node's
        processes (workers inherit it), ``head_env`` for the head's only."""
        # a short path: Ray's unix sockets live below it (107-byte limit)
        temp = Path(tempfile.mkdtemp(prefix="tgray-", dir="/tmp"))
        port = free_port()
        cluster = cls(address=f"127.0.0.1:{port}", temp_dir=temp)
        base = {**os.environ, **RAY_ENV, **(env or {}), "TG_RAY_CLUSTER": str(temp)}
        base.pop("RAY_ADDRESS", None)
        common = ["--block", f"--num-cpus={cpus:g}", "--num-gpus=0", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
        try:
            cluster.nodes.append(cls._spawn(
                [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}", *common],
                {**base, **(head_env or {})}, temp / "head.log",
            ))
            cluster._wait_for(1, timeout)
            for i in range(1, nodes):
                cluster.nodes.append(cls._spawn(
                    [RAY, "start", f"--address={cluster.address}", *common], base, temp / f"node{i}.log",
                ))
            cluster._wait_for(nodes, timeout)
            yield cluster
        finally:
            cluster.stop()

    @staticmethod
    def _spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            return subprocess.Popen(args, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def alive_nodes(self) -> int:
        """Nodes the cluster's control store counts as alive (asked in a child process, so the
        test process never joins the cluster)."""
        code = (
            "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))"
        )
        env = {**os.environ, **RAY_ENV}
        done = subprocess.run([sys.executable, "-c", code, self.address], capture_output=True, text=True, timeout=60, env=env)
        return int(done.stdout.strip() or 0) if done.returncode == 0 else 0

    def _wait_for(self, nodes: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.poll() is not None:
                    raise RuntimeError(f"a Ray node exited ({node.returncode}); logs in {self.temp_dir}")
            if self.alive_nodes() >= nodes:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{nodes} Ray node(s) not up within {timeout:g} s; logs in {self.temp_dir}")

    def stop_node(self, index: int) -> None:
        """Kill one node's processes at once (a machine lost)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.nodes[index].pid, signal.SIGKILL)
        self.nodes[index].wait(timeout=30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for node in self.nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.wait(timeout=max(0.1, deadline - time.monotonic()))
        for node in self.nodes:  # what SIGTERM left (workers, raylet, gcs): the whole group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.wait(timeout=10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def worker_pids(cluster: RayCluster | None = None, name: str = "UnitWorker") -> list[int]:
    """PIDs of this machine's Ray actor processes of class ``name`` (``ray::UnitWorker``), of
    ``cluster`` only when given (its processes carry its temporary directory in their
    environment: another cluster on the machine, say a benchmark's, is not counted)."""
    out = subprocess.run(["pgrep", "-f", f"ray::{name}"], capture_output=True, text=True)
    pids = [int(p) for p in out.stdout.split()]
    if cluster is None:
        return pids
    mark = f"TG_RAY_CLUSTER={cluster.temp_dir}".encode()
    mine = []
    for pid in pids:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if mark in environ.split(b"\0"):
            mine.append(pid)
    return mine
