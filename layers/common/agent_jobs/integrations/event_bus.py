"""Job events onto the EventBridge bus ``agent-jobs-events`` (DESIGN.md §15), where operators route them
anywhere: ``source`` = ``agent-jobs``, ``detail-type`` = the event's type, ``detail`` = the event."""

from __future__ import annotations

import json

from agent_jobs.integrations.aws import client
from agent_jobs.models.job_events import Event
from agent_jobs.settings import get_settings

SOURCE = "agent-jobs"
MAX_ENTRIES = 10  # PutEvents takes at most ten entries a call


class PublishFailed(RuntimeError):
    """EventBridge refused some entries (throttled, internal error): the stream record is tried again."""


def publish(events: list[Event]) -> None:
    """Puts ``events`` on the bus, in order; raises :class:`PublishFailed` if any entry was not taken."""
    bus = get_settings().events_bus_name
    for start in range(0, len(events), MAX_ENTRIES):
        entries = [
            {
                "Source": SOURCE,
                "DetailType": event.type.value,
                "Detail": json.dumps(event.to_api(), separators=(",", ":")),
                "EventBusName": bus,
            }
            for event in events[start : start + MAX_ENTRIES]
        ]
        answer = client("events").put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            errors = {entry.get("ErrorCode") for entry in answer.get("Entries", []) if entry.get("ErrorCode")}
            raise PublishFailed(
                f"EventBridge took {len(entries) - answer['FailedEntryCount']} of {len(entries)}: {errors}"
            )
