"""The VS Code extension's manifest against the server: every Quill setting is an extension
setting of the same type, range, choices and default (one for one, nothing extra), settings
that decide where code and keys go are user-only, the palette commands have their own ids,
and the extension's README names every command and setting group.

The extension's own build, lint and unit tests run with `make extension`; `make e2e` runs it in
code-server (extension.mk)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from quill.settings_doc import settings_reference_rows
from quill.settings_sources import TRUST_REQUIRED_KEYS

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
SERVER_COMMANDS = {
    "quill.explain",
    "quill.refactor",
    "quill.findBugs",
    "quill.generateTests",
    "quill.lastPrompt",
    "quill.addDocstring",
    "quill.fix",
    "quill.ask",
    "quill.acceptCompletion",
}


def _sync_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sync_settings", EXTENSION / "scripts" / "sync_settings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package() -> dict:
    return json.loads((EXTENSION / "package.json").read_text("utf-8"))


def test_package_json_settings_are_generated_from_quill_config() -> None:
    sync = _sync_module()
    text = (EXTENSION / "package.json").read_text("utf-8")
    expected = json.dumps(sync.synced(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
    assert text == expected, "run .venv/bin/python extension/scripts/sync_settings.py"


def test_every_setting_maps_one_for_one() -> None:
    properties = _package()["contributes"]["configuration"]["properties"]
    own = {"quill.pythonPath", "quill.installRoot", "quill.trace.server"}
    quill_keys = {"quill." + key for key, *_ in settings_reference_rows() if ".<name>." not in key}
    assert set(properties) - own == quill_keys
    assert properties["quill.completion.maxTokens"]["type"] == "integer"
    assert properties["quill.completion.maxTokens"]["default"] == 64
    assert properties["quill.completion.maxTokens"]["minimum"] == 1
    assert properties["quill.logLevel"]["enum"] == ["debug", "info", "warning", "error"]
    assert properties["quill.endpoint"]["type"] == ["string", "null"]
    assert properties["quill.index.exclude"]["items"] == {"type": "string"}
    assert properties["quill.models"]["default"] == {"local": {"provider": "local"}}


def test_where_code_and_keys_go_is_the_users_choice_only() -> None:
    properties = _package()["contributes"]["configuration"]["properties"]
    machine = {k for k, v in properties.items() if v.get("scope") == "machine"}
    heads = {k.partition(".*.")[0] for k in TRUST_REQUIRED_KEYS}
    for key in properties:
        short = key.removeprefix("quill.")
        if any(short == h or short.startswith(h + ".") for h in heads):
            assert key in machine, key
    assert "quill.completion.maxTokens" not in machine
    restricted = _package()["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert set(restricted) == {"quill.pythonPath", "quill.installRoot"}


def test_palette_commands_have_their_own_ids_and_are_documented() -> None:
    package = _package()
    commands = {c["command"]: c["title"] for c in package["contributes"]["commands"]}
    assert not set(commands) & SERVER_COMMANDS  # the language client registers those
    titles = {
        "Explain",
        "Refactor",
        "Find Bugs",
        "Generate Tests",
        "Open Chat",
        "Show Last Prompt",
        "Restart Server",
    }
    assert titles <= set(commands.values())
    readme = (EXTENSION / "README.md").read_text("utf-8")
    for title in titles:
        assert f"Quill: {title}" in readme, title
    for key in (
        "quill.pythonPath",
        "quill.installRoot",
        "quill.endpoint",
        "quill.completion.enabled",
    ):
        assert key in readme, key
