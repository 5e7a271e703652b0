"""The local user pool on moto: the ``admins`` group, one public app client, demo users, and tokens."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3

from agent_jobs.domain.auth import ADMIN_GROUP

LOCAL_CREDENTIAL = "local"  # moto accepts any key
POOL_NAME = "agent-jobs-users"
CLIENT_NAME = "agent-jobs-local"
AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
PASSWORD_POLICY = {
    "MinimumLength": 12,  # infra/constants.py PASSWORD_MIN_LENGTH
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    admin: bool = False


# Local only, printed in the banner: moto's pool lives in memory and dies with the stack.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("user", "User-pass-123"),
    DemoUser("user2", "User2-pass-123"),
    DemoUser("admin", "Admin-pass-123", admin=True),
)


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    client_id: str
    region: str
    endpoint_url: str

    @classmethod
    def of_stack(cls, state: dict[str, Any]) -> UserPool:
        """The pool of a running local stack, from its state file (``.local/stack.json``)."""
        return cls(state["userPoolId"], state["clientId"], state["region"], state["awsEndpointUrl"])

    @property
    def issuer(self) -> str:
        """The ``iss`` of the pool's tokens (moto signs them with Cognito's real issuer format)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.pool_id}/.well-known/jwks.json"

    def client(self) -> Any:
        return cognito_client(self.region, self.endpoint_url)


@lru_cache(maxsize=8)
def cognito_client(region: str, endpoint_url: str) -> Any:
    """One client per endpoint (clients are thread-safe; a new session costs ~0.1 s of model loading). The
    credentials are moto's placeholders: this client only ever talks to the local endpoint."""
    session = boto3.session.Session(
        region_name=region, aws_access_key_id=LOCAL_CREDENTIAL, aws_secret_access_key=LOCAL_CREDENTIAL
    )
    return session.client("cognito-idp", endpoint_url=endpoint_url)


def create_pool(*, region: str, endpoint_url: str) -> UserPool:
    client = cognito_client(region, endpoint_url)
    pool_id = client.create_user_pool(
        PoolName=POOL_NAME,
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client.create_group(UserPoolId=pool_id, GroupName=ADMIN_GROUP, Description="Approves checkpoints, runs the worker")
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName=CLIENT_NAME, ExplicitAuthFlows=AUTH_FLOWS, GenerateSecret=False
    )["UserPoolClient"]["ClientId"]
    return UserPool(pool_id=pool_id, client_id=client_id, region=region, endpoint_url=endpoint_url)


def random_password() -> str:
    return f"Pw-{secrets.token_urlsafe(12)}-9a"


def ensure_user(pool: UserPool, username: str, password: str | None = None, *, admin: bool = False) -> str:
    """Creates ``username`` if missing (admin → the admins group) and returns a password that works: the one
    given (set as permanent), or a fresh random one for a user whose password nobody knows here."""
    client = pool.client()
    try:
        client.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    except client.exceptions.UserNotFoundException:
        client.admin_create_user(
            UserPoolId=pool.pool_id,
            Username=username,
            TemporaryPassword=random_password(),
            MessageAction="SUPPRESS",
        )
    chosen = password or random_password()
    client.admin_set_user_password(UserPoolId=pool.pool_id, Username=username, Password=chosen, Permanent=True)
    if admin:
        client.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=ADMIN_GROUP)
    return chosen


def sign_in(pool: UserPool, username: str, password: str) -> dict[str, str]:
    """Cognito's AuthenticationResult (IdToken, AccessToken, RefreshToken) for a username and password."""
    answer = pool.client().initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    result: dict[str, str] = answer["AuthenticationResult"]
    return result


def id_token(pool: UserPool, username: str, password: str) -> str:
    return sign_in(pool, username, password)["IdToken"]


def create_demo_users(pool: UserPool) -> dict[str, str]:
    """The demo users with their known passwords (in parallel); returns username → IdToken."""

    def create(user: DemoUser) -> str:
        ensure_user(pool, user.username, user.password, admin=user.admin)
        return id_token(pool, user.username, user.password)

    with ThreadPoolExecutor(max_workers=len(DEMO_USERS), thread_name_prefix="demo-user") as workers:
        tokens = dict(zip([u.username for u in DEMO_USERS], workers.map(create, DEMO_USERS), strict=True))
    return tokens
