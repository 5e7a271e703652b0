"""Every function of catalog.FUNCTIONS: arm64, the runtime, the shared layer, its own role, logs, env."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS, QUEUES
from agent_jobs.repositories.tables import TABLES
from infra import constants as c
from infra.lambdas import function_id
from infra.queues import construct_id as queue_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, by_path, logical_id, of_type, ref


def function(template: dict[str, Any], name: str) -> dict[str, Any]:
    return by_path(template, f"Functions/{function_id(name)}/Resource")[1]["Properties"]


def test_exactly_the_catalog_functions(template: dict[str, Any]) -> None:
    assert len(of_type(template, "AWS::Lambda::Function")) == len(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_shape(template: dict[str, Any], name: str) -> None:
    spec = FUNCTIONS[name]
    props = function(template, name)
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    if spec.traced:
        assert props["TracingConfig"] == {"Mode": "Active"}
    else:  # no X-Ray, and Powertools' Tracer told so (it would look for a segment Lambda never opens)
        assert "TracingConfig" not in props or props["TracingConfig"] == {"Mode": "PassThrough"}
        assert props["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert props["Layers"] == [ref(logical_id(template, "Functions/CommonLayer/Resource"))]
    assert props["Role"] == arn(logical_id(template, f"Functions/{function_id(name)}Role/Resource"))
    log_group = logical_id(template, f"Functions/{function_id(name)}Logs/Resource")
    assert props["LoggingConfig"] == {"LogGroup": ref(log_group)}
    assert template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_environment(template: dict[str, Any], name: str) -> None:
    env = function(template, name)["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "agent-jobs"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "AgentJobs"
    assert env["OPENAI_MODEL"] == c.DEFAULT_OPENAI_MODEL
    assert env["CHECKPOINT_STATE_MACHINE_ARN"] == ref(logical_id(template, "Workflow/CheckpointWait/Resource"))
    for setting in TABLES:
        assert env[setting.upper()] == ref(logical_id(template, f"Tables/{table_id(setting)}/Resource"))
    for spec in QUEUES:
        queue = logical_id(template, f"Queues/{queue_id(spec.key)}/Resource")
        assert env[spec.setting.upper()] == ref(queue)


def test_function_specific_environment(template: dict[str, Any]) -> None:
    validate = function(template, "validate")["Environment"]["Variables"]
    assert "OPENAI_API_KEY_SECRET_NAME" in validate
    metrics = function(template, "metrics")["Environment"]["Variables"]
    assert metrics["EXECUTE_FUNCTION_NAME"] == ref(logical_id(template, "Functions/ExecuteJob/Resource"))
    checkpoints = function(template, "checkpoints")["Environment"]["Variables"]
    assert checkpoints["ADMIN_USER_POOL_ID"] == ref(logical_id(template, "Auth/UserPool/Resource"))
    assert checkpoints["ADMIN_CLIENT_ID"] == ref(logical_id(template, "Auth/UserPool/AppClient/Resource"))
    assert "ADMIN_COGNITO_DOMAIN" in checkpoints
    for name in set(FUNCTIONS) - {"validate"}:
        assert "OPENAI_API_KEY_SECRET_NAME" not in function(template, name)["Environment"]["Variables"]


def test_one_shared_layer(template: dict[str, Any]) -> None:
    (layer,) = of_type(template, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_no_aws_managed_policies_on_function_roles(template: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        role = by_path(template, f"Functions/{function_id(name)}Role/Resource")[1]
        assert "ManagedPolicyArns" not in role["Properties"]
