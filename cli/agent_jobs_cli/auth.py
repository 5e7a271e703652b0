"""Signing in: people by Cognito's USER_PASSWORD_AUTH, programs by the OAuth client-credentials grant.

People: the API publishes its user pool's endpoint and public app client at ``GET /admin/config.json`` (the admin
page signs in the same way), so ``login --api URL --username U`` needs nothing else. The bearer is the IdToken
(it carries the ``admins`` group); the refresh token renews it. Programs: ``POST <token URL>`` with HTTP Basic
client authentication — locally the stack's stand-in at ``<api>/oauth2/token`` (``make client``), in the cloud the
Cognito domain's (``<CognitoHostedUiUrl>/oauth2/token``, or ``--token-url``); a new token is asked for when the
current one expires. Nothing here prints or logs a token or a secret.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from agent_jobs_cli.credentials import MACHINE, USER, Credentials, CredentialStore
from agent_jobs_cli.outcomes import AuthError, CliError

COGNITO_TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a password
PAGE_CONFIG_PATH = "/admin/config.json"


def _post(http: httpx.Client, url: str, what: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {what} at {url}: {exc}") from None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def initiate_auth(
    http: httpx.Client, endpoint: str, client_id: str, flow: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """Cognito's ``InitiateAuth`` over its JSON protocol (no AWS signature: the app client is public)."""
    response = _post(
        http,
        endpoint,
        "the sign-in service",
        json={"AuthFlow": flow, "ClientId": client_id, "AuthParameters": parameters},
        headers={"content-type": "application/x-amz-json-1.1", "x-amz-target": COGNITO_TARGET},
    )
    body = _json_object(response)
    if response.status_code >= 400:
        kind = str(body.get("__type", "")).rsplit("#", 1)[-1]
        if kind in ("NotAuthorizedException", "UserNotFoundException"):
            raise AuthError("incorrect username or password" if flow == "USER_PASSWORD_AUTH" else "sign in again")
        raise AuthError(f"sign-in failed: {body.get('message') or body.get('Message') or response.status_code}")
    if body.get("ChallengeName"):
        raise AuthError(
            f"the account must answer {body['ChallengeName']} first (sign in once on the API's /app or /admin page)"
        )
    result = body.get("AuthenticationResult")
    if not isinstance(result, dict) or not result.get("IdToken"):
        raise AuthError("the sign-in service answered without tokens")
    return result


def sign_in_user(http: httpx.Client, api: str, config: dict[str, Any], username: str, password: str) -> Credentials:
    endpoint, client_id = str(config.get("cognitoEndpoint") or ""), str(config.get("clientId") or "")
    if not endpoint or not client_id:
        raise CliError(f"{api}{PAGE_CONFIG_PATH} names no Cognito endpoint or app client")
    result = initiate_auth(
        http, endpoint, client_id, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}
    )
    return Credentials(
        api=api,
        kind=USER,
        token=str(result["IdToken"]),
        expires_at=time.time() + float(result.get("ExpiresIn") or 3600),
        client_id=client_id,
        username=username,
        refresh_token=result.get("RefreshToken"),
        cognito_endpoint=endpoint,
    )


def refresh_user(http: httpx.Client, credentials: Credentials) -> Credentials:
    if not credentials.refresh_token or not credentials.cognito_endpoint:
        raise AuthError(f"the session at {credentials.api} expired: run agent-jobs login")
    parameters = {"REFRESH_TOKEN": credentials.refresh_token}
    if credentials.username:
        parameters["USERNAME"] = credentials.username
    try:
        result = initiate_auth(
            http, credentials.cognito_endpoint, credentials.client_id, "REFRESH_TOKEN_AUTH", parameters
        )
    except AuthError:
        raise AuthError(f"the session at {credentials.api} expired: run agent-jobs login") from None
    credentials.token = str(result["IdToken"])
    credentials.expires_at = time.time() + float(result.get("ExpiresIn") or 3600)
    credentials.refresh_token = result.get("RefreshToken") or credentials.refresh_token
    return credentials


def client_credentials(
    http: httpx.Client, api: str, token_url: str, client_id: str, secret: str, scopes: list[str] | None
) -> Credentials:
    """A machine client's access token (RFC 6749 §4.4); the secret is kept to ask for the next one."""
    form = {"grant_type": "client_credentials"}
    if scopes:
        form["scope"] = " ".join(scopes)
    response = _post(http, token_url, "the token endpoint", data=form, auth=(client_id, secret))
    body = _json_object(response)
    if response.status_code >= 400 or not body.get("access_token"):
        reason = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        raise AuthError(f"the token endpoint refused the client: {reason}")
    return Credentials(
        api=api,
        kind=MACHINE,
        token=str(body["access_token"]),
        expires_at=time.time() + float(body.get("expires_in") or 3600),
        client_id=client_id,
        client_secret=secret,
        token_url=token_url,
        scopes=scopes,
    )


def renewed(http: httpx.Client, credentials: Credentials) -> Credentials:
    if credentials.kind == MACHINE:
        if not credentials.client_secret or not credentials.token_url:
            raise AuthError(f"the token for {credentials.api} expired: run agent-jobs login")
        return client_credentials(
            http,
            credentials.api,
            credentials.token_url,
            credentials.client_id,
            credentials.client_secret,
            credentials.scopes,
        )
    return refresh_user(http, credentials)


class StaticToken:
    """``AGENT_JOBS_TOKEN``: a bearer handed in by the environment, used as is (nothing to renew it with)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def bearer(self) -> str:
        return self._token

    def renew(self) -> bool:
        return False


class StoredSession:
    """The stored sign-in for one API, renewed (and saved) when it is about to expire or the API refused it."""

    def __init__(self, http: httpx.Client, store: CredentialStore, credentials: Credentials) -> None:
        self.http = http
        self.store = store
        self.credentials = credentials
        self._renewed = False

    def bearer(self) -> str:
        if self.credentials.expiring():
            self._renew()
        return self.credentials.token

    def renew(self) -> bool:
        if self._renewed:
            return False  # renewed once already: the API refuses this principal, not an old token
        self._renew()
        return True

    def _renew(self) -> None:
        self.credentials = renewed(self.http, self.credentials)
        self._renewed = True
        self.store.put(self.credentials, make_current=False)
