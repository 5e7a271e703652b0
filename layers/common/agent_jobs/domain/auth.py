"""Who is asking: the principal from the JWT claims, and the ownership rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent_jobs.catalog import Scope
from agent_jobs.errors import Forbidden, NotFound, Unauthorized

ADMIN_GROUP = "admins"


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None  # a machine client's OAuth scopes; None for a person's token

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups or (self.scopes is not None and Scope.ADMIN.value in self.scopes)

    def require_scope(self, scope: Scope | None) -> None:
        """A machine client needs the route's scope (``catalog.Route.scope``); a person's token has no scopes of
        ours and is judged by its groups alone."""
        if self.scopes is not None and scope is not None and scope.value not in self.scopes:
            raise Forbidden(f"this route needs the scope {scope.value}")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this action needs the admins group")

    def may_see(self, owner_id: str) -> bool:
        return self.is_admin or owner_id == self.user_id


def parse_groups(raw: Any) -> frozenset[str]:
    """``cognito:groups`` arrives as a list, a JSON list, or API Gateway's ``[a b]`` string."""
    if raw is None or raw == "":
        return frozenset()
    if isinstance(raw, list):
        return frozenset(str(item) for item in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            loaded = json.loads(text)
            if isinstance(loaded, list):
                return frozenset(str(item) for item in loaded)
        except ValueError:
            text = text[1:-1]
    return frozenset(part for part in text.replace(",", " ").split() if part)


def is_machine_token(claims: dict[str, Any]) -> bool:
    """A client-credentials access token: issued to an app client, for no user (no ``username``)."""
    return (
        claims.get("token_use") == "access"
        and bool(claims.get("client_id"))
        and not claims.get("username")
        and not claims.get("cognito:username")
    )


def principal_from_claims(claims: dict[str, Any] | None) -> Principal:
    """The caller, or 401 when the authorizer passed no subject. A machine client is ``client:<id>`` with the
    scopes its token carries (space-separated in ``scope``)."""
    claims = claims or {}
    subject = claims.get("sub")
    if not subject:
        raise Unauthorized("sign in: a bearer token is required")
    if is_machine_token(claims):
        scopes = frozenset(str(claims.get("scope") or "").strip("[]").split())
        return Principal(user_id=f"client:{claims['client_id']}", scopes=scopes)
    return Principal(user_id=str(subject), groups=parse_groups(claims.get("cognito:groups")))


def hide_unless_visible(principal: Principal, owner_id: str, what: str, ident: str) -> None:
    """Another user's resource answers exactly like a missing one (404), so ids cannot be probed."""
    if not principal.may_see(owner_id):
        raise NotFound(f"{what} {ident} not found")
