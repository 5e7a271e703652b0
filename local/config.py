"""The local stack's knobs: ports (environment or flags), the state file, the timers."""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = ROOT / ".local"
DEFAULT_STATE_FILE = STATE_DIR / "stack.json"
HOST = "127.0.0.1"
REGION = "us-east-1"
DEFAULT_SCHEDULE_SECONDS = 60.0
AGENT_TIME_SCALE_ENV = "AGENT_JOBS_AGENT_TIME_SCALE"  # the async example agent's step length factor (tests: 0.05)


@dataclass(frozen=True)
class PortSpec:
    key: str
    env: str
    default: int
    what: str


PORTS: tuple[PortSpec, ...] = (
    PortSpec("api", "AGENT_JOBS_API_PORT", 3000, "the API gateway"),
    PortSpec("aws", "AGENT_JOBS_AWS_PORT", 5050, "the AWS endpoint (moto server)"),
    PortSpec("agents", "AGENT_JOBS_AGENTS_PORT", 4001, "the example agents"),
    PortSpec("judge", "AGENT_JOBS_JUDGE_PORT", 4010, "the offline judge stand-in"),
)
PORT_SPECS = {spec.key: spec for spec in PORTS}


class PortInUse(RuntimeError):
    """A configured port is taken; the message says which one and what to do."""

    def __init__(self, spec: PortSpec, port: int) -> None:
        super().__init__(
            f"port {port} ({spec.what}) is already in use on {HOST}.\n"
            f"  Is another `make dev` still running? Stop it (Ctrl+C in its terminal), or find the process with\n"
            f"    lsof -i :{port}    (or: ss -ltnp 'sport = :{port}')\n"
            f"  Or pick another port: {spec.env}=<port> make dev   (0 or --ports-auto picks free ports)"
        )
        self.spec = spec
        self.port = port


@dataclass(frozen=True)
class StackConfig:
    ports: dict[str, int]  # 0 = pick a free port
    state_file: Path
    log_dir: Path
    schedule_seconds: float
    access_log: bool


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_free(key: str, port: int) -> None:
    """Raises ``PortInUse`` when something already listens on ``port`` (0 never conflicts)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no conflict
        try:
            sock.bind((HOST, port))
        except OSError:
            raise PortInUse(PORT_SPECS[key], port) from None


def _port_from_env(spec: PortSpec, environ: dict[str, str] | os._Environ[str]) -> int:
    raw = environ.get(spec.env, "").strip()
    if not raw:
        return spec.default
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{spec.env}={raw!r} is not a port number") from None
    if not 0 <= port < 65536:
        raise SystemExit(f"{spec.env}={port} is out of range (0-65535)")
    return port


def agent_time_scale(environ: dict[str, str] | os._Environ[str] = os.environ) -> float:
    """How long the async example agent's steps take, as a fraction of their length (1: about half a minute
    for a long-task job; a test stack sets e.g. 0.05). Its registered lease is scaled alike."""
    raw = environ.get(AGENT_TIME_SCALE_ENV, "").strip()
    try:
        scale = float(raw) if raw else 1.0
    except ValueError:
        raise SystemExit(f"{AGENT_TIME_SCALE_ENV}={raw!r} is not a number") from None
    if not 0 < scale <= 100:
        raise SystemExit(f"{AGENT_TIME_SCALE_ENV}={scale:g} is out of range (0-100]")
    return scale


def parse_args(argv: list[str] | None = None) -> StackConfig:
    parser = argparse.ArgumentParser(
        prog="python -m local.stack",
        description="Runs the whole Agent Jobs platform on this machine (no AWS account) until Ctrl+C.",
    )
    parser.add_argument("--ports-auto", action="store_true", help="pick free ports for everything (tests)")
    for spec in PORTS:
        parser.add_argument(
            f"--{spec.key}-port",
            type=int,
            default=None,
            help=f"port of {spec.what} (env {spec.env}, default {spec.default})",
        )
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE, help="where to write URLs and tokens")
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=float(os.environ.get("AGENT_JOBS_SCHEDULE_SECONDS") or DEFAULT_SCHEDULE_SECONDS),
        help="period of the scheduled metrics/sweeper function (env AGENT_JOBS_SCHEDULE_SECONDS, default 60)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log line per API request")
    args = parser.parse_args(argv)
    ports: dict[str, int] = {}
    for spec in PORTS:
        flag = getattr(args, f"{spec.key}_port")
        ports[spec.key] = 0 if args.ports_auto else (flag if flag is not None else _port_from_env(spec, os.environ))
    state_file = args.state_file.resolve()
    return StackConfig(
        ports=ports,
        state_file=state_file,
        log_dir=state_file.parent,
        schedule_seconds=max(1.0, args.schedule_seconds),
        access_log=not args.quiet,
    )
