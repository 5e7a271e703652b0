"""Cold start (issue 13): what importing each handler leaves out. Each handler is imported in a fresh interpreter,
in the environment infra/ deploys it with (as bench/cold_start.py measures it), and the heavy packages that its
first invocation may not need must not be loaded yet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cold_start import environment

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/handler.py"))
# Loaded on first use by every handler: the X-Ray recorder (first traced call; Powertools may import the
# package itself to switch it off), httpx (first agent/webhook call),
# jsonschema (first schema check), the OpenAI client (the judge's first call), PyJWT (the first token).
NEVER_AT_IMPORT = ("aws_xray_sdk.core", "httpx", "jsonschema", "referencing", "openai", "jwt")
# The HTTP side of the functions that also consume a queue or a schedule: built on their first HTTP request.
API_MODULES = (
    "aws_lambda_powertools.event_handler.api_gateway",
    "aws_lambda_powertools.event_handler.openapi",
    "aws_lambda_powertools.utilities.idempotency",
    "agent_jobs.api.app",
)
NOT_API_FIRST = ("checkpoints", "validate", "webhooks", "metrics", "execute_job", "events", "realtime")
PROBE = "import json, sys, functions.{name}.handler; print(json.dumps(sorted(sys.modules)))"


def loaded_by_import(name: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(name=name)],
        env=environment(name),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def within(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_every_function_is_checked() -> None:
    assert set(NOT_API_FIRST) | {"create_job"} == set(HANDLERS)


@pytest.mark.parametrize("name", HANDLERS)
def test_a_handler_import_leaves_the_heavy_clients_for_their_first_use(name: str) -> None:
    assert within(loaded_by_import(name), NEVER_AT_IMPORT) == []


@pytest.mark.parametrize("name", NOT_API_FIRST)
def test_a_consumer_import_leaves_the_http_api_for_its_first_request(name: str) -> None:
    assert within(loaded_by_import(name), API_MODULES) == []
