"""JSON Schema checks of agent inputs and outputs, with errors that name the failing field."""

from __future__ import annotations

from typing import Any

from jsonschema.validators import validator_for


def schema_errors(instance: Any, schema: dict[str, Any] | None, limit: int = 5) -> list[str]:
    """Human-readable problems of ``instance`` against ``schema`` (none when there is no schema)."""
    if not schema:
        return []
    validator = validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:limit]:
        path = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{path}: {error.message}")
    return problems
