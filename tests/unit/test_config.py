from __future__ import annotations

import re
from pathlib import Path

import pytest

from quill.config import ModelSettings, Settings
from quill.settings_doc import settings_markdown_table, settings_reference_rows
from quill.settings_sources import SettingsSources, env_layer, unwrap_client_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_configuration() -> None:
    settings, problems = SettingsSources().load()
    assert problems == []
    assert settings.route("completion") == ["local"]
    assert settings.effective_models()["local"].provider == "local"
    assert settings == Settings()


def test_layers_later_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "user.toml"
    user.write_text("[completion]\nmaxTokens = 10\ncontextTokens = 100\n[chat]\nmaxTokens = 5\n")
    monkeypatch.setenv("QUILL_CONFIG_FILE", str(user))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".quill.toml").write_text("[completion]\nmax_tokens = 20\n")
    sources = SettingsSources(
        workspace=ws,
        environ={"QUILL_COMPLETION__CONTEXT_TOKENS": "300", "QUILL_CHAT__MAX_TOKENS": "7"},
        initialization_options={"chat": {"maxTokens": 8}},
        client_settings={"chat": {"temperature": 0.5}},
    )
    settings, problems = sources.load()
    assert problems == []
    assert settings.completion.max_tokens == 20  # workspace beats user
    assert settings.completion.context_tokens == 300  # environment beats user
    assert settings.chat.max_tokens == 8  # initializationOptions beat environment
    assert settings.chat.temperature == 0.5  # didChangeConfiguration on top


def test_invalid_values_fall_back_to_defaults_and_are_named() -> None:
    sources = SettingsSources(
        initialization_options={
            "completion": {"maxTokens": "lots", "enabled": False},
            "bogusKey": 1,
            "models": {"remote": {"provider": "carrier-pigeon"}},
        }
    )
    settings, problems = sources.load()
    keys = {p.key for p in problems}
    assert "completion.maxTokens" in keys
    assert "bogusKey" in keys
    assert "models.remote.provider" in keys
    assert all(p.source == "initializationOptions" for p in problems)
    assert settings.completion.max_tokens == 64  # default kept
    assert settings.completion.enabled is False  # the valid sibling survives
    assert settings.models["remote"].provider == "local"


def test_unreadable_files_are_problems_not_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user.toml"
    user.write_text("this is = = not toml")
    monkeypatch.setenv("QUILL_CONFIG_FILE", str(user))
    settings, problems = SettingsSources().load()
    assert settings == Settings()
    assert len(problems) == 1 and "unreadable" in problems[0].message


def test_non_mapping_layer_is_reported() -> None:
    settings, problems = SettingsSources(client_settings=["not", "a", "table"]).load()  # type: ignore[arg-type]
    assert settings == Settings()
    assert problems and problems[0].key == "<root>"


def test_environment_parsing() -> None:
    layer = env_layer(
        {
            "QUILL_ENDPOINT": "http://127.0.0.1:8080/v1",
            "QUILL_INDEX__EXCLUDE": '["*.min.js"]',
            "QUILL_MODELS__local__CONTEXT_SIZE": "4096",
            "HOME": "/root",
        }
    )
    assert layer.values == {
        "endpoint": "http://127.0.0.1:8080/v1",
        "index": {"exclude": ["*.min.js"]},
        "models": {"local": {"contextSize": 4096}},
    }


def test_one_setting_points_every_feature_at_an_endpoint() -> None:
    settings, problems = SettingsSources(environ={"QUILL_ENDPOINT": "http://h:1/v1"}).load()
    assert problems == []
    for feature in ("completion", "chat", "actions"):
        assert settings.route(feature) == ["endpoint", "local"]
    endpoint = settings.effective_models()["endpoint"]
    assert endpoint.provider == "openai" and endpoint.base_url == "http://h:1/v1"
    assert endpoint.api_key_env == "OPENAI_API_KEY"


def test_model_names_keep_their_spelling() -> None:
    settings, problems = SettingsSources(
        initialization_options={
            "models": {"fast_remote": {"provider": "openai", "base_url": "http://x"}},
            "routes": {"chat": ["fast_remote", "missing"]},
        }
    ).load()
    assert problems == []
    assert settings.route("chat") == ["fast_remote"]
    assert settings.models["fast_remote"].base_url == "http://x"


def test_unwrap_client_settings() -> None:
    assert unwrap_client_settings({"quill": {"a": 1}}) == {"a": 1}
    assert unwrap_client_settings({"a": 1}) == {"a": 1}
    assert unwrap_client_settings(None) == {}


def test_secret_is_not_echoed() -> None:
    model = ModelSettings(provider="openai", base_url="http://x", api_key="sk-secret")
    assert "sk-secret" not in repr(model)


def test_readme_documents_every_setting() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", readme, re.S
    )
    assert match, "README.md lacks the settings table markers"
    assert match.group(1).strip() == settings_markdown_table().strip(), (
        "README settings table is out of date: regenerate it with "
        "`quill settings` and paste it between the markers"
    )
    keys = [row[0] for row in settings_reference_rows()]
    assert "completion.maxTokens" in keys and "models.<name>.baseUrl" in keys
