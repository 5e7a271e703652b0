"""What the handlers print (Powertools JSON log lines and EMF metric lines), counted per function.

Install before ``agent_jobs`` is imported: Powertools' Logger keeps the ``sys.stdout`` it finds when the
shared logger is made. On Lambda every line of stdout is one CloudWatch Logs event.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.meter import actor


@dataclass
class LineStats:
    lines: int = 0
    bytes: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines += 1
        self.bytes += len(line.encode()) + 1
        if len(self.samples) < 3:
            self.samples.append(line)


def is_emf(line: str) -> bool:
    return line.startswith("{") and '"_aws"' in line and "CloudWatchMetrics" in line


class CapturedStdout(io.TextIOBase):
    """Swallows stdout, counting EMF and log lines (and their bytes) per actor (the function running)."""

    def __init__(self) -> None:
        super().__init__()
        self.emf: dict[str, LineStats] = defaultdict(LineStats)
        self.logs: dict[str, LineStats] = defaultdict(LineStats)
        self.metric_series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self._local = threading.local()
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        data = getattr(self._local, "pending", "") + text
        *lines, rest = data.split("\n")
        self._local.pending = rest
        who = actor.get()
        with self._lock:
            for line in lines:
                if not line.strip():
                    continue
                if is_emf(line):
                    self.emf[who].add(line)
                    self._series(line)
                else:
                    self.logs[who].add(line)
        return len(text)

    def _series(self, line: str) -> None:
        """Every (metric, dimension values) pair: CloudWatch bills each as one custom metric per month."""
        try:
            document: dict[str, Any] = json.loads(line)
        except ValueError:
            return
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                for dimensions in directive.get("Dimensions", [[]]):
                    values = tuple((name, str(document.get(name))) for name in dimensions)
                    self.metric_series.add((metric["Name"], values))

    def reset(self) -> None:
        with self._lock:
            self.emf.clear()
            self.logs.clear()

    def totals(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                "emf": {who: vars(stats).copy() for who, stats in self.emf.items()},
                "logs": {who: vars(stats).copy() for who, stats in self.logs.items()},
            }


def install() -> CapturedStdout:
    """Replaces ``sys.stdout`` (once; later calls return the same counter)."""
    if isinstance(sys.stdout, CapturedStdout):
        return sys.stdout
    captured = CapturedStdout()
    sys.stdout = captured
    return captured
