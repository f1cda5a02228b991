"""Write Quill's settings into extension/package.json as VS Code settings, one for one.

Each leaf of ``quill.config.Settings`` becomes ``quill.<camelCaseKey>`` with its type, range,
choices, default and description; ``models`` stays one object setting. Settings that decide
where code and keys go (``TRUST_REQUIRED_KEYS``, and ``trustedWorkspaces``) get
``"scope": "machine"``, so a repository's ``.vscode/settings.json`` cannot set them.

    .venv/bin/python extension/scripts/sync_settings.py          # rewrite package.json
    .venv/bin/python extension/scripts/sync_settings.py --check  # exit 1 when it differs

Properties of the extension itself (see ``EXTENSION_KEYS``) are kept as they are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr

from quill.config import Settings
from quill.settings_sources import TRUST_REQUIRED_KEYS

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
#: settings of the extension, not sent to the server
EXTENSION_KEYS = ("quill.pythonPath", "quill.installRoot", "quill.trace.server")
MACHINE_KEYS = {k.partition(".*.")[0] for k in TRUST_REQUIRED_KEYS} | {"trustedWorkspaces"}


def _machine(key: str) -> bool:
    """Whether only the user (not a workspace's own settings) may set ``key``."""
    return any(key == k or key.startswith(k + ".") for k in MACHINE_KEYS)


def _json_type(annotation: Any) -> dict[str, Any]:
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": {"type": "string"}}
    if type(None) in args:  # X | None: unset is null
        inner = [a for a in args if a is not type(None)]
        base = _json_type(inner[0])
        return {**base, "type": [base["type"], "null"]}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation in (str, SecretStr):
        return {"type": "string"}
    raise TypeError(f"no VS Code type for {annotation!r}")


def _limits(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, Ge):
            out["minimum"] = item.ge
        elif isinstance(item, Gt):
            out["exclusiveMinimum"] = item.gt
        elif isinstance(item, Le):
            out["maximum"] = item.le
        elif isinstance(item, Lt):
            out["exclusiveMaximum"] = item.lt
    return out


def _default(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return None
    if isinstance(value, BaseModel):
        return {"provider": getattr(value, "provider", None)} | value.model_dump(
            by_alias=True, exclude_defaults=True
        )
    if isinstance(value, dict):
        return {k: _default(v) for k, v in value.items()}
    return value


def quill_properties() -> dict[str, dict[str, Any]]:
    """The VS Code configuration properties for every Quill setting, in settings order."""
    props: dict[str, dict[str, Any]] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = prefix + (info.alias or name)
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, key + ".")
                continue
            default = _default(info.get_default(call_default_factory=True))
            if name == "models":
                prop: dict[str, Any] = {
                    "type": "object",
                    "additionalProperties": {"type": "object"},
                }
            else:
                prop = {**_json_type(annotation), **_limits(info.metadata)}
            prop["default"] = default
            prop["markdownDescription"] = (info.description or "").strip()
            if _machine(key):
                prop["scope"] = "machine"
            props["quill." + key] = prop

    walk(Settings, "")
    return props


def synced(package: dict[str, Any]) -> dict[str, Any]:
    configuration = package["contributes"]["configuration"]
    old = configuration["properties"]
    own = {k: old[k] for k in EXTENSION_KEYS if k in old}
    configuration["properties"] = {**own, **quill_properties()}
    return package


def main(argv: list[str]) -> int:
    text = PACKAGE_JSON.read_text("utf-8")
    new = json.dumps(synced(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
    if "--check" in argv:
        if new != text:
            sys.stderr.write(
                "extension/package.json's settings differ from quill.config: run "
                ".venv/bin/python extension/scripts/sync_settings.py\n"
            )
            return 1
        return 0
    PACKAGE_JSON.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
