"""Lambda's DynamoDB-stream pollers, played locally for every ``catalog.STREAMS`` entry: read the table's stream
in order, hand ``BatchSize`` records at a time to the consumer as a stream event, and move on only past what
succeeded. A batch the consumer reports failed (``batchItemFailures``) is read again from the failed record; one
that raises is halved until the failing record is alone (``BisectBatchOnFunctionError``); a record that still
fails after ``retry_attempts`` tries is logged and skipped (in the cloud: the on-failure queue).

moto keeps the stream's records but never invokes anything from them (no event source mapping is made for a
stream in moto: its table would try to run the function on every write); this module is that mapping.
``StreamReader`` is also what the integration tests read the streams with.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from agent_jobs.catalog import STREAMS, StreamSpec
from local import console, lambda_runtime
from local.lambda_runtime import handled_prefix, stream_event

POLL_SECONDS = 0.25  # Lambda polls a stream shard about four times a second
SHARDS_REFRESH_SECONDS = 10.0
RETRY_MAX_SECONDS = 30.0
STREAM_MAX_RECORDS = 1000  # GetRecords' limit
log = console.get("streams")
Invoke = Callable[[str, dict[str, Any]], Any]


def streams_client(session: boto3.session.Session, endpoint_url: str | None) -> Any:
    """A DynamoDB Streams client on the service's regional endpoint. botocore ≥ 1.44 sends a call that names a
    stream ARN to ``<account>.streams-ddb.<region>.amazonaws.com``, an endpoint moto 5.2.5 does not know (404
    "Not yet implemented"); the regional one answers the same on AWS."""
    return session.client(
        "dynamodbstreams", endpoint_url=endpoint_url, config=Config(account_id_endpoint_mode="disabled")
    )


class StreamReader:
    """One table's stream from its oldest record, as Lambda's poller reads it: ``read`` returns records from
    the current position without moving it; ``advance`` moves past the records that were handled. Shard
    iterators are kept from one read to the next (moto makes a new one on every call that asks for one)."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str) -> None:
        self.streams = streams
        self.table_name = table_name
        self.stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterator: dict[str, str] = {}  # shard → the iterator at the current position
        self._next: dict[str, str] = {}  # shard → the iterator after the last read's records
        self._read: dict[str, int] = {}  # shard → how many records the last read returned
        self._shards: list[str] = []
        self._shards_read_at = -SHARDS_REFRESH_SECONDS

    def shards(self) -> list[str]:
        if time.monotonic() - self._shards_read_at >= SHARDS_REFRESH_SECONDS:
            description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
            self._shards = [shard["ShardId"] for shard in description.get("Shards", [])]
            self._shards_read_at = time.monotonic()
        return self._shards

    def _iterator_at(self, shard: str, **position: str) -> str:
        iterator: str = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, **position)[
            "ShardIterator"
        ]
        return iterator

    def read(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records from the current position, each as a stream event's record."""
        records: list[dict[str, Any]] = []
        for shard in self.shards():
            if shard not in self._iterator:
                self._iterator[shard] = self._iterator_at(shard, ShardIteratorType="TRIM_HORIZON")
            got = self.streams.get_records(
                ShardIterator=self._iterator[shard], Limit=min(limit - len(records), STREAM_MAX_RECORDS)
            )
            found = got.get("Records", [])
            self._next[shard], self._read[shard] = got["NextShardIterator"], len(found)
            records += [{**record, "eventSourceARN": self.stream_arn, "shardId": shard} for record in found]
            if len(records) >= limit:
                break
        return records

    def advance(self, handled: list[dict[str, Any]]) -> None:
        """Past every record of ``handled`` (a prefix, per shard, of what ``read`` returned)."""
        for shard in {record["shardId"] for record in handled}:
            done = [record for record in handled if record["shardId"] == shard]
            if len(done) == self._read.get(shard):
                self._iterator[shard] = self._next[shard]
            else:
                last = done[-1]["dynamodb"]["SequenceNumber"]
                self._iterator[shard] = self._iterator_at(
                    shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=last
                )
        for shard, count in self._read.items():  # a shard with nothing to handle: on to what comes next
            if count == 0 and shard in self._next:
                self._iterator[shard] = self._next[shard]


class _StreamPoller:
    def __init__(self, spec: StreamSpec, reader: StreamReader, stopping: threading.Event, invoke: Invoke) -> None:
        self.spec = spec
        self.reader = reader
        self.stopping = stopping
        self.invoke = invoke
        self.batch_size = spec.batch_size
        self.tries: dict[str, int] = {}  # a failing record's sequence number → its tries so far
        self.thread = threading.Thread(target=self._loop, name=f"stream-{reader.table_name}", daemon=True)

    def _loop(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            if not lambda_runtime.available(self.spec.consumer):
                continue
            try:
                while self.poll_once() and not self.stopping.is_set():
                    pass
            except Exception as exc:
                if not self.stopping.is_set():
                    log.warning("reading the stream of %s failed: %s", self.reader.table_name, exc)

    def poll_once(self) -> bool:
        """One batch to the consumer; True when there may be more to read at once."""
        records = self.reader.read(self.batch_size)
        if not records:
            self.reader.advance([])
            return False
        try:
            result = self.invoke(self.spec.consumer, stream_event(records))
        except Exception:
            log.error(
                "%s raised on a batch of %s:\n%s", self.spec.consumer, self.reader.table_name, traceback.format_exc()
            )
            if len(records) > 1:
                self.batch_size = max(1, len(records) // 2)  # bisect: find the record that fails
                return True
            handled: list[dict[str, Any]] = []
        else:
            handled = handled_prefix(records, result)
        self.reader.advance(handled)
        self.batch_size = self.spec.batch_size if handled == records else self.batch_size
        if handled != records:
            failing = records[len(handled)]
            sequence = failing["dynamodb"]["SequenceNumber"]
            self.tries[sequence] = self.tries.get(sequence, 0) + 1
            if self.tries[sequence] > self.spec.retry_attempts:
                log.error(
                    "%s: record %s failed %d times: skipped", self.reader.table_name, sequence, self.tries[sequence]
                )
                self.reader.advance([failing])
                self.tries.pop(sequence)
            self.stopping.wait(min(RETRY_MAX_SECONDS, POLL_SECONDS * 2 ** self.tries.get(sequence, 0)))
            return False  # then try the failing record again
        return True


class StreamPollers:
    """Every stream of ``catalog.STREAMS``, each polled in its own thread."""

    def __init__(self, *, region: str, endpoint_url: str | None, table_names: dict[str, str]) -> None:
        session = boto3.session.Session(region_name=region)
        dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        streams = streams_client(session, endpoint_url)
        self.stopping = threading.Event()
        self.pollers = [
            _StreamPoller(
                spec, StreamReader(dynamodb, streams, table_names[spec.table]), self.stopping, lambda_runtime.invoke
            )
            for spec in STREAMS
        ]

    def start(self) -> StreamPollers:
        for poller in self.pollers:
            poller.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self.stopping.set()
        for poller in self.pollers:
            poller.thread.join(max(0.0, deadline - time.monotonic()))
