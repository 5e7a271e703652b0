"""A function's HTTP resolver, built on its first HTTP request.

A function that also consumes a queue or runs on a schedule (checkpoints, validate, webhooks, metrics) answers
most invocations without the API: importing Powertools' resolver, the OpenAPI validation middleware and every
route's request/response models at its cold start would cost about one ``import boto3`` for nothing. The
function hands in a builder that imports its routers; it runs once, under a lock (the local stack runs
invocations in threads, and a router binds to the resolver that includes it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext


class LazyResolver:
    def __init__(self, build: Callable[[], APIGatewayHttpResolver]) -> None:
        self._build = build
        self._resolver: APIGatewayHttpResolver | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._resolver is not None

    def resolver(self) -> APIGatewayHttpResolver:
        if self._resolver is None:
            with self._lock:
                if self._resolver is None:
                    self._resolver = self._build()
        return self._resolver

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.resolver().resolve(event, context)
