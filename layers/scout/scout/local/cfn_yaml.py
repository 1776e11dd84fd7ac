"""CloudFormation YAML: the short-form intrinsics (``!Ref``, ``!GetAtt``, ``!Sub`` ...) read into
their long JSON form, so the rest of the local stack sees one shape.

Plain ``yaml.safe_load`` refuses ``!Ref``; SAM templates use the short forms everywhere.
"""

from __future__ import annotations

from typing import Any

import yaml


class CfnLoader(yaml.SafeLoader):
    """A safe loader that also understands CloudFormation's ``!Tag`` short forms."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt Queue.Arn` is the dotted short form of ["Queue", "Arn"].
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_cfn_yaml(text: str) -> Any:
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader subclass


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def ref_target(value: Any) -> str | None:
    """The logical id of ``{"Ref": X}``, else None."""
    if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def getatt_target(value: Any) -> tuple[str, str] | None:
    """``(logical id, attribute)`` of ``{"Fn::GetAtt": [X, Attr]}``, else None."""
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and all(isinstance(part, str) for part in target):
            return target[0], target[1]
    return None


def cfn_scalar(value: Any) -> str:
    """A scalar the way CloudFormation stringifies it (``true``, ``30``, lists comma-joined)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(cfn_scalar(item) for item in value)
    return str(value)
