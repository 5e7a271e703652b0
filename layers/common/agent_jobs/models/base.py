"""Shared pydantic configuration and helpers for entities and API models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds: sorts as text in time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def json_size(value: Any) -> int:
    """Bytes of the compact JSON encoding: what a JSON field costs in an item."""
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())
