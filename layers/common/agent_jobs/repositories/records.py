"""Explicit mapping between table records and entities (never hand a table model to the API)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.models import Model

E = TypeVar("E", bound=BaseModel)
R = TypeVar("R", bound=Model)


def to_entity(record: Model, entity: type[E]) -> E:
    values = {name: getattr(record, name) for name in entity.model_fields if hasattr(record, name)}
    return entity.model_validate({k: v for k, v in values.items() if v is not None})


def to_record(entity: BaseModel, record: type[R]) -> R:
    attributes = record.get_attributes()
    values: dict[str, Any] = {name: getattr(entity, name) for name in type(entity).model_fields if name in attributes}
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items() if v is not None}
    values.pop("version", None)  # a new item: PynamoDB sets the version and its condition
    return record(**values)
