"""Verifies a Cognito JWT the way API Gateway's JWT authorizer does (the WebSocket API has no JWT authorizer of
its own, so its $connect route's Lambda authorizer calls this): RS256 against the pool's JWKS (cached), issuer,
expiry, ``token_use`` id or access, and an audience that is one of our app clients."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from agent_jobs.settings import Settings

if TYPE_CHECKING:  # PyJWT is imported where a token is checked: a frame or a $disconnect never loads it
    import jwt

CLAIMS_PASSED_ON = ("sub", "cognito:groups", "token_use", "client_id", "scope", "username", "cognito:username", "exp")


class InvalidToken(Exception):
    """Missing, malformed, badly signed, expired, or not for this pool and its clients."""


def issuer(settings: Settings) -> str:
    default = f"https://cognito-idp.{settings.aws_region}.amazonaws.com/{settings.cognito_user_pool_id}"
    return (settings.cognito_issuer_url or default).rstrip("/")


@cache
def _keys(jwks_url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)


def verify(token: str, settings: Settings) -> dict[str, Any]:
    """The token's claims, or :class:`InvalidToken`."""
    import jwt

    if not settings.cognito_user_pool_id:
        raise InvalidToken("no user pool is configured")
    issued_by = issuer(settings)
    try:
        key = _keys(f"{issued_by}/.well-known/jwks.json").get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=issued_by,
            options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(f"invalid token: {type(exc).__name__}") from None
    use = claims.get("token_use")
    if use not in ("id", "access"):
        raise InvalidToken("token_use must be id or access")
    audience = claims.get("aud") if use == "id" else claims.get("client_id")
    clients = {client.strip() for client in settings.cognito_client_ids.split(",") if client.strip()}
    if audience not in clients:
        raise InvalidToken("the token is for another app client")
    return claims


def authorizer_context(claims: dict[str, Any]) -> dict[str, str]:
    """The claims the routes need, as API Gateway's authorizer context carries them (strings only)."""
    context: dict[str, str] = {}
    for name in CLAIMS_PASSED_ON:
        value = claims.get(name)
        if value is None:
            continue
        context[name] = "[" + " ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
    return context
