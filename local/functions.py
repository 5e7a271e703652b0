"""The local Lambda runtime: ``functions.<name>.handler.handler(event, context)`` called in-process, with a
context object like Lambda's (name, memory, request id, remaining time from the catalog's timeout)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import time
import uuid
from collections.abc import Callable
from typing import Any

from agent_jobs.catalog import FUNCTIONS
from local.config import REGION
from local.provision import function_name

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT_ID = "123456789012"


class FunctionUnavailable(RuntimeError):
    """The function's handler module is missing (not written yet) or fails to import."""


class LocalContext:
    """The attributes and method of Lambda's context object that handlers and Powertools read."""

    def __init__(self, name: str) -> None:
        spec = FUNCTIONS[name]
        self.function_name = function_name(name)
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def module_name(name: str) -> str:
    return f"functions.{name}.handler"


def available(name: str) -> bool:
    """True when ``functions/<name>/handler.py`` exists (whether it imports is found out on first call)."""
    try:
        return importlib.util.find_spec(module_name(name)) is not None
    except (ImportError, ValueError):
        return False


def load(name: str) -> Handler:
    if name not in FUNCTIONS:
        raise FunctionUnavailable(f"{name} is not in catalog.FUNCTIONS")
    try:
        module = importlib.import_module(module_name(name))
    except ModuleNotFoundError as exc:
        if exc.name and module_name(name).startswith(exc.name):
            raise FunctionUnavailable(f"{module_name(name)} does not exist yet") from None
        raise FunctionUnavailable(f"{module_name(name)} fails to import: {exc}") from exc
    except Exception as exc:  # a broken module is the function's init error, as on Lambda
        raise FunctionUnavailable(f"{module_name(name)} fails to import: {exc!r}") from exc
    handler: Handler | None = getattr(module, "handler", None)
    if handler is None:
        raise FunctionUnavailable(f"{module_name(name)} has no handler(event, context)")
    return handler


def invoke(name: str, event: dict[str, Any]) -> Any:
    """One synchronous invocation; the handler's exceptions propagate (the caller plays Lambda's part)."""
    return load(name)(event, LocalContext(name))


def preload() -> None:
    """Imports every existing handler module now (startup), so the first request does not pay for it."""
    for name in FUNCTIONS:
        if available(name):
            with contextlib.suppress(FunctionUnavailable):
                load(name)
