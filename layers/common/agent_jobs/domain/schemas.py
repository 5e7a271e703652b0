"""JSON Schema checks of agent inputs and outputs, with errors that name the failing field.

Every schema here is data someone else wrote (an agent's registration, an A2A card, an operator's setting), so
it is applied by :func:`untrusted_validator`: a ``$ref`` resolves inside the schema only — jsonschema's default
would fetch any remote URL with urllib, past the SSRF guard — and a schema that cannot be applied (a ``$ref``
loop, a dangling ``$ref``, an odd ``$schema``) is a problem reported like any other, never an exception.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry

NO_REMOTE_REFS: Registry[Any] = Registry()


def untrusted_validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` that never fetches anything (raises SchemaError for an invalid schema)."""
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, registry=NO_REMOTE_REFS)


def schema_errors(instance: Any, schema: dict[str, Any] | None, limit: int = 5) -> list[str]:
    """Human-readable problems of ``instance`` against ``schema`` (none when there is no schema)."""
    if not schema:
        return []
    try:
        errors = sorted(untrusted_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    except Exception as exc:  # a schema that cannot be applied: reported, not raised
        return [f"(schema): cannot be applied ({type(exc).__name__}: {str(exc)[:200]})"]
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors[:limit]]
