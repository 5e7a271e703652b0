"""JSON Schema checks of agent inputs and outputs, with errors that name the failing field.

Every schema here is data someone else wrote (an agent's registration, an A2A card, an operator's setting), so
it is applied by :func:`untrusted_validator`: a ``$ref`` resolves inside the schema only — jsonschema's default
would fetch any remote URL with urllib, past the SSRF guard — and a schema that cannot be applied (a ``$ref``
loop, a dangling ``$ref``, an odd ``$schema``) is a problem reported like any other, never an exception.

jsonschema (and ``referencing``) are imported on the first check, not with this module: most functions import
it through the domain and a cold start that checks no schema skips the ~100 ms.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry


@cache
def no_remote_refs() -> Registry[Any]:
    """The registry every untrusted schema resolves ``$ref`` in: empty, so nothing is ever fetched."""
    from referencing import Registry

    return Registry()


def untrusted_validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` that never fetches anything (raises SchemaError for an invalid schema)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, registry=no_remote_refs())


def schema_errors(instance: Any, schema: dict[str, Any] | None, limit: int = 5) -> list[str]:
    """Human-readable problems of ``instance`` against ``schema`` (none when there is no schema)."""
    if not schema:
        return []
    try:
        errors = sorted(untrusted_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    except Exception as exc:  # a schema that cannot be applied: reported, not raised
        return [f"(schema): cannot be applied ({type(exc).__name__}: {str(exc)[:200]})"]
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors[:limit]]
