"""The local stack (``python -m local.stack``) with timers on: where its CPU and time go, without changing it.

    python -m bench.stack_probe --probe-out PATH -- [local.stack arguments]

Before the stack starts, this wraps ``local.lambda_runtime.load`` (every handler invocation the gateway, the pollers
and the scheduler make: wall time and the CPU of its threads, ``asyncio.to_thread`` workers included), and
``botocore``'s ``BaseClient._make_api_call`` (every AWS call to moto: count and wall time, inside a handler or
not — the pollers' receives and deletes, the EMF forwarder's ``put_metric_data``). ``SIGUSR1`` writes the
counters so far to ``PATH`` (the benchmark reads it at the start and the end of a window); they are written
again when the stack stops. The moto server's CPU is read from ``/proc`` (its process is a child).
"""

from __future__ import annotations

import contextvars
import json
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import thread_cpu

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("probe_function", default=None)


class Probe:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.functions: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.aws: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.moto_pid: int | None = None

    # --- wrappers ---------------------------------------------------------------------------------------
    def install(self) -> None:
        import botocore.client

        from local import lambda_runtime, moto_server

        probe = self
        original_load = lambda_runtime.load

        def load(name: str) -> Any:
            handler = original_load(name)

            def timed(event: dict[str, Any], context: Any) -> Any:
                bucket: list[float] = []
                tokens = (_function.set(name), thread_cpu.cpu_bucket.set(bucket))
                started, started_cpu = time.perf_counter(), time.thread_time()
                try:
                    return handler(event, context)
                finally:
                    wall, cpu = time.perf_counter() - started, time.thread_time() - started_cpu
                    _function.reset(tokens[0])
                    thread_cpu.cpu_bucket.reset(tokens[1])
                    probe.add_invocation(name, len(event.get("Records") or []), wall, cpu + sum(bucket))

            return timed

        runtime: Any = lambda_runtime
        runtime.load = load

        thread_cpu.install()

        client_class: Any = botocore.client.BaseClient
        original_call = client_class._make_api_call

        def make_api_call(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_call(client, operation, params)
            finally:
                service = client.meta.service_model.service_id.hyphenize()
                probe.add_call(f"{service}.{operation}", _function.get(), time.perf_counter() - started)

        client_class._make_api_call = make_api_call

        server_class: Any = moto_server.MotoServer
        original_spawn = server_class.spawn

        def spawn(server: Any) -> None:
            original_spawn(server)
            probe.moto_pid = server._process.pid if server._process else None

        server_class.spawn = spawn

    def add_invocation(self, name: str, records: int, wall: float, cpu: float) -> None:
        with self.lock:
            stats = self.functions[name]
            stats["invocations"] += 1
            stats["records"] += records
            stats["wallSeconds"] += wall
            stats["cpuSeconds"] += cpu

    def add_call(self, kind: str, function: str | None, wall: float) -> None:
        with self.lock:
            stats = self.aws[kind]
            stats["calls"] += 1
            stats["wallSeconds"] += wall
            if function is not None:
                stats["inHandlerCalls"] += 1
                stats["inHandlerWallSeconds"] += wall
                self.functions[function]["awsCalls"] += 1
                self.functions[function]["awsWallSeconds"] += wall

    # --- snapshots --------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        times = os.times()
        with self.lock:
            return {
                "at": time.time(),
                "stackCpuSeconds": times.user + times.system,
                "motoCpuSeconds": _cpu_of(self.moto_pid),
                "functions": {k: dict(v) for k, v in self.functions.items()},
                "aws": {k: dict(v) for k, v in self.aws.items()},
            }

    def write(self) -> None:
        temporary = self.out.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.snapshot()))
        os.replace(temporary, self.out)


def _cpu_of(pid: int | None) -> float | None:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "--probe-out":
        raise SystemExit("usage: python -m bench.stack_probe --probe-out PATH -- [local.stack arguments]")
    probe = Probe(Path(args[1]))
    stack_args = args[3:] if len(args) > 2 and args[2] == "--" else args[2:]
    probe.install()
    signal.signal(signal.SIGUSR1, lambda *_: probe.write())
    from local import stack

    try:
        return stack.main(stack_args)
    finally:
        probe.write()


if __name__ == "__main__":
    sys.exit(main())
