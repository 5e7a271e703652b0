"""Entry point of the CDK app: ``cdk synth`` / ``cdk deploy`` (via cdk.json) or ``python infra/app.py``.

Run as a script, the folder of this file would come first on ``sys.path`` (shadowing nothing today, but
fragile), so the repository root and ``layers/common`` (the ``agent_jobs`` package) are put there instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    sys.path[0:1] = [str(ROOT), str(ROOT / "layers" / "common")]

import aws_cdk as cdk  # noqa: E402

from infra import constants as c  # noqa: E402
from infra.config import StackConfig  # noqa: E402
from infra.nag import add_checks  # noqa: E402
from infra.stack import AgentJobsStack  # noqa: E402


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context (feature flags, defaults). The CDK CLI passes it itself; a plain
    ``python infra/app.py`` would not see it, so the app reads it: both synthesize the same template.
    Context given on the command line (``-c key=value``) still wins."""
    context: dict[str, Any] = json.loads(c.CDK_JSON.read_text()).get("context", {})
    return context


def build_app(
    context: dict[str, Any] | None = None, outdir: str | os.PathLike[str] | None = None, *, nag: bool = True
) -> tuple[cdk.App, AgentJobsStack]:
    app = cdk.App(
        context={**cdk_json_context(), **(context or {})},
        outdir=str(outdir or os.environ.get("CDK_OUTDIR") or c.DEFAULT_OUTDIR),
    )
    stack_name = str(app.node.try_get_context(c.CTX_STACK_NAME) or c.STACK_ID)
    stack = AgentJobsStack(
        app,
        stack_name,
        config=StackConfig.from_context(app.node),
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    if nag:
        add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
