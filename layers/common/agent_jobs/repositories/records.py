"""Explicit mapping between table records and entities (never hand a table model to the API), and the one
encoding of JSON values in an item — so the bytes a value takes when stored are measured one way."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.models import Model

E = TypeVar("E", bound=BaseModel)
R = TypeVar("R", bound=Model)


def stored_json(value: Any) -> str:
    """``value`` as an item stores it: compact UTF-8 JSON. ``ensure_ascii`` (PynamoDB's default) would store
    every non-ASCII character as a 6-byte ``\\uXXXX`` escape: 210 KB of CJK text became 420 KB, over
    DynamoDB's 400 KB item. A string with a lone surrogate (valid JSON, not UTF-8) keeps its escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def stored_size(value: Any) -> int:
    """Bytes ``value`` takes in an item (0 for None: the attribute is not written)."""
    return 0 if value is None else len(stored_json(value).encode("utf-8"))


def to_entity(record: Model, entity: type[E]) -> E:
    values = {name: getattr(record, name) for name in entity.model_fields if hasattr(record, name)}
    return entity.model_validate({k: v for k, v in values.items() if v is not None})


def to_record(entity: BaseModel, record: type[R]) -> R:
    attributes = record.get_attributes()
    values: dict[str, Any] = {name: getattr(entity, name) for name in type(entity).model_fields if name in attributes}
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items() if v is not None}
    values.pop("version", None)  # a new item: PynamoDB sets the version and its condition
    return record(**values)
