"""moto's server as the AWS endpoint, in a subprocess of its own process group.

The parent side (``MotoServer``) starts it on loopback with ``MOTO_PORT`` set (moto's Step Functions
interpreter calls SQS and DynamoDB at ``localhost:MOTO_PORT``), turns on real state machine execution,
and kills the whole group on stop (and at exit).

The child side (``python -m local.moto_server -H 127.0.0.1 -p PORT``) is ``moto.server.main`` with two
changes made before it starts:

- SQS never pushes to Lambda. moto runs an *enabled* event source mapping itself on every
  ``SendMessage``: it receives the messages, fails to run the function (no docker) and leaves them
  with one more receive, so after ``maxReceiveCount`` sends they sit in the DLQ. Measured on moto
  5.2.5 with 4 sends: one message already in the DLQ. Here the mappings stay plain records that the
  local pollers read (``Enabled`` = the worker's start/stop), exactly as the cloud's Lambda service does.
- werkzeug's per-request log is silenced; the child exits when its parent dies (a crash of the stack
  leaves no server holding the port); the slow-to-import Step Functions interpreter is imported before serving.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

from local.config import HOST, ROOT

PARENT_PID_ENV = "AGENT_JOBS_PARENT_PID"
STEP_FUNCTIONS_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


class MotoServerError(RuntimeError):
    pass


class MotoServer:
    """``python -m local.moto_server`` on ``HOST:port``; ``endpoint`` once started."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 20.0) -> MotoServer:
        self.spawn()
        self.wait_ready(timeout)
        return self

    def spawn(self) -> None:
        """Starts the subprocess without waiting for it (``wait_ready`` does)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        env = dict(os.environ)
        env["MOTO_PORT"] = str(self.port)
        env[PARENT_PID_ENV] = str(os.getpid())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(self.port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl+C goes to us, we stop it
        )
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Waits until the server answers, then turns on Step Functions execution."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise MotoServerError(
                        f"the moto server exited with code {self._process.returncode}; see {self.log_path}"
                    )
                try:
                    response = client.post(f"{self.endpoint}/moto-api/config", json=STEP_FUNCTIONS_CONFIG)
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise MotoServerError(f"the moto server did not answer within {timeout:g}s") from None
                    time.sleep(0.05)
                    continue
                if response.status_code >= 300:
                    raise MotoServerError(f"moto refused its config ({response.status_code}): {response.text}")
                return

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None


# --- the child process ---------------------------------------------------------------------------


class _NoLambdaPush(dict[str, Any]):
    """A queue's event source mappings as moto's SQS sees them: always none."""

    def __setitem__(self, key: str, value: Any) -> None:
        """Dropped: the mapping stays in the Lambda backend's list, the queue never pushes."""


def _detach_sqs_from_lambda() -> None:
    from moto.sqs import models

    original = models.Queue.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.lambda_event_source_mappings = _NoLambdaPush()

    models.Queue.__init__ = init  # type: ignore[method-assign]


# Imported before the server listens: moto's ASL interpreter takes seconds to import (3.4 s measured under
# load) and pulls in the SQS, DynamoDB and Lambda backends. Done in one thread on purpose: moto's modules
# import each other in cycles, and two threads importing them at once fail with partial-module ImportErrors.
PRELOAD_MODULES = ("moto.stepfunctions.parser.models", "moto.awslambda.models", "moto.cognitoidp.models")


def _preload() -> None:
    import importlib

    for name in PRELOAD_MODULES:
        importlib.import_module(name)


def _exit_with_parent() -> None:
    parent = int(os.environ.get(PARENT_PID_ENV) or os.getppid())

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _exit_with_parent()
    _detach_sqs_from_lambda()
    _preload()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
