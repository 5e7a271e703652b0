"""One Logger and Tracer for the whole package (Powertools).

Metrics have one path of their own, ``metrics_catalog.emit``: each metric event is one EMF document with the
dimension sets its catalog entry declares, written when it happens. A shared Powertools ``Metrics`` object
flushed by ``@metrics.log_metrics`` cannot carry that: one document has one value per dimension name (a
batch's jobs of two types, the gauges of five statuses) and one set of dimension sets for all its metrics;
it is process-wide state that concurrent batch records would mix; and a decorator nobody feeds only warns
"No application metrics to publish" on every invocation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

SERVICE = "agent-jobs"
NAMESPACE = "AgentJobs"  # the metrics' namespace (infra/ reads it here)


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class NoTracing(BaseProvider):
    """The Tracer's provider where nothing is traced. Powertools' default provider is the X-Ray SDK's recorder,
    which it imports even when tracing is disabled: alone, ``aws_xray_sdk.core`` imports in about the time of
    boto3; in a handler, where botocore is already loaded, it added ~20 ms (5 %) that the untraced functions
    (and the tests) paid for nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AbstractAsyncContextManager[BaseSegment]:
        @asynccontextmanager
        async def segment() -> Any:
            yield _NoSegment()

        return segment()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


class LazyXRay(BaseProvider):
    """The X-Ray SDK's recorder, imported on the first traced call instead of at import (a cold start's import
    of ``aws_xray_sdk.core`` and of everything ``patch_all`` patches is paid when the first invocation runs).

    Powertools' Tracer calls ``patch_all`` while it is built; here that call is remembered and made when the
    recorder loads, before the first subsegment opens. X-Ray patches classes (botocore's client, http.client,
    httpx's transports), and the clients here are made lazily anyway, so nothing made before it goes
    untraced. What Powertools does for its own X-Ray provider is done on load too: the SDK's patch functions,
    and ``streaming_threshold=0`` (each subsegment sent on its own)."""

    def __init__(self) -> None:
        self._recorder: Any = None
        self._patches: list[Sequence[str] | None] = []  # None: patch_all
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._recorder is not None

    def recorder(self) -> Any:
        if self._recorder is None:
            with self._lock:
                if self._recorder is None:
                    from aws_xray_sdk import core

                    core.xray_recorder.configure(streaming_threshold=0)
                    for modules in self._patches:
                        _patch(core, modules)
                    self._recorder = core.xray_recorder
        return self._recorder

    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Any:
        return self.recorder().in_subsegment(name=name, **kwargs)

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        return self.recorder().in_subsegment_async(name=name, **kwargs)

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorder().put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.recorder().put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        self._defer(tuple(modules))

    def patch_all(self) -> None:
        self._defer(None)

    def _defer(self, modules: Sequence[str] | None) -> None:
        if self._recorder is None:
            self._patches.append(modules)
            return
        from aws_xray_sdk import core

        _patch(core, modules)


def _patch(core: Any, modules: Sequence[str] | None) -> None:
    if modules is None:
        core.patch_all()
    else:
        core.patch(modules)


def tracing_disabled() -> bool:
    """Outside Lambda, or where the function says so (``catalog.TRACE_DISABLED_ENV``): Powertools' own rule,
    asked before a Tracer is built, since building one with the default provider loads the SDK."""
    return bool(Tracer._is_tracer_disabled())


logger = Logger(service=SERVICE)
tracer = (
    Tracer(service=SERVICE, disabled=True, provider=NoTracing())
    if tracing_disabled()
    else Tracer(service=SERVICE, provider=LazyXRay())
)
