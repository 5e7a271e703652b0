"""DynamoDB tables, built from the PynamoDB models (``agent_jobs.repositories.tables``): one list of keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from agent_jobs.catalog import STREAMS
from agent_jobs.repositories.tables import TABLES, table_schema, ttl_attribute
from infra import constants as c
from infra.config import StackConfig

READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)


@dataclass(frozen=True)
class DeployedTable:
    setting: str  # the Settings field, e.g. "jobs_table"; its env var is the upper-cased name
    table: dynamodb.Table
    index_names: tuple[str, ...]

    @property
    def env_name(self) -> str:
        return c.env_name(self.setting)

    def arns(self) -> list[str]:
        """The table and each of its indexes by name: no ``index/*`` wildcard in any policy."""
        return [self.table.table_arn, *(f"{self.table.table_arn}/index/{name}" for name in self.index_names)]


def construct_id(setting: str) -> str:
    """``job_logs_table`` -> ``JobLogs``."""
    return "".join(part.title() for part in setting.removesuffix("_table").split("_"))


def _key(schema: list[dict[str, str]], key_type: str, types: dict[str, str]) -> dynamodb.Attribute | None:
    for key in schema:
        if key["KeyType"] == key_type:
            name = key["AttributeName"]
            return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
    return None


def _hash_key(schema: list[dict[str, str]], types: dict[str, str]) -> dynamodb.Attribute:
    key = _key(schema, "HASH", types)
    if key is None:
        raise ValueError(f"no HASH key in {schema}")
    return key


_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class Tables(Construct):
    """On-demand, point-in-time recovery, AWS-managed encryption, deletion protection in prod; a stream (new and
    old images) on the tables of ``catalog.STREAMS``; time to live where the model has a ``TTLAttribute``."""

    def __init__(self, scope: Construct, construct_id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id_)
        self.by_setting: dict[str, DeployedTable] = {}
        streamed = {spec.table for spec in STREAMS}
        for setting, model in TABLES.items():
            schema: dict[str, Any] = table_schema(model)
            types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
            table = dynamodb.Table(
                self,
                construct_id(setting),
                partition_key=_hash_key(schema["key_schema"], types),
                sort_key=_key(schema["key_schema"], "RANGE", types),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=config.prod,
                removal_policy=config.removal_policy,
                stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if setting in streamed else None,
                time_to_live_attribute=ttl_attribute(model),
            )
            indexes: list[str] = []
            for gsi in schema.get("global_secondary_indexes", []):
                projection = gsi["projection"]
                table.add_global_secondary_index(
                    index_name=gsi["index_name"],
                    partition_key=_hash_key(gsi["key_schema"], types),
                    sort_key=_key(gsi["key_schema"], "RANGE", types),
                    projection_type=dynamodb.ProjectionType[projection["ProjectionType"]],
                    non_key_attributes=projection.get("NonKeyAttributes"),
                )
                indexes.append(gsi["index_name"])
            if schema.get("local_secondary_indexes"):
                raise NotImplementedError(f"{setting}: local secondary indexes are not deployed by infra/")
            self.by_setting[setting] = DeployedTable(setting, table, tuple(indexes))

    def __getitem__(self, setting: str) -> DeployedTable:
        return self.by_setting[setting]

    def environment(self) -> dict[str, str]:
        return {deployed.env_name: deployed.table.table_name for deployed in self.by_setting.values()}

    def grant(self, grantee: iam.IGrantable, read: Iterable[str], write: Iterable[str]) -> None:
        """Item-level access to the named tables (Settings fields) and their indexes, nothing else."""
        readable, writable = set(read), set(write)
        for setting in sorted(readable | writable):
            actions = list(READ_ACTIONS) + (list(WRITE_ACTIONS) if setting in writable else [])
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(actions=actions, resources=self[setting].arns())
            )
