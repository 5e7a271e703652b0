"""Bytes the functions send out of AWS: every request of an ``httpx.AsyncClient`` (the agent client) or an
``httpx2.AsyncClient`` (what the openai client underneath the judge uses), counted as request line + headers
+ body."""

from __future__ import annotations

import importlib
import threading
from typing import Any


class Egress:
    def __init__(self) -> None:
        self.bytes = 0
        self.requests = 0
        self._lock = threading.Lock()

    def install(self) -> Egress:
        for name in ("httpx", "httpx2"):
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self._patch(module.AsyncClient)
        return self

    def _patch(self, client_class: Any) -> None:
        original = client_class.send
        egress = self

        async def send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            egress.count(request)
            return await original(client, request, *args, **kwargs)

        client_class.send = send

    def count(self, request: Any) -> None:
        head = len(request.method) + len(request.url.raw_path) + len(" HTTP/1.1\r\n")
        head += sum(len(name) + len(value) + 4 for name, value in request.headers.raw) + 2
        with self._lock:
            self.bytes += head + len(request.content)
            self.requests += 1

    def reset(self) -> None:
        with self._lock:
            self.bytes = 0
            self.requests = 0
