"""Every function may make exactly the Step Functions calls its code makes: cancel stops executions and ends
checkpoint waits (create_job), request-changes starts the next attempt (checkpoints). A missing grant only
shows on AWS — moto does not check IAM — so it is asserted here, from the synthesized roles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.lambdas import function_id
from infra.permissions import ACCESS
from tests.infra.helpers import as_list, of_type


def _states_grants(template: dict[str, Any], function: str) -> dict[str, str]:
    """action → the kind of resource it is granted on ("stateMachine" or "execution")."""
    role = f"{function_id(function)}Role"
    grants: dict[str, str] = {}
    for resource in of_type(template, "AWS::IAM::Policy").values():
        if not any(role in json.dumps(r) for r in as_list(resource["Properties"].get("Roles"))):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                if action.startswith("states:"):
                    target = json.dumps(statement["Resource"])
                    grants[action] = "execution" if ":execution:" in target else "stateMachine"
    return grants


@pytest.mark.parametrize("function", sorted(ACCESS))
def test_step_functions_grants_follow_the_matrix(template: dict[str, Any], function: str) -> None:
    access = ACCESS[function]
    expected = {action: "stateMachine" for action in access.state_machine_actions}
    expected.update({action: "execution" for action in access.execution_actions})
    assert _states_grants(template, function) == expected


def test_cancel_and_request_changes_have_their_grants() -> None:
    assert "states:StopExecution" in ACCESS["create_job"].execution_actions
    assert "states:SendTaskFailure" in ACCESS["create_job"].state_machine_actions
    assert "states:StartExecution" in ACCESS["checkpoints"].state_machine_actions
    assert set(ACCESS["checkpoints"].send_to) >= {"execute", "execute-high"}  # changes requested: the next attempt


def test_who_starts_and_who_ends_a_checkpoint_wait() -> None:
    """Step Functions runs the human waits only: the functions that move a job to a checkpoint start its wait (an
    answer reviewed before the judge, a pass reviewed before completion, an approval with a next stage, the
    sweeper delivering that approval); the ones that decide end it. Nobody starts a job's whole life any more."""
    starts = {name for name, access in ACCESS.items() if "states:StartExecution" in access.state_machine_actions}
    assert starts == {"execute_job", "validate", "checkpoints", "metrics"}
    for name in ("checkpoints", "metrics"):  # approvals and their late delivery
        assert {"states:SendTaskSuccess", "states:SendTaskFailure"} <= set(ACCESS[name].state_machine_actions)
    for name in ("execute_job", "validate"):  # no step of theirs holds a task token
        assert ACCESS[name].state_machine_actions == ("states:StartExecution",)
