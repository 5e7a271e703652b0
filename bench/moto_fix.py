"""A fix for moto 5.2.5's ``TransactWriteItems``, applied by the benchmarks (never by the product).

moto backs up every table a transaction touches with ``copy.deepcopy(table)`` before it writes, so each
transaction costs time in proportion to the size of the tables: on this platform, where every job transition
is a transaction on ``jobs`` + ``job_logs``, the emulator slows down as jobs pile up (measured: a create took
185 ms with 50 jobs stored, 430 ms with 150). This backs up only the items the transaction touches and puts
them back when it fails; what moto checks and writes is unchanged. ``python -m bench.moto_fix`` runs the local
stack's moto server (``local.moto_server``) with the fix.
"""

from __future__ import annotations

import copy
import sys
from typing import Any


class _CopyWithoutTables:
    """``copy`` as moto's DynamoDB backend module sees it: a table "deep copy" is the table itself."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)

    def copy(self, value: Any) -> Any:
        return copy.copy(value)


def install() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend: Any = models.DynamoDBBackend
    module: Any = models
    if getattr(backend, "_bench_fixed", False):
        return
    original = backend.transact_write_items
    module.copy = _CopyWithoutTables(Table)

    def touched(self: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
        saved = []
        for entry in transact_items:
            try:
                _, op = next(iter(entry.items()))
                table = self.get_table(op["TableName"])
                key = op.get("Key") or op["Item"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            except Exception:
                continue
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = touched(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                table.delete_item(hash_key, range_key)
                if item is not None:
                    if range_key is not None:
                        table.items[hash_key][range_key] = item
                    else:
                        table.items[hash_key] = item
            raise

    backend.transact_write_items = transact_write_items
    backend._bench_fixed = True


def main() -> None:
    """``local.moto_server``'s entry point, with the fix."""
    install()
    from local import moto_server

    moto_server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
