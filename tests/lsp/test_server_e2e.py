"""End to end with pytest-lsp over real stdio: initialize, status, a first AI answer."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO_ROOT, clean_environment

WORKSPACE = REPO_ROOT / "tests" / "fixtures" / "e2e"


def plain(value: Any) -> Any:
    """pygls hands custom messages over as namedtuples; turn them back into JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def accept_registrations(client: LanguageClient) -> list[Any]:
    """Answer ``client/registerCapability`` as an editor does; returns what was registered."""
    registered: list[Any] = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        registered.extend(params.registrations)

    return registered


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "quill.cli", "lsp", "--stdio"],
        server_env=clean_environment(Path("/tmp/quill-e2e")),
    ),
)
async def client(lsp_client: LanguageClient):
    statuses: list[dict[str, object]] = []

    @lsp_client.feature("quill/statusChanged")
    def on_status(ls: LanguageClient, params: object) -> None:
        statuses.append(plain(params))

    lsp_client.statuses = statuses  # type: ignore[attr-defined]
    lsp_client.registered = accept_registrations(lsp_client)  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=WORKSPACE.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_initialize_advertises_quill(client: LanguageClient) -> None:
    assert client.capabilities is not None
    result = plain(await client.protocol.send_request_async("quill/status", {}))
    assert result["kind"] in ("Normal", "Warning")
    assert [m["name"] for m in result["models"]] == ["local"]
    process = result["process"]  # what a leak check reads
    assert process["rssBytes"] > 10 * 2**20 and process["tasks"] >= 1 and process["threads"] >= 1


async def test_status_changes_to_ready_after_the_model_check(client: LanguageClient) -> None:
    statuses: list[dict[str, object]] = client.statuses  # type: ignore[attr-defined]
    for _ in range(600):  # other changes (the gateway starting) may be announced first
        if any("ready" in str(s["message"]) for s in statuses):
            break
        await asyncio.sleep(0.05)
    assert statuses, "no quill/statusChanged notification arrived"
    assert statuses[-1]["kind"] == "Normal"
    assert "ready" in str(statuses[-1]["message"])
    assert statuses[-1]["models"][0]["healthy"] is True  # type: ignore[index]


async def test_first_ai_request_about_an_open_document(client: LanguageClient) -> None:
    uri = (WORKSPACE / "shapes.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=1,
                text=(WORKSPACE / "shapes.py").read_text(),
            )
        )
    )
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="quill.ask", arguments=["What does area() return?", uri])
    )
    result = plain(result)
    assert result["model"] == "local"
    assert isinstance(result["text"], str) and result["text"].strip()


async def test_ask_rejects_an_empty_question(client: LanguageClient) -> None:
    with pytest.raises(Exception, match="question"):
        await client.protocol.send_request_async("quill/ask", {"question": "  "})
