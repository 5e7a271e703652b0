"""One Logger and Tracer for the whole package (Powertools), and the decorator every handler wears.

``@invocation(...)`` replaces Powertools' ``@logger.inject_lambda_context``: an INFO line carries the request id
(``function_request_id``), the correlation id where the handler names its path, and no more; the Lambda context
Powertools puts on every line (``cold_start``, ``function_name``, ``function_arn``, ``function_memory_size``,
``xray_trace_id``) is what the log group and the platform's START/REPORT lines already say, so it is written
only when the function's environment asks (``catalog.LOG_LAMBDA_CONTEXT_ENV``). It also opens the invocation's
metrics buffer (``metrics_catalog.invocation_metrics``), written when the handler returns or raises.

Metrics have one path of their own, ``metrics_catalog.emit``: each metric event carries the dimension sets its
catalog entry declares, and an invocation's events are written at its end, one EMF document per group of equal
dimensions (outside an invocation, one document per event, when it happens). A shared Powertools ``Metrics`` object
flushed by ``@metrics.log_metrics`` cannot carry that: one document has one value per dimension name (a
batch's jobs of two types, the gauges of five statuses) and one set of dimension sets for all its metrics;
it is process-wide state that concurrent batch records would mix; and a decorator nobody feeds only warns
"No application metrics to publish" on every invocation.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, TypeVar, overload

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import extract_event_from_common_models, resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from aws_lambda_powertools.utilities import jmespath_utils

from agent_jobs import metrics_catalog
from agent_jobs.catalog import LOG_LAMBDA_CONTEXT_ENV

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


# xray_trace_id=None: Powertools' formatter adds the trace id of _X_AMZN_TRACE_ID (set on every invocation, traced
# or not) to every line unless told not to; ``invocation`` puts it back when the Lambda context is asked for
logger = Logger(service=SERVICE, xray_trace_id=None)
tracer = (
    Tracer(service=SERVICE, disabled=True, provider=NoTracing())
    if tracing_disabled()
    else Tracer(service=SERVICE, provider=LazyXRay())
)


Handler = TypeVar("Handler", bound=Callable[..., Any])
_cold_start = True


def _is_cold_start() -> bool:
    """The first invocation of this container (never under provisioned concurrency): Powertools' rule."""
    global _cold_start
    cold, _cold_start = _cold_start, False
    return cold and os.getenv(constants.LAMBDA_INITIALIZATION_TYPE) != "provisioned-concurrency"


def lambda_context_keys(context: Any) -> dict[str, Any]:
    """The keys of one invocation's log lines: the request id, and the whole Lambda context when the environment
    asks (``LOG_LAMBDA_CONTEXT=true``), as Powertools names them."""
    cold_start = _is_cold_start()
    if not resolve_truthy_env_var_choice(env=os.getenv(LOG_LAMBDA_CONTEXT_ENV, "false")):
        return {"function_request_id": context.aws_request_id}
    trace = os.getenv(constants.XRAY_TRACE_ID_ENV)
    return {
        "cold_start": cold_start,
        **build_lambda_context_model(context).__dict__,
        "xray_trace_id": trace.split(";")[0].replace("Root=", "") if trace else None,
    }


@overload
def invocation(handler: Handler) -> Handler: ...


@overload
def invocation(
    handler: None = None,
    *,
    correlation_id_path: str | None = None,
    clear_state: bool = False,
    log_event: bool | None = None,
) -> Callable[[Handler], Handler]: ...


def invocation(
    handler: Handler | None = None,
    *,
    correlation_id_path: str | None = None,
    clear_state: bool = False,
    log_event: bool | None = None,
) -> Any:
    """Wraps a Lambda handler: its log keys (``lambda_context_keys``; the correlation id at
    ``correlation_id_path``, a JMESPath such as Powertools' ``correlation_paths.API_GATEWAY_HTTP``), the keys of
    the previous invocation dropped first with ``clear_state``, the event logged with ``log_event`` (or Powertools'
    ``POWERTOOLS_LOGGER_LOG_EVENT``), and its metric events written as one EMF document per group at the end."""
    if handler is None:
        return functools.partial(
            invocation, correlation_id_path=correlation_id_path, clear_state=clear_state, log_event=log_event
        )

    @functools.wraps(handler)
    def wrapped(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        if clear_state:
            logger.clear_state()
        logger.append_keys(**lambda_context_keys(context))
        if correlation_id_path:
            logger.set_correlation_id(jmespath_utils.query(envelope=correlation_id_path, data=event))
        if resolve_truthy_env_var_choice(env=os.getenv(constants.LOGGER_LOG_EVENT_ENV, "false"), choice=log_event):
            logger.info(extract_event_from_common_models(event))
        with metrics_catalog.invocation_metrics():
            return handler(event, context, *args, **kwargs)

    return wrapped
