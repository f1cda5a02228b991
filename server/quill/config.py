"""Quill's one typed settings tree.

Every setting has a default, so an empty configuration is a working one. Settings come from
layers, later wins: defaults, the user file (``~/.config/quill/config.toml``), the workspace
file (``.quill.toml``), ``QUILL_*`` environment variables, LSP ``initializationOptions`` and
``workspace/didChangeConfiguration``. On the wire and in files keys are camelCase; snake_case
is accepted too.

A value that fails validation is dropped (its default applies) and reported as a
:class:`SettingsProblem`; loading never raises.
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
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

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

Feature = Literal["completion", "chat", "actions"]
FEATURES: tuple[Feature, ...] = ("completion", "chat", "actions")


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
    )


class ModelSettings(_Section):
    """One named model: the embedded local model or an OpenAI-compatible endpoint."""

    provider: Literal["local", "openai"] = Field(
        "local", description="`local` (embedded llama.cpp) or `openai` (any compatible URL)."
    )
    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`."
    )
    model: str = Field("", description="Model name sent to the endpoint (`openai`).")
    model_path: str | None = Field(
        None, description="GGUF file for `local`; default: the embedded SmolLM2-135M-Instruct."
    )
    api_key: SecretStr | None = Field(None, description="API key sent as a Bearer token.")
    api_key_env: str | None = Field(
        None, description="Environment variable holding the API key (instead of `apiKey`)."
    )
    context_size: int = Field(
        2048, ge=256, le=1_048_576, description="Context window in tokens (`local` loads it)."
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads for `local` (default: half the cores)."
    )
    fim: Literal["auto", "infill", "template", "chat"] = Field(
        "auto",
        description="Fill-in-the-middle mode: probe (`auto`), llama.cpp `/infill`, FIM "
        "tokens in the prompt (`template`) or a chat hole-filler prompt (`chat`).",
    )
    connect_timeout_seconds: float = Field(
        3.0, gt=0, le=120, description="Connection timeout for `openai`."
    )
    first_token_timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="Longest wait for the first token before giving up."
    )
    timeout_seconds: float = Field(
        120.0, gt=0, le=3600, description="Longest time one request may take in total."
    )
    max_retries: int = Field(
        2, ge=0, le=10, description="Retries on 429/5xx/connection errors before falling back."
    )


class RouteSettings(_Section):
    """Which named models serve each feature, in fallback order."""

    completion: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for completions, in order."
    )
    chat: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for chat, in order."
    )
    actions: list[str] = Field(
        default_factory=lambda: ["local"], description="Models for code actions, in order."
    )


class RouterSettings(_Section):
    retry_base_delay_seconds: float = Field(
        0.25, ge=0, le=60, description="First retry delay; doubles on each retry."
    )
    retry_max_delay_seconds: float = Field(
        8.0,
        ge=0,
        le=600,
        description="Longest wait before a retry; a longer Retry-After "
        "moves on to the next model instead.",
    )
    circuit_breaker_cooldown_seconds: float = Field(
        30.0, ge=0, le=3600, description="How long a failed model is skipped before a retry."
    )


class LspSettings(_Section):
    max_message_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest LSP message accepted, in bytes."
    )
    parent_process_poll_seconds: float = Field(
        2.0, gt=0, le=60, description="How often to check that the editor process is alive."
    )


class CompletionSettings(_Section):
    enabled: bool = Field(True, description="Offer AI completions.")
    max_tokens: int = Field(64, ge=1, le=4096, description="Longest completion, in tokens.")
    context_tokens: int = Field(
        1024, ge=64, le=131_072, description="Token budget for the completion prompt."
    )
    embedded_context_tokens: int = Field(
        384,
        ge=64,
        le=131_072,
        description="Token budget for the completion prompt when the embedded model answers "
        "(small: on a CPU every prompt token costs time).",
    )
    invoked_wait_seconds: float = Field(
        3.0,
        ge=0,
        le=60,
        description="How long a list completion the user asked for (the completion key) waits "
        "for the model before answering; automatic requests answer from the cache at once.",
    )


class ChatSettings(_Section):
    max_tokens: int = Field(512, ge=1, le=32_768, description="Longest chat answer, in tokens.")
    context_tokens: int = Field(
        1024, ge=64, le=1_048_576, description="Token budget for file context in a chat turn."
    )
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature for chat.")


class IndexSettings(_Section):
    enabled: bool = Field(True, description="Index the workspace with tree-sitter.")
    max_file_bytes: int = Field(
        1_000_000, ge=1024, description="Files larger than this are not indexed."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Extra gitignore-style patterns to skip."
    )
    cache_dir: str | None = Field(
        None, description="Where the index database lives (default: the user cache dir)."
    )


class Settings(_Section):
    """The whole settings tree."""

    endpoint: str | None = Field(
        None,
        description="One setting to use any OpenAI-compatible server: its base URL. It "
        "becomes the model `endpoint`, first for every feature, with `local` as fallback.",
    )
    endpoint_model: str = Field("", description="Model name to request from `endpoint`.")
    api_key: SecretStr | None = Field(
        None, description="API key for `endpoint` (or set `OPENAI_API_KEY`)."
    )
    models: dict[str, ModelSettings] = Field(
        default_factory=lambda: {"local": ModelSettings()},
        description="Named models; `local` is the embedded model.",
    )
    routes: RouteSettings = Field(default_factory=RouteSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    lsp: LspSettings = Field(default_factory=LspSettings)
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server log (stderr or `--log-file`)."
    )
    trusted_workspaces: list[str] = Field(
        default_factory=list,
        description="Folders (glob patterns, `~` allowed, e.g. `~/work/*`) whose `.quill.toml` "
        "may set where code and keys go (`endpoint`, `apiKey`, `routes`, `models.*.baseUrl`, "
        "`apiKey`, `apiKeyEnv`, `modelPath`, `provider`, `index.cacheDir`). Read from the "
        "user's own config, the environment and the editor only.",
    )

    def effective_models(self) -> dict[str, ModelSettings]:
        """Named models with `endpoint` folded in and `local` always present."""
        models = dict(self.models)
        models.setdefault("local", ModelSettings())
        if self.endpoint:
            models["endpoint"] = ModelSettings(
                provider="openai",
                base_url=self.endpoint,
                model=self.endpoint_model,
                api_key=self.api_key,
                api_key_env=None if self.api_key else "OPENAI_API_KEY",
            )
        return models

    def route(self, feature: Feature) -> list[str]:
        """Model names serving ``feature``, in fallback order, unknown names dropped."""
        names: list[str] = list(getattr(self.routes, feature))
        if self.endpoint and "endpoint" not in names:
            names.insert(0, "endpoint")
        known = self.effective_models()
        out: list[str] = []
        for name in names:
            if name in known and name not in out:
                out.append(name)
        return out or ["local"]


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
