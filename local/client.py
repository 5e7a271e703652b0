"""Machine credentials for the running local stack (``make client NAME=ci [SCOPES="… …"]``).

    python -m local.client NAME [--scope SCOPE ...] [--state-file PATH]

Creates (once) the pool's resource server with the route table's scopes, then a confidential app client with
the client-credentials grant, and prints its id, secret and how to get a token from the stand-in endpoint
(``POST <api>/oauth2/token``). Default scopes: read and write jobs; ``--scope agent-jobs/admin`` for admin
routes. As in the cloud, the secret is shown once here and kept by Cognito (moto) only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from agent_jobs.catalog import RESOURCE_SERVER, Scope
from local.cognito import UserPool
from local.config import DEFAULT_STATE_FILE
from local.oauth import CLIENT_CREDENTIALS, TOKEN_PATH
from local.state import NoStack, read_state

DEFAULT_SCOPES = (Scope.READ.value, Scope.WRITE.value)


def ensure_resource_server(pool: UserPool) -> None:
    client = pool.client()
    try:
        client.describe_resource_server(UserPoolId=pool.pool_id, Identifier=RESOURCE_SERVER)
    except client.exceptions.ResourceNotFoundException:
        client.create_resource_server(
            UserPoolId=pool.pool_id,
            Identifier=RESOURCE_SERVER,
            Name="Agent Jobs API",
            Scopes=[{"ScopeName": s.short_name, "ScopeDescription": s.short_name} for s in Scope],
        )


def create_client(pool: UserPool, name: str, scopes: list[str]) -> dict[str, Any]:
    """A client-credentials app client: ``{"clientId", "clientSecret", "scopes"}``."""
    unknown = sorted(set(scopes) - {s.value for s in Scope})
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {' '.join(s.value for s in Scope)}")
    ensure_resource_server(pool)
    created = pool.client().create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName=name,
        GenerateSecret=True,
        AllowedOAuthFlows=[CLIENT_CREDENTIALS],
        AllowedOAuthScopes=scopes,
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    return {"clientId": created["ClientId"], "clientSecret": created["ClientSecret"], "scopes": scopes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.client", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the client's name (what it is for)")
    parser.add_argument("--scope", action="append", help=f"a scope (default: {' '.join(DEFAULT_SCOPES)})")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE, help="the running stack's state file")
    args = parser.parse_args(argv)
    try:
        state = read_state(args.state_file)
        pool = UserPool.of_stack(state)
        created = create_client(pool, args.name, [s for part in args.scope or DEFAULT_SCOPES for s in part.split()])
    except NoStack as exc:
        print(exc, file=sys.stderr)
        return 1
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, KeyError) as exc:
        print(f"cannot create a client on the local stack ({exc}); is `make dev` running?", file=sys.stderr)
        return 1
    token_url = f"{state.get('apiUrl', 'http://127.0.0.1:3000')}{TOKEN_PATH}"
    print(json.dumps({**created, "tokenUrl": token_url}, indent=2))
    print(
        f"\ncurl -s -u {created['clientId']}:{created['clientSecret']} -d grant_type=client_credentials {token_url}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
