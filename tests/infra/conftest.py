"""Synthesize the CDK app once per test session (shared by pytest-xdist workers), without bundling.

The session synth is ``python infra/app.py`` itself, as ``make synth`` and ``cdk synth`` run it (cdk.json
context, cdk-nag on), with bundling skipped through the context the CDK CLI would pass. Tests read the
written cloud assembly and find resources by construct path (``aws:cdk:path`` metadata). The ``prod``
variant only changes the stateful constructs, so those are synthesized alone in-process.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]
DEV_STACK = "AgentJobs"
CONTEXT = {
    "aws:cdk:bundling-stacks": [],  # no pip install in unit tests
    "aws:cdk:enable-path-metadata": True,  # what the CDK CLI turns on: resources carry their construct path
}


def _synthesize(outdir: Path) -> dict[str, Any]:
    """Run the app's entry point; keep the error (e.g. an unacknowledged nag finding) for the tests."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "CDK_CONTEXT_JSON"}}
    env |= {
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(CONTEXT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, "infra/app.py"], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    return {"error": f"{result.stdout}\n{result.stderr}" if result.returncode else None}


@dataclass(frozen=True)
class Synth:
    outdir: Path
    error: str | None

    def annotations(self, stack: str = DEV_STACK) -> list[dict[str, Any]]:
        """Warnings and errors CDK attached to constructs (``Annotations.of(...)``)."""
        metadata = json.loads((self.outdir / f"{stack}.metadata.json").read_text())
        return [
            {"path": path, **entry}
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] in {"aws:cdk:warning", "aws:cdk:error"}
        ]

    def template(self, stack: str = DEV_STACK) -> dict[str, Any]:
        template: dict[str, Any] = json.loads((self.outdir / f"{stack}.template.json").read_text())
        return template

    def validation_report(self) -> dict[str, Any]:
        path = self.outdir / "validation-report.json"
        report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"pluginReports": []}
        return report


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Synth:
    shared = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # a pytest-xdist worker: the parent folder is shared
        shared = shared.parent
    outdir = shared / "infra-cdk.out"
    summary_file = shared / "infra-synth.json"
    with (shared / "infra-synth.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not summary_file.exists():
            summary_file.write_text(json.dumps(_synthesize(outdir)))
    summary = json.loads(summary_file.read_text())
    return Synth(outdir=outdir, error=summary["error"])


@pytest.fixture(scope="session")
def template(synth: Synth) -> dict[str, Any]:
    if synth.error:
        pytest.fail(f"synth failed:\n{synth.error}")
    return synth.template(DEV_STACK)


@pytest.fixture(scope="session")
def prod_template() -> dict[str, Any]:
    """The constructs ``prod`` changes (tables, user pool, secret), synthesized alone with prod on."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.app import cdk_json_context
    from infra.auth import Auth
    from infra.config import StackConfig
    from infra.judge_secret import JudgeSecret
    from infra.tables import Tables

    app = cdk.App(context={**cdk_json_context(), **CONTEXT})
    stack = cdk.Stack(app, "Prod")
    config = StackConfig(prod=True)
    Tables(stack, "Tables", config=config)
    Auth(stack, "Auth", config=config, callback_urls=["https://example.com/admin"])
    JudgeSecret(stack, "Secrets", config=config)
    prod: dict[str, Any] = Template.from_stack(stack).to_json()
    return prod
