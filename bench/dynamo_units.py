"""DynamoDB on-demand request units from item sizes (moto's ConsumedCapacity is a constant, so not used).

The model (AWS documentation, "Item sizes and formats", "Read/write capacity mode", "GSI throughput"):

- item size: attribute name bytes + value bytes; strings UTF-8; numbers ~1 byte per 2 significant digits + 1;
  binary raw bytes; booleans and nulls 1 byte; lists and maps 3 bytes + 1 byte per element + the elements
  (map keys count); sets the sum of their elements.
- writes: ceil(max(size before, size after) / 1 KB) write units, at least 1; a failed conditional write still
  costs the units of the item it checked; in ``TransactWriteItems`` every item (ConditionCheck included)
  costs twice that.
- every global secondary index the write touches: 1 write when an item enters or leaves the index, 2 when an
  index key changes (delete + put), 1 when only a projected attribute changes, 0 when nothing the index holds
  changed; each write ceil(index entry / 1 KB) units, the entry being the table keys + index keys + projected
  attributes. Index writes of a transaction are counted once (asynchronous propagation, not part of the
  two-phase commit).
- reads: ceil(total size read / 4 KB) units per GetItem or per Query page (a Query pays for every item its key
  condition read, before any filter), at least 1; half for eventually consistent reads (every GSI read);
  BatchGetItem rounds each item up on its own; TransactGetItems costs twice.
- storage: item size + 100 bytes per table item and per index entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB
STORAGE_OVERHEAD_BYTES = 100

Item = dict[str, Any]  # DynamoDB JSON: {"name": {"S": "..."}}


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in raw)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in raw.items())
    if kind == "SS":
        return sum(len(str(element).encode()) for element in raw)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in raw)
    if kind == "BS":
        return sum(len(element) for element in raw)
    raise ValueError(f"unknown DynamoDB type {kind}")


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(max(1, len(digits)) / 2) + 1


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = field(default=())

    @classmethod
    def from_description(cls, table: dict[str, Any]) -> TableSchema:
        def key_names(schema: Iterable[dict[str, str]]) -> tuple[str, ...]:
            ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
            return tuple(k["AttributeName"] for k in ordered)

        indexes = tuple(
            Index(
                name=gsi["IndexName"],
                keys=key_names(gsi["KeySchema"]),
                projection=gsi["Projection"]["ProjectionType"],
                non_key=tuple(gsi["Projection"].get("NonKeyAttributes", ())),
            )
            for gsi in table.get("GlobalSecondaryIndexes", [])
        )
        return cls(table["TableName"], key_names(table["KeySchema"]), indexes)

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys}

    def index_entry(self, index: Index, item: Item | None) -> Item | None:
        """What ``index`` holds for ``item``: None when the item lacks an index key (not in the index)."""
        if item is None or any(name not in item for name in index.keys):
            return None
        if index.projection == "ALL":
            return dict(item)
        names = set(self.keys) | set(index.keys)
        if index.projection == "INCLUDE":
            names |= set(index.non_key)
        return {name: value for name, value in item.items() if name in names}


@dataclass
class WriteUnits:
    table: float = 0.0
    indexes: float = 0.0

    def __iadd__(self, other: WriteUnits) -> WriteUnits:
        self.table += other.table
        self.indexes += other.indexes
        return self


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def write_units(
    schema: TableSchema, old: Item | None, new: Item | None, *, action: str, transactional: bool, failed: bool
) -> WriteUnits:
    factor = 2 if transactional else 1
    if failed or action == "ConditionCheck":
        return WriteUnits(table=_write_units(item_size(old)) * factor)
    size = item_size(old) if action == "Delete" else max(item_size(old), item_size(new))
    units = WriteUnits(table=_write_units(size) * factor)
    for index in schema.indexes:
        before, after = schema.index_entry(index, old), schema.index_entry(index, new)
        if before is None and after is None:
            continue
        if before is None or after is None:
            units.indexes += _write_units(item_size(before or after))
        elif any(before.get(name) != after.get(name) for name in index.keys):
            units.indexes += _write_units(item_size(before)) + _write_units(item_size(after))
        elif before != after:
            units.indexes += _write_units(max(item_size(before), item_size(after)))
    return units


def _read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_UNIT_BYTES)) * (1.0 if consistent else 0.5)


def read_units(
    operation: str, params: dict[str, Any], response: dict[str, Any], schema: Callable[[str], TableSchema]
) -> float:
    """Read units of one read request (0 for the control plane: DescribeTable and the like)."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return _read_units(item_size(response.get("Item")), consistent)
    if operation in ("Query", "Scan"):
        items = response.get("Items") or []
        size = sum(item_size(item) for item in items)
        count, scanned = response.get("Count", len(items)), response.get("ScannedCount", len(items))
        if scanned > count:  # filtered out: paid for, not returned — assume the returned items' average size
            size = int(size / count * scanned) if count else scanned * 100
        return _read_units(size, consistent and not params.get("IndexName"))
    if operation == "BatchGetItem":
        total = 0.0
        for table, items in (response.get("Responses") or {}).items():
            table_consistent = bool((params.get("RequestItems") or {}).get(table, {}).get("ConsistentRead"))
            total += sum(_read_units(item_size(item), table_consistent) for item in items)
        return total
    if operation == "TransactGetItems":
        return sum(2 * _read_units(item_size(entry.get("Item")), True) for entry in response.get("Responses") or [])
    return 0.0


def storage_bytes(schema: TableSchema, items: Iterable[Item]) -> int:
    """Billable storage of ``items`` in their table and its indexes."""
    total = 0
    for item in items:
        total += item_size(item) + STORAGE_OVERHEAD_BYTES
        for index in schema.indexes:
            entry = schema.index_entry(index, item)
            if entry is not None:
                total += item_size(entry) + STORAGE_OVERHEAD_BYTES
    return total
