"""Who is asking: the principal from the JWT claims, and the ownership rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent_jobs.errors import Forbidden, NotFound, Unauthorized

ADMIN_GROUP = "admins"


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups

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


def principal_from_claims(claims: dict[str, Any] | None) -> Principal:
    """The caller, or 401 when the authorizer passed no subject."""
    subject = (claims or {}).get("sub")
    if not subject:
        raise Unauthorized("sign in: a bearer token is required")
    return Principal(user_id=str(subject), groups=parse_groups((claims or {}).get("cognito:groups")))


def hide_unless_visible(principal: Principal, owner_id: str, what: str, ident: str) -> None:
    """Another user's resource answers exactly like a missing one (404), so ids cannot be probed."""
    if not principal.may_see(owner_id):
        raise NotFound(f"{what} {ident} not found")
