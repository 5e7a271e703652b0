"""The shared Lambda layer, bundled on this machine (no docker): pinned wheels for the target + agent_jobs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from infra import constants as c


@jsii.implements(cdk.ILocalBundling)
class LocalLayerBundling:
    """``pip install`` the layer's pinned requirements for Lambda's platform, then copy the package.

    Uses the interpreter running the CDK app, with ``--platform/--only-binary`` so the wheels are the
    ones Lambda (manylinux, arm64, CPython 3.12) needs, whatever this machine is.
    """

    def __init__(
        self,
        source: Path = c.LAYER_DIR,
        *,
        package: str = c.LAYER_PACKAGE,
        platform: str = c.PIP_PLATFORM,
        python_version: str = c.PYTHON_VERSION,
    ) -> None:
        self.source = source
        self.package = package
        self.platform = platform
        self.python_version = python_version

    def pip_command(self, target: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(self.source / "requirements.txt"),
            "-t",
            str(target),
            "--platform",
            self.platform,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
        ]

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        target = Path(output_dir) / "python"
        result = subprocess.run(self.pip_command(target), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"layer bundling: pip install failed\n{result.stdout}\n{result.stderr}")
        shutil.copytree(
            self.source / self.package,
            target / self.package,
            ignore=shutil.ignore_patterns(*c.ASSET_EXCLUDE),
            dirs_exist_ok=True,
        )
        return True


def layer_code() -> lambda_.Code:
    """The layer's asset. Hashed from the source (requirements are pinned), so an unchanged tree
    is not rebuilt or re-uploaded; unit tests skip the bundling with the ``aws:cdk:bundling-stacks`` context."""
    return lambda_.Code.from_asset(
        str(c.LAYER_DIR),
        exclude=c.ASSET_EXCLUDE,
        asset_hash_type=cdk.AssetHashType.SOURCE,
        bundling=cdk.BundlingOptions(
            image=c.RUNTIME.bundling_image,  # required by the API, never used
            local=LocalLayerBundling(),
        ),
    )
