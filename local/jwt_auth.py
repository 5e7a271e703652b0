"""What API Gateway's Cognito JWT authorizer does, locally: verify a bearer token against the pool's JWKS
and hand the claims on as the authorizer passes them (every value a string, lists as ``[a b]``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

ALGORITHMS = ["RS256"]
TOKEN_USES = ("id", "access")


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired, or not for this pool and client."""


@dataclass(frozen=True)
class Verified:
    claims: dict[str, str]  # as API Gateway passes them to the function
    scopes: list[str] | None  # an access token's scopes


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header (``Bearer <jwt>``, or the bare token as API Gateway accepts)."""
    if not authorization:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims flattened the way the HTTP API JWT authorizer flattens them."""
    flat: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif isinstance(value, list):
            flat[name] = "[" + " ".join(str(item) for item in value) + "]"
        elif isinstance(value, dict):
            flat[name] = json.dumps(value, separators=(",", ":"))
        else:
            flat[name] = str(value)
    return flat


class _KeySet:
    """The pool's signing keys by key id, fetched once and again (at most once a second) for an unknown id."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > 1.0:
                self._fetch()
            found = self._keys.get(kid)
        if found is None:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return found

    def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            response = httpx.get(self.url, timeout=5.0, trust_env=False)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise InvalidToken(f"cannot fetch the signing keys: {exc}") from None
        self._keys = {str(key.key_id): key for key in keys}


class JwtVerifier:
    """RS256 signature (JWKS, cached, refetched for an unknown key id), issuer, expiry, ``token_use`` id or
    access, and the audience: an IdToken's ``aud`` or an AccessToken's ``client_id`` is one of ours."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        client_ids: Iterable[str],
        *,
        machine_client: Callable[[str], bool] | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        self.machine_client = machine_client  # app clients made after start (``make client``): access tokens only
        self._keys = _KeySet(jwks_url)

    def verify(self, token: str) -> Verified:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token was not issued by this stack's user pool") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        use = claims.get("token_use")
        if use not in TOKEN_USES:
            raise InvalidToken(f"token_use must be id or access, not {use!r}")
        audience = claims.get("aud") if use == "id" else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        machine = use == "access" and self.machine_client is not None and self.machine_client(str(audience))
        if not machine and not any(item in self.client_ids for item in audiences):
            raise InvalidToken("the token is for another app client")
        scope = claims.get("scope")
        scopes = str(scope).split() if use == "access" and scope else None
        return Verified(claims=gateway_claims(claims), scopes=scopes)
