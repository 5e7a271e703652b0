"""Where sign-ins are kept: ``$XDG_CONFIG_HOME/agent-jobs/credentials.json`` (``~/.config`` by default), mode 0600.

One entry per API base URL (a local stack on auto ports and a cloud stage live side by side), plus which API is
current — the one ``login`` signed in to last — so commands need no ``--api`` after the first login. The file
holds bearer tokens, refresh tokens and, for machine clients, the client secret (a new token needs it, as the AWS
CLI's credentials file holds keys): it is written atomically, readable by its owner only, and never printed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from agent_jobs_cli.outcomes import UsageError

FILE_NAME = "credentials.json"
USER = "user"  # a person: Cognito USER_PASSWORD_AUTH, refreshed with the refresh token
MACHINE = "machine"  # a program: the client-credentials grant, refreshed by asking for a new token
EXPIRY_MARGIN_SECONDS = 60  # refresh a token this close to its expiry: a request must not race it


@dataclass
class Credentials:
    api: str
    kind: str
    token: str  # the bearer: a person's IdToken, a machine client's access token
    expires_at: float
    client_id: str  # the Cognito app client (person) or the machine client's id
    username: str | None = None
    refresh_token: str | None = None
    cognito_endpoint: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scopes: list[str] | None = None

    def expiring(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    @property
    def who(self) -> str:
        return self.username or f"client {self.client_id}"

    def __repr__(self) -> str:  # never a token or secret in a traceback or a log
        return f"Credentials(api={self.api!r}, kind={self.kind!r}, who={self.who!r})"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credentials:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def config_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agent-jobs"


def normalise_api(url: str) -> str:
    """The API's base URL as entries are keyed: no trailing slash, nor the ``/api`` the routes already carry."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--api {url!r}: give the API's base URL, e.g. http://127.0.0.1:3000")
    return url.removesuffix("/api")


class CredentialStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, env: Mapping[str, str]) -> CredentialStore:
        return cls(config_dir(env) / FILE_NAME)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"current": None, "apis": {}}
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path} is unreadable ({exc}); remove it and log in again") from None
        if not isinstance(data, dict) or not isinstance(data.get("apis"), dict):
            raise UsageError(f"{self.path} is not a credentials file; remove it and log in again")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.chmod(temporary, 0o600)  # whatever the umask
        os.replace(temporary, self.path)

    def current_api(self) -> str | None:
        current = self._read().get("current")
        return str(current) if current else None

    def get(self, api: str) -> Credentials | None:
        entry = self._read()["apis"].get(api)
        return Credentials.from_json(entry) if isinstance(entry, dict) else None

    def put(self, credentials: Credentials, *, make_current: bool = True) -> None:
        data = self._read()
        data["apis"][credentials.api] = asdict(credentials)
        if make_current:
            data["current"] = credentials.api
        self._write(data)

    def remove(self, api: str) -> bool:
        data = self._read()
        found = data["apis"].pop(api, None) is not None
        if data.get("current") == api:
            data["current"] = next(iter(data["apis"]), None)
        if found:
            self._write(data)
        return found
