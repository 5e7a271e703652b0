"""Reading a synthesized template: resources by type and by construct path, references between them."""

from __future__ import annotations

from typing import Any

Resource = dict[str, Any]


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Resource]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


def path_of(resource: Resource) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def by_path(template: dict[str, Any], path: str) -> tuple[str, Resource]:
    """The resource whose construct path is ``<stack>/<path>`` (e.g. ``Functions/CreateJob/Resource``)."""
    found = [(lid, res) for lid, res in template["Resources"].items() if path_of(res).split("/", 1)[-1] == path]
    assert len(found) == 1, f"{len(found)} resources at {path!r}"
    return found[0]


def logical_id(template: dict[str, Any], path: str) -> str:
    return by_path(template, path)[0]


def ref(logical: str) -> dict[str, str]:
    return {"Ref": logical}


def arn(logical: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
