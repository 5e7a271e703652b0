"""Shared pydantic configuration and helpers for entities and API models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
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


MAX_JSON_DEPTH = 32  # nesting levels any JSON we accept may have (request bodies, agent answers, callbacks)


class TooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_JSON_DEPTH` (or too deep for the parser itself)."""


def json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` unchanged, or :class:`TooDeep` when it nests deeper than ``limit``."""
    if json_depth(value) > limit:
        raise TooDeep(f"JSON is nested deeper than {limit} levels")
    return value


def loads_bounded(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``limit`` with :class:`TooDeep` (never RecursionError)."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise TooDeep(f"JSON is nested deeper than {limit} levels") from exc
    return check_depth(value, limit)


# Every id the API takes (job, agent, checkpoint): far inside DynamoDB's key limit.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"


class RequestModel(ApiModel):
    """An API request body: JSON types as documented (``"5"`` or ``true`` is not a number, ``1`` not a
    boolean), so the OpenAPI schema and what is accepted agree. Enum members need ``Field(strict=False)``
    (strict mode takes enum instances only, and a JSON body holds strings)."""

    model_config = ConfigDict(strict=True)


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer member of a RequestModel: JSON Schema counts 42.0 as an integer, so it is taken (as 42); strictness
# still refuses true and "42".
JsonInt = Annotated[int, BeforeValidator(_integral)]
# The same for an optional member: `JsonInt | None` would leave Field(ge=..) out of the schema as a stray "ge".
OptionalJsonInt = Annotated[int | None, BeforeValidator(_integral)]


def _storable(value: float) -> float:
    return round(value, 9)


# A float member stored as a DynamoDB number: DynamoDB refuses magnitudes under 1e-130 (a JSON body may hold
# 5e-324), so it keeps 9 decimals (a score or a threshold means nothing finer).
DynamoFloat = Annotated[float, AfterValidator(_storable)]
