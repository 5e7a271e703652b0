"""Issue 16's list indexes in the template: the owner's status index, the tag entries' table, and who may use
them. Each index is a write per job, so the jobs table's set of indexes is pinned: a new one is a decision."""

from __future__ import annotations

from typing import Any

from infra.lambdas import function_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, as_list, by_path, logical_id, of_type, ref


def _keys(key_schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in key_schema}


def _table(template: dict[str, Any], setting: str) -> dict[str, Any]:
    props: dict[str, Any] = by_path(template, f"Tables/{table_id(setting)}/Resource")[1]["Properties"]
    return props


def test_the_jobs_table_has_a_keys_only_owner_status_index(template: dict[str, Any]) -> None:
    indexes = {gsi["IndexName"]: gsi for gsi in _table(template, "jobs_table")["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_user", "by_status", "by_creation", "by_user_phase"}
    phase = indexes["by_user_phase"]
    assert _keys(phase["KeySchema"]) == {"HASH": "user_phase", "RANGE": "created_at"}
    assert phase["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    for name in ("by_user", "by_creation"):  # written once per job: no projected attribute to rewrite
        assert indexes[name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_the_job_tags_table_is_keyed_for_newest_first_ranges(template: dict[str, Any]) -> None:
    props = _table(template, "job_tags_table")
    assert _keys(props["KeySchema"]) == {"HASH": "tag_key", "RANGE": "created_id"}
    assert "GlobalSecondaryIndexes" not in props and "StreamSpecification" not in props
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def _actions_on(template: dict[str, Any], function: str, resource: Any) -> set[str]:
    role = ref(logical_id(template, f"Functions/{function_id(function)}Role/Resource"))
    return {
        action
        for policy in of_type(template, "AWS::IAM::Policy").values()
        if role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if resource in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def test_the_jobs_api_writes_and_queries_the_tag_entries_and_the_workers_do_not(template: dict[str, Any]) -> None:
    tags = arn(logical_id(template, f"Tables/{table_id('job_tags_table')}/Resource"))
    assert {"dynamodb:BatchWriteItem", "dynamodb:Query"} <= _actions_on(template, "create_job", tags)
    assert _actions_on(template, "execute_job", tags) == set()  # least privilege: it never creates a job
