"""The typed client: calls an operation of ``operations.OPERATIONS`` by name and answers the API's JSON.

The bearer comes from a :class:`TokenSource`; a 401 on a token that can be renewed renews it once and retries
(a token can expire between the local check and the server's). Errors become :class:`ApiError` with the API's
own message, so commands print what the server said.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from agent_jobs_cli import __version__
from agent_jobs_cli.operations import OPERATIONS
from agent_jobs_cli.outcomes import ApiError, CliError

TIMEOUT_SECONDS = 30.0
USER_AGENT = f"agent-jobs-cli/{__version__}"


class TokenSource(Protocol):
    def bearer(self) -> str: ...

    def renew(self) -> bool:
        """Gets a new token after the API refused the current one; False when there is no way to."""
        ...


def new_http_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_SECONDS, headers={"user-agent": USER_AGENT}, follow_redirects=False)


def error_of(response: httpx.Response) -> ApiError:
    """The API's error envelope as an ApiError; a body that is not one still gives a readable message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        message = str(error["message"])
        if error.get("field") and str(error["field"]) not in message:
            message = f"{message} (field: {error['field']})"
        return ApiError(response.status_code, str(error.get("code") or response.status_code), message, body)
    return ApiError(response.status_code, str(response.status_code), f"the API answered HTTP {response.status_code}")


class ApiClient:
    def __init__(self, api: str, http: httpx.Client, tokens: TokenSource | None) -> None:
        self.api = api
        self.http = http
        self.tokens = tokens

    def call(
        self,
        name: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        operation = OPERATIONS[name]
        undeclared = set(query or {}) - set(operation.query)
        if undeclared:
            raise ValueError(f"{name} declares no query parameter {sorted(undeclared)} (operations.py)")
        url = self.api + operation.url_path(**(path or {}))
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        response = self._send(operation.method, url, query, body, headers)
        if response.status_code == 401 and self.tokens is not None and self.tokens.renew():
            response = self._send(operation.method, url, query, body, headers)
        if response.status_code >= 400:
            raise error_of(response)
        try:
            answer = response.json()
        except ValueError:
            raise ApiError(response.status_code, "BAD_RESPONSE", "the API's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise ApiError(response.status_code, "BAD_RESPONSE", "the API's answer is not a JSON object")
        return answer

    def _send(
        self,
        method: str,
        url: str,
        query: Mapping[str, str | int] | None,
        body: Any,
        headers: dict[str, str],
    ) -> httpx.Response:
        if self.tokens is not None:
            headers = {**headers, "authorization": f"Bearer {self.tokens.bearer()}"}
        try:
            return self.http.request(method, url, params=dict(query or {}), json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the API at {self.api}: {exc}") from None


def new_idempotency_key() -> str:
    """A key per create, so a retried request (a timeout, a flaky network) never makes the job twice."""
    return str(uuid.uuid4())
