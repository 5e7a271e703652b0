"""``.local/stack.json``: where a running local stack is and how to sign in to it (URLs, pool, tokens)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class NoStack(RuntimeError):
    pass


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically (readers never see half a file), readable by its owner only (it holds tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)


def read_state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise NoStack(f"no local stack state at {path}: start the stack first (make dev)") from None
    except ValueError as exc:
        raise NoStack(f"{path} is not valid JSON ({exc}); restart the stack (make dev)") from None
    return state


def remove_state(path: Path, pid: int) -> None:
    """Removes the file if it still describes this process's stack (a newer stack may have replaced it)."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, ValueError):
        pass
