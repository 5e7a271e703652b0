"""A stand-in for Cognito's OAuth 2.0 token endpoint (client-credentials grant), which moto lacks.

``POST /oauth2/token`` on the local gateway, as on the hosted UI domain in the cloud: HTTP Basic client
authentication (or ``client_id``/``client_secret`` in the form), ``grant_type=client_credentials`` and an
optional ``scope``; the answer is ``{"access_token", "token_type": "Bearer", "expires_in"}`` or an RFC 6749
error. The app client, its secret, its allowed flows and scopes are the local pool's (``make client`` creates
one on moto). The token is signed with the key moto's pool signs its own tokens with, and carries Cognito's
claims for this grant (``sub`` = ``client_id``, ``token_use: access``, ``scope``, no ``username``), so the
gateway's verifier — the same one that checks people's tokens — checks it unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt

from local.cognito import UserPool

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a password
TOKEN_SECONDS = 3600
CLIENT_CREDENTIALS = "client_credentials"
MOTO_KEY_ID = "dummy"  # the kid moto's pool JWKS publishes


@cache
def _signing_key() -> Any:
    from moto.utilities.utils import load_resource  # local only: moto is the local stack's AWS

    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(load_resource("cognitoidp/resources/jwks-private.json")))


def _error(status: int, code: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": code, "error_description": description}


def _credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str] | None:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


@dataclass
class TokenEndpoint:
    pool: UserPool
    _clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _client(self, client_id: str) -> dict[str, Any] | None:
        if client_id not in self._clients:
            client = self.pool.client()
            try:
                found = client.describe_user_pool_client(UserPoolId=self.pool.pool_id, ClientId=client_id)
            except client.exceptions.ResourceNotFoundException:
                return None
            self._clients[client_id] = found["UserPoolClient"]
        return self._clients[client_id]

    def knows(self, client_id: str) -> bool:
        """A machine client of the pool (the verifier accepts access tokens issued to it)."""
        found = self._client(client_id)
        return found is not None and CLIENT_CREDENTIALS in (found.get("AllowedOAuthFlows") or [])

    def answer(self, authorization: str | None, body: bytes | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for one token request."""
        try:
            form = dict(parse_qsl((body or b"").decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return _error(400, "invalid_request", "the body is application/x-www-form-urlencoded UTF-8")
        credentials = _credentials(authorization, form)
        if credentials is None:
            return _error(401, "invalid_client", "authenticate with HTTP Basic client_id:client_secret")
        client_id, secret = credentials
        client = self._client(client_id) if client_id else None
        if client is None or not hmac.compare_digest(str(client.get("ClientSecret", "")), secret):
            return _error(401, "invalid_client", "unknown client or wrong secret")
        if form.get("grant_type") != CLIENT_CREDENTIALS:
            return _error(400, "unsupported_grant_type", "only grant_type=client_credentials is served here")
        if not self.knows(client_id):
            return _error(400, "unauthorized_client", "this client may not use the client-credentials grant")
        allowed = list(client.get("AllowedOAuthScopes") or [])
        asked = form.get("scope", "").split() or allowed
        if not asked or not set(asked) <= set(allowed):
            return _error(400, "invalid_scope", f"allowed scopes: {' '.join(allowed) or '(none)'}")
        now = int(time.time())
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(asked),
            "auth_time": now,
            "iss": self.pool.issuer,
            "exp": now + TOKEN_SECONDS,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        token = jwt.encode(claims, _signing_key(), algorithm="RS256", headers={"kid": MOTO_KEY_ID})
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
