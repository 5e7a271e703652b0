"""The EventBridge schedule, played locally: the metrics function (gauges, sweeper) every N seconds."""

from __future__ import annotations

import threading
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from local import console, lambda_runtime
from local.lambda_runtime import ACCOUNT_ID

SCHEDULED_FUNCTION = "metrics"  # as infra/constants.py SCHEDULED_FUNCTION
RULE_NAME = "agent-jobs-metrics-schedule"
log = console.get("scheduler")


def scheduled_event(region: str) -> dict[str, Any]:
    """The event an EventBridge schedule rule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{RULE_NAME}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, interval_seconds: float, *, region: str, function: str = SCHEDULED_FUNCTION) -> None:
        self.interval = interval_seconds
        self.region = region
        self.function = function
        self.runs = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="schedule", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def run_once(self) -> bool:
        """One scheduled invocation; False (quietly) when the function does not exist yet."""
        if not lambda_runtime.available(self.function):
            return False
        try:
            lambda_runtime.invoke(self.function, scheduled_event(self.region))
        except lambda_runtime.FunctionUnavailable as exc:
            log.warning("scheduled %s skipped: %s", self.function, exc)
            return False
        except Exception:
            log.error("scheduled %s raised:\n%s", self.function, traceback.format_exc())
            return False
        self.runs += 1
        return True

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            self.run_once()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
