"""Counts the CPU that ``asyncio.to_thread`` workers spend for an invocation (the handlers run their
blocking AWS calls there), so a benchmark can add it to the invocation's own CPU."""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

# the list the running invocation's worker-thread CPU seconds are appended to (None: not counted)
cpu_bucket: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("bench_thread_cpu", default=None)
_original_to_thread = asyncio.to_thread


async def _timed_to_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
    bucket = cpu_bucket.get()

    def timed() -> Any:
        started = time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            if bucket is not None:
                bucket.append(time.thread_time() - started)

    return await _original_to_thread(timed)


def install() -> None:
    """Replaces ``asyncio.to_thread`` with the counting version (idempotent)."""
    module: Any = asyncio
    module.to_thread = _timed_to_thread
