"""The entry point and the layer's local bundling (without running pip)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from infra.bundling import LocalLayerBundling

ROOT = Path(__file__).resolve().parents[2]


def test_pip_targets_lambda_arm64_python312(tmp_path: Path) -> None:
    command = LocalLayerBundling().pip_command(tmp_path / "python")
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp" in joined
    assert "--python-version 3.12" in joined
    assert "--only-binary=:all:" in joined
    assert f"-r {c.LAYER_REQUIREMENTS}" in joined
    assert f"-t {tmp_path / 'python'}" in joined


def test_requirements_are_pinned() -> None:
    for raw in c.LAYER_REQUIREMENTS.read_text().splitlines():
        requirement = raw.split("#")[0].strip()
        if requirement:
            assert "==" in requirement, requirement


def test_bundle_copies_the_package_without_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src"
    (source / "agent_jobs" / "__pycache__").mkdir(parents=True)
    (source / "agent_jobs" / "__init__.py").write_text("")
    (source / "agent_jobs" / "__pycache__" / "x.cpython-312.pyc").write_text("")
    (source / "requirements.txt").write_text("")
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    out = tmp_path / "out"
    assert LocalLayerBundling(source).try_bundle(str(out)) is True
    assert (out / "python" / "agent_jobs" / "__init__.py").exists()
    assert not (out / "python" / "agent_jobs" / "__pycache__").exists()
    assert calls and "-t" in calls[0]


def test_bundle_reports_pip_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        subprocess, "run", lambda command, **_: subprocess.CompletedProcess(command, 1, "", "no such wheel")
    )
    with pytest.raises(RuntimeError, match="no such wheel"):
        LocalLayerBundling().try_bundle(str(tmp_path))


def test_cdk_json_runs_the_app_and_carries_the_flags() -> None:
    config = json.loads((ROOT / "cdk.json").read_text())
    assert config["app"] == "python3 infra/app.py"
    assert config["output"] == "cdk.out"
    assert config["context"]["prod"] is False
    assert config["context"]["@aws-cdk/aws-iam:minimizePolicies"] is True


def test_app_runs_as_a_script(synth: Any) -> None:
    """The session synth is `python infra/app.py` (what `make synth` runs, here without bundling)."""
    assert synth.error is None, synth.error
    assert (synth.outdir / f"{c.STACK_ID}.template.json").exists()
    assert (synth.outdir / "manifest.json").exists()


@pytest.mark.parametrize(("given", "prod"), [("true", True), (True, True), ("false", False), (None, False)])
def test_prod_context_from_cdk_json_or_the_command_line(given: Any, prod: bool) -> None:
    import aws_cdk as cdk

    from infra.config import StackConfig

    context = {"adminCallbackUrls": "http://localhost:8000/admin, https://example.com/admin"}
    if given is not None:
        context["prod"] = given
    config = StackConfig.from_context(cdk.App(context=context).node)
    assert config.prod is prod
    assert config.extra_callback_urls == ("http://localhost:8000/admin", "https://example.com/admin")
    assert config.openai_model == c.DEFAULT_OPENAI_MODEL
