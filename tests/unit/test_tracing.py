"""Tracing where infra/ deploys it (issue 13): an untraced function never loads the X-Ray SDK, a traced one
still patches what Powertools patches, and a handler runs the same under either."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_jobs.observability import NoTracing, tracer, tracing_disabled

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import sys, json, functions.execute_job.handler as h; "
    "from agent_jobs.observability import tracer; "
    "imported = 'aws_xray_sdk.core' in sys.modules; "
    "segment = tracer.provider.in_subsegment('## probe'); "  # the first traced call, as the handler's decorator
    "import botocore.client; "
    "print(json.dumps({'sdk': imported, 'disabled': tracer.disabled, "
    "'loaded': 'aws_xray_sdk.core' in sys.modules, "
    "'patched': 'Wrapper' in type(vars(botocore.client.BaseClient)['_make_api_call']).__name__}))"
)


def import_in_lambda(trace_disabled: str | None) -> dict[str, bool]:
    """The handler imported as Lambda runs it, then one subsegment opened (not entered)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE", "LAMBDA_TASK_ROOT"))}
    env |= {
        "PYTHONPATH": f"{ROOT / 'layers' / 'common'}{os.pathsep}{ROOT}",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "agent-jobs-execute_job",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_REGION": "us-east-1",
    }
    if trace_disabled is not None:
        env["POWERTOOLS_TRACE_DISABLED"] = trace_disabled
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_an_untraced_function_never_imports_the_xray_sdk() -> None:
    assert import_in_lambda("true") == {"sdk": False, "disabled": True, "loaded": False, "patched": False}


def test_a_traced_function_loads_the_xray_recorder_and_patches_on_its_first_traced_call() -> None:
    assert import_in_lambda(None) == {"sdk": False, "disabled": False, "loaded": True, "patched": True}


@pytest.mark.parametrize(
    ("environ", "disabled"),
    [
        ({}, True),  # not in Lambda: tests, the local stack, the benchmarks
        ({"LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, False),
    ],
)
def test_the_rule_matches_powertools(environ: dict[str, str], disabled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert tracing_disabled() is disabled


def test_a_decorated_handler_runs_on_the_no_op_provider() -> None:
    assert isinstance(tracer.provider, NoTracing)  # the test process is not in Lambda

    class Context:
        function_name = "test"
        aws_request_id = "req"

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event["value"]}

    @tracer.capture_lambda_handler
    def failing(event: dict[str, Any], context: Any) -> None:
        raise ValueError("boom")

    assert handler({"value": 3}, Context()) == {"echo": 3}
    with pytest.raises(ValueError, match="boom"):
        failing({}, Context())
