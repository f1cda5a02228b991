"""The settings reference (the README table), generated from the settings model."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, SecretStr

from quill.config import ModelSettings, Settings


def settings_reference_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every leaf setting, for the README table."""
    rows: list[tuple[str, str, str, str]] = []
    _collect_rows(Settings, "", rows)
    return rows


def _collect_rows(model: type[BaseModel], prefix: str, rows: list[tuple[str, str, str, str]]):
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _collect_rows(annotation, key + ".", rows)
            continue
        if name == "models":
            rows.append(
                (key, "table of models", '`{local = {provider = "local"}}`', info.description or "")
            )
            _collect_rows(ModelSettings, key + ".<name>.", rows)
            continue
        default = info.get_default(call_default_factory=True)
        rows.append((key, _type_name(annotation), _default_text(default), info.description or ""))


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " or ".join(f"`{a}`" for a in get_args(annotation))
    text = str(annotation).replace("typing.", "").replace("pydantic.types.", "")
    text = text.replace("<class '", "").replace("'>", "").replace("SecretStr", "secret")
    text = text.replace(" | None", "").replace("None | ", "")
    return text.replace("|", "or")


def _default_text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "unset"
    return "`" + json.dumps(value) + "`"


def settings_markdown_table() -> str:
    lines = ["| Setting | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    for key, type_name, default, desc in settings_reference_rows():
        lines.append(f"| `{key}` | {type_name} | {default} | {desc} |")
    return "\n".join(lines)
