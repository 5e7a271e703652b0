"""``make dev``: the whole platform on this machine, no AWS account, in the foreground until Ctrl+C.

moto's server is the AWS endpoint (tables, queues and DLQs, the checkpoint state machine, a Cognito pool,
CloudWatch, and the Lambda functions with their event source mappings); a local gateway turns HTTP requests
into API Gateway events with verified JWT claims and calls the handlers in-process; pollers play the event
source mappings; a timer plays the schedule; example agents and a judge (OpenAI, or the offline stand-in)
answer. See DESIGN.md §9.

    python -m local.stack [--ports-auto] [--state-file PATH] [--schedule-seconds N] [--quiet]
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3

from local import banner, console, emf, lambda_runtime
from local.cognito import DEMO_USERS, UserPool, create_demo_users, create_pool
from local.config import REGION, PortInUse, StackConfig, ensure_free, free_port, parse_args
from local.gateway import Gateway
from local.jwt_auth import JwtVerifier
from local.moto_server import MotoServer
from local.oauth import TOKEN_PATH, TokenEndpoint
from local.pollers import Pollers
from local.provision import (
    function_name,
    provision_dashboard,
    provision_functions,
    provision_state_machine,
    provision_storage,
)
from local.scheduler import Scheduler
from local.state import remove_state, write_state
from local.streams import StreamPollers

if TYPE_CHECKING:
    from local.judge import JudgeSetup

log = console.get("stack")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",  # moto's endpoint takes any key; nothing here talks to AWS
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
HANDLER_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "agent-jobs",
    "POWERTOOLS_METRICS_NAMESPACE": "AgentJobs",
    "POWERTOOLS_LOG_LEVEL": "WARNING",  # POWERTOOLS_LOG_LEVEL=INFO make dev for the handlers' info logs
}
HANDLER_FIXED = {
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_DISABLED": "false",  # EMF on stdout even with POWERTOOLS_DEV (forwarded by local.emf)
    "ALLOW_LOOPBACK_HTTP_AGENTS": "true",  # the example agents are on http://127.0.0.1 (local only)
}


def prepare_environment() -> None:
    """The process environment the handlers run with, before anything reads settings or makes a logger."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    for name, value in HANDLER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.update(HANDLER_FIXED)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


