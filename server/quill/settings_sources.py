"""Where settings come from, and how they merge into one :class:`quill.config.Settings`.

Layers, later wins: defaults, the user file (``~/.config/quill/config.toml``), the workspace
file (``.quill.toml``), ``QUILL_*`` environment variables, LSP ``initializationOptions`` and
``workspace/didChangeConfiguration``. A value that fails validation is dropped (its default
applies) and reported as a :class:`SettingsProblem`; loading never raises.

Workspace trust: what decides where code and keys go (:data:`TRUST_REQUIRED_KEYS`) applies from
a workspace's own ``.quill.toml`` only when the user's own settings trust that folder.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from quill.config import Settings

log = logging.getLogger(__name__)

ENV_PREFIX = "QUILL_"
WORKSPACE_FILE = ".quill.toml"
#: Settings that decide where code and keys are sent (or which files are loaded and written).
#: From a workspace's own ``.quill.toml`` they apply only when the user trusts that folder,
#: so a cloned repository cannot send the user's key or code to a server of its choosing.
TRUST_REQUIRED_KEYS = (
    "endpoint",
    "apiKey",
    "models.*.provider",
    "models.*.baseUrl",
    "models.*.apiKey",
    "models.*.apiKeyEnv",
    "models.*.modelPath",
    "routes",
    "index.cacheDir",
    "trustedWorkspaces",
)


@dataclass(frozen=True)
class SettingsProblem:
    """A setting that was ignored, with where it came from."""

    key: str
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} ({self.source}): {self.message}"


@dataclass
class SettingsLayer:
    source: str
    values: dict[str, Any] = field(default_factory=dict)


def user_config_path() -> Path:
    override = os.environ.get("QUILL_CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("quill")) / "config.toml"


def read_toml_layer(path: Path, source: str) -> tuple[SettingsLayer, list[SettingsProblem]]:
    if not path.is_file():
        return SettingsLayer(source), []
    try:
        with path.open("rb") as fh:
            return SettingsLayer(source, tomllib.load(fh)), []
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return SettingsLayer(source), [SettingsProblem(str(path), source, f"unreadable: {exc}")]


def _snake_to_camel(name: str) -> str:
    return to_camel(name.lower())


def env_layer(environ: Mapping[str, str] | None = None) -> SettingsLayer:
    """``QUILL_COMPLETION__MAX_TOKENS=32`` → ``{"completion": {"maxTokens": 32}}``.

    Values are parsed as JSON when they parse (numbers, booleans, lists), else kept as text.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key == "QUILL_CONFIG_FILE":
            continue
        parts = [p for p in key[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        node = values
        for part in parts[:-1]:
            child = node.setdefault(_snake_to_camel(part), {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[_snake_to_camel(parts[-1])] = value
    return SettingsLayer("environment", values)


def _normalise_keys(value: Any, *, keep_keys: bool = False) -> Any:
    """Turn snake_case keys into camelCase so layers merge key by key.

    The names of models (keys of the ``models`` table) are the user's own and kept as written.
    """
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = k if keep_keys or not isinstance(k, str) or "_" not in k else _snake_to_camel(k)
            out[key] = _normalise_keys(v, keep_keys=(key == "models" and not keep_keys))
        return out
    return value


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _drop_path(tree: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the value at ``loc`` (stopping at the first list) from ``tree``."""
    node: Any = tree
    parents: list[tuple[dict[str, Any], str]] = []
    for part in loc:
        if not isinstance(node, dict) or not isinstance(part, str) or part not in node:
            break
        parents.append((node, part))
        node = node[part]
    if not parents:
        return False
    container, key = parents[-1]
    del container[key]
    return True


def _key_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc if isinstance(p, str)) or "<root>"


def build_settings(layers: Iterable[SettingsLayer]) -> tuple[Settings, list[SettingsProblem]]:
    """Merge ``layers`` (later wins) and validate; bad values fall back to defaults."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    problems: list[SettingsProblem] = []
    for layer in layers:
        values = layer.values
        if not isinstance(values, Mapping):
            problems.append(SettingsProblem("<root>", layer.source, "expected a table/object"))
            continue
        normal = _normalise_keys(dict(values))
        merged = _deep_merge(merged, normal)
        for key in _flat_keys(normal):
            origin[key] = layer.source
    for _ in range(200):
        try:
            return Settings.model_validate(merged), problems
        except ValidationError as exc:
            progressed = False
            for err in exc.errors():
                loc = tuple(err["loc"])
                key = _key_name(loc)
                if _drop_path(merged, loc):
                    progressed = True
                    msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
                    problems.append(SettingsProblem(key, _origin_of(origin, key), msg))
            if not progressed:
                break
    problems.append(SettingsProblem("<root>", "settings", "could not be read; using defaults"))
    return Settings(), problems


def _flat_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        keys.append(path)
        if isinstance(value, Mapping):
            keys.extend(_flat_keys(value, path + "."))
    return keys


def _origin_of(origin: Mapping[str, str], key: str) -> str:
    while key:
        if key in origin:
            return origin[key]
        key = key.rpartition(".")[0]
    return "settings"


def _trusted_patterns(layers: Iterable[SettingsLayer]) -> list[str]:
    patterns: list[str] = []
    for layer in layers:
        values = layer.values if isinstance(layer.values, Mapping) else {}
        found = _normalise_keys(dict(values)).get("trustedWorkspaces")
        if isinstance(found, str):
            found = [found]
        if isinstance(found, list):
            patterns += [p for p in found if isinstance(p, str) and p.strip()]
    return patterns


def is_trusted_workspace(workspace: Path, patterns: Iterable[str]) -> bool:
    """True when ``workspace`` matches one of ``patterns`` (globs; ``~`` expands)."""
    folder = workspace.resolve().as_posix()
    for pattern in patterns:
        expanded = os.path.expanduser(pattern.strip()).rstrip("/") or "/"
        if any(c in expanded for c in "*?["):
            if fnmatch.fnmatchcase(folder, expanded):
                return True
        elif Path(expanded).resolve().as_posix() == folder:
            return True
    return False


def strip_trust_required(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``values`` without the settings of :data:`TRUST_REQUIRED_KEYS`; and the keys removed."""
    tree = _normalise_keys(dict(values))
    removed: list[str] = []
    for key in TRUST_REQUIRED_KEYS:
        head, _, rest = key.partition(".*.")
        if not rest:
            node: Any = tree
            parts = key.split(".")
            for part in parts[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and parts[-1] in node:
                del node[parts[-1]]
                removed.append(key)
            continue
        models = tree.get(head)
        if not isinstance(models, dict):
            continue
        for name, entry in models.items():
            if isinstance(entry, dict) and rest in entry:
                del entry[rest]
                removed.append(f"{head}.{name}.{rest}")
    return tree, removed


@dataclass
class SettingsSources:
    """All layers of settings for one workspace; client layers can be replaced later."""

    workspace: Path | None = None
    initialization_options: dict[str, Any] = field(default_factory=dict)
    client_settings: dict[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None
    #: keys of the workspace's ``.quill.toml`` ignored at the last load (folder not trusted)
    untrusted_keys: list[str] = field(default_factory=list)

    def load(self) -> tuple[Settings, list[SettingsProblem]]:
        problems: list[SettingsProblem] = []
        user, p = read_toml_layer(user_config_path(), "user config")
        problems += p
        trusted_layers = [
            user,
            env_layer(self.environ),
            SettingsLayer("initializationOptions", self.initialization_options),
            SettingsLayer("workspace/didChangeConfiguration", self.client_settings),
        ]
        layers = [trusted_layers[0]]
        self.untrusted_keys = []
        if self.workspace is not None:
            ws, p = read_toml_layer(self.workspace / WORKSPACE_FILE, WORKSPACE_FILE)
            problems += p
            if isinstance(ws.values, Mapping):
                trusted = is_trusted_workspace(self.workspace, _trusted_patterns(trusted_layers))
                values, removed = strip_trust_required(ws.values)
                if trusted:  # everything but a say in what else is trusted
                    ws = SettingsLayer(ws.source, _without_key(ws.values, "trustedWorkspaces"))
                else:
                    ws = SettingsLayer(ws.source, values)
                    self.untrusted_keys = removed
            layers.append(ws)
        layers += trusted_layers[1:]
        settings, more = build_settings(layers)
        return settings, problems + more

    def untrusted_message(self) -> str | None:
        """One line for the user when the workspace's file asked for what needs trust."""
        if not self.untrusted_keys or self.workspace is None:
            return None
        keys = ", ".join(self.untrusted_keys)
        folder = self.workspace.resolve().as_posix()
        return (
            f"Quill: ignored {keys} from this folder's {WORKSPACE_FILE}: a repository's own "
            "files may not choose where your code and keys are sent. If you trust this folder, "
            f'add trustedWorkspaces = ["{folder}"] to {user_config_path()}.'
        )


def _without_key(values: Mapping[str, Any], key: str) -> dict[str, Any]:
    tree = _normalise_keys(dict(values))
    tree.pop(key, None)
    return tree


def unwrap_client_settings(value: Any) -> dict[str, Any]:
    """Editors send ``{"quill": {...}}`` or the section itself; accept both."""
    if isinstance(value, dict):
        inner = value.get("quill")
        if isinstance(inner, dict):
            return inner
        return value
    return {}
