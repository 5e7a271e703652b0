"""Job templates in the template (DESIGN.md §16): their table and its keys-only listing index, and that only the
jobs API's function may touch it."""

from __future__ import annotations

from typing import Any

from agent_jobs.catalog import FUNCTIONS
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, by_path, logical_id
from tests.infra.test_registry_infra import _actions_on, _statements


def test_the_templates_table_and_its_listing_index(template: dict[str, Any]) -> None:
    props = by_path(template, f"Tables/{table_id('templates_table')}/Resource")[1]["Properties"]
    assert [key["AttributeName"] for key in props["KeySchema"]] == ["id"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_listing" and index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]} == {
        "HASH": "listing",
        "RANGE": "created_at",
    }


def test_only_the_jobs_api_reads_or_writes_templates(template: dict[str, Any]) -> None:
    table = arn(logical_id(template, f"Tables/{table_id('templates_table')}/Resource"))
    granted = {name: _actions_on(_statements(template, name), table) for name in FUNCTIONS}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"} <= granted[
        "create_job"
    ]
    assert {name for name, actions in granted.items() if actions} == {"create_job"}