class Stack:
    """Starts the parts in order and stops them in reverse; ``start`` returns the state file's content."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self.moto: MotoServer | None = None
        self.steps: dict[str, float] = {}  # startup step → seconds (in the state file, for diagnosis)
        self._lap_at = time.monotonic()

    def _lap(self, step: str) -> None:
        now = time.monotonic()
        self.steps[step] = round(now - self._lap_at, 3)
        self._lap_at = now

    @property
    def started_something(self) -> bool:
        return bool(self._stops)

    def _on_stop(self, name: str, stop: Callable[[], None]) -> None:
        self._stops.append((name, stop))

    def check_ports(self) -> None:
        for key, port in self.config.ports.items():
            if key == "judge" and os.environ.get("OPENAI_API_KEY"):
                continue  # no stand-in to start
            ensure_free(key, port)

    def start(self) -> dict[str, Any]:
        started = self._lap_at = time.monotonic()
        self.check_ports()
        prepare_environment()
        self.moto = MotoServer(self.config.ports["aws"] or free_port(), self.config.log_dir / "moto.log")
        self._on_stop("moto server", self.moto.stop)
        self.moto.spawn()  # starts while this process imports the rest
        with ThreadPoolExecutor(max_workers=6, thread_name_prefix="startup") as background:
            state = self._start_platform(self.moto, background)
        self._start_event_sources(self.moto.endpoint)
        state["readySeconds"] = round(time.monotonic() - started, 2)
        state["startupSteps"] = self.steps
        write_state(self.config.state_file, state)
        return state

    def _start_platform(self, moto: MotoServer, background: ThreadPoolExecutor) -> dict[str, Any]:
        """AWS resources, sign-in, judge, gateway and example agents; independent steps run in parallel."""
        from local.example_agents import register_agents, start_agents  # after prepare_environment()
        from local.judge import start_judge

        ports = self.config.ports
        warm = background.submit(lambda_runtime.preload)
        moto.wait_ready()
        endpoint = moto.endpoint
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        self._lap("moto")
        background.submit(_warm_moto, endpoint)
        machine = background.submit(provision_state_machine, region=REGION, endpoint_url=endpoint)
        resources = background.submit(provision_storage, region=REGION, endpoint_url=endpoint)
        users = background.submit(_users, endpoint)
        dashboards = background.submit(provision_dashboard, region=REGION, endpoint_url=endpoint)
        judge = start_judge(ports["judge"])
        self._on_stop("judge", judge.stop)
        agents = start_agents(ports["agents"])
        self._on_stop("example agents", agents.stop)
        env = {**resources.result(), **machine.result()}
        pool, tokens = users.result()
        self._lap("resources+users")

        handler_env = _handler_env(env, judge.env, pool, endpoint)
        lambdas = background.submit(
            provision_functions, env, region=REGION, endpoint_url=endpoint, function_env=handler_env
        )
        os.environ.update(handler_env)
        from agent_jobs.services import reset

        reset()  # settings and clients are read from this environment from now on
        forwarder = EmfForwarderHandle.start(endpoint)
        self._on_stop("metrics forwarding", forwarder.stop)
        tokens_for_machines = TokenEndpoint(pool)  # POST /oauth2/token: client credentials (``make client``)
        verifier = JwtVerifier(pool.jwks_url, pool.issuer, [pool.client_id], machine_client=tokens_for_machines.knows)
        gateway = Gateway(
            ports["api"], verifier, access_log=self.config.access_log, token_endpoint=tokens_for_machines
        ).start()
        self._on_stop("gateway", gateway.stop)
        # post_to_connection (the real-time fan-out) reaches the gateway's management API, as the cloud's stage's
        handler_env["REALTIME_CALLBACK_URL"] = os.environ["REALTIME_CALLBACK_URL"] = gateway.url
        reset()
        warm.result()
        self._lap("gateway")
        register_agents(agents, gateway.url, tokens["admin"])
        self._lap("register agents")
        handler_env.update(lambdas.result())
        dashboard = dashboards.result()
        self._lap("lambda+dashboard")
        return self._state(pool, gateway, endpoint, agents.base_url, judge, dashboard, tokens, handler_env)

    def _start_event_sources(self, endpoint: str) -> None:
        """The event source mappings' pollers and the schedule: from here on, work flows by itself."""
        pollers = Pollers(region=REGION, endpoint_url=endpoint).start()
        self._on_stop("pollers", pollers.stop)
        from agent_jobs.catalog import STREAMS
        from agent_jobs.settings import get_settings

        settings = get_settings()  # the handlers' environment, set by _start_platform
        tables = {spec.table: getattr(settings, spec.table) for spec in STREAMS}
        streams = StreamPollers(region=REGION, endpoint_url=endpoint, table_names=tables).start()
        self._on_stop("stream pollers", streams.stop)
        scheduler = Scheduler(self.config.schedule_seconds, region=REGION).start()
        self._on_stop("scheduler", scheduler.stop)
        self._lap("pollers+scheduler")

    def _state(
        self,
        pool: UserPool,
        gateway: Gateway,
        endpoint: str,
        agents_url: str,
        judge: JudgeSetup,
        dashboard: str,
        tokens: dict[str, str],
        handler_env: dict[str, str],
    ) -> dict[str, Any]:
        return {
            "apiUrl": gateway.url,
            "tokenUrl": f"{gateway.url}{TOKEN_PATH}",
            "docsUrl": f"{gateway.url}/api/docs",
            "realtimeUrl": gateway.realtime_url,
            "adminPageUrl": f"{gateway.url}/admin",
            "consoleUrl": f"{gateway.url}/app",
            "awsEndpointUrl": endpoint,
            "agentsUrl": agents_url,
            "region": REGION,
            "userPoolId": pool.pool_id,
            "clientId": pool.client_id,
            "tokens": tokens,
            "passwords": {user.username: user.password for user in DEMO_USERS},
            "admins": [user.username for user in DEMO_USERS if user.admin],
            "judge": {
                "mode": judge.mode,
                "model": judge.model,
                "baseUrl": judge.base_url,
                "description": judge.description,
            },
            "dashboard": dashboard,
            "scheduleSeconds": self.config.schedule_seconds,
            "env": {k: v for k, v in handler_env.items() if k != "OPENAI_API_KEY"},
            "pid": os.getpid(),
            "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def stop(self) -> None:
        """Stops every part started, newest first; a part that fails to stop does not keep the others running."""
        while self._stops:
            name, stop = self._stops.pop()
            began = time.monotonic()
            try:
                stop()
            except Exception as exc:
                log.warning("stopping the %s failed: %s", name, exc)
            took = time.monotonic() - began
            if took > 1.0:
                log.info("stopping the %s took %.1f s", name, took)


def _handler_env(env: dict[str, str], judge_env: dict[str, str], pool: UserPool, endpoint: str) -> dict[str, str]:
    """The settings environment of the handlers (what infra/ sets on each function, pointed at moto)."""
    return {
        **env,
        **judge_env,
        "EXECUTE_FUNCTION_NAME": function_name("execute_job"),
        "ADMIN_USER_POOL_ID": pool.pool_id,
        "ADMIN_CLIENT_ID": pool.client_id,
        "ADMIN_COGNITO_ENDPOINT": f"{endpoint}/",
    }


def _users(endpoint: str) -> tuple[UserPool, dict[str, str]]:
    pool = create_pool(region=REGION, endpoint_url=endpoint)
    return pool, create_demo_users(pool)


def _warm_moto(endpoint: str) -> None:
    """The first Lambda call costs moto a moment; made here in parallel with the real work."""
    boto3.session.Session(region_name=REGION).client("lambda", endpoint_url=endpoint).list_functions()


class EmfForwarderHandle:
    """The stdout wrapper and its forwarder, installed and removed together."""

    def __init__(self, forwarder: emf.EmfForwarder, restore: Callable[[], None]) -> None:
        self.forwarder = forwarder
        self.restore = restore

    @classmethod
    def start(cls, endpoint: str) -> EmfForwarderHandle:
        forwarder = emf.EmfForwarder(region=REGION, endpoint_url=endpoint).start()
        return cls(forwarder, emf.install(forwarder.submit))

    def stop(self) -> None:
        self.restore()
        self.forwarder.stop()


def _serve(stack: Stack, stopping: threading.Event) -> int:
    """Waits for Ctrl+C / SIGTERM; 1 when the moto server dies under us."""
    while not stopping.wait(1.0):
        if stack.moto is not None and not stack.moto.running:
            log.error("the moto server exited unexpectedly; see %s", stack.moto.log_path)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    console.setup(logging.INFO)
    stopping = threading.Event()
    starting = True

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        if starting:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = Stack(config)
    try:
        try:
            state = stack.start()
        except PortInUse as exc:
            print(f"\nCannot start the local stack: {exc}\n", file=sys.stderr, flush=True)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted while starting; stopping what was started", file=sys.stderr, flush=True)
            return 130
        except Exception as exc:
            log.exception("the local stack failed to start: %s", exc)
            return 1
        starting = False
        print(banner.render(state, config.state_file), flush=True)
        print(f"ready in {state['readySeconds']:.1f} s", flush=True)
        code = _serve(stack, stopping)
        print("\nstopping the local stack…", flush=True)
        return code
    finally:
        starting = False
        started_something = stack.started_something
        with contextlib.suppress(KeyboardInterrupt):
            stack.stop()
            remove_state(config.state_file, os.getpid())
        if started_something:
            print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
