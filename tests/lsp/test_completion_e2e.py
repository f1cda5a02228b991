"""Completions over real stdio: ghost text for clients that have it, list items otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO_ROOT, clean_environment

from .test_server_e2e import accept_registrations, plain

WORKSPACE = REPO_ROOT / "tests" / "fixtures" / "e2e"
SOURCE = "import math\n\n\ndef circle_area(radius):\n    \n"
URI = (WORKSPACE / "circle.py").as_uri()
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "quill.cli", "lsp"],
    server_env=clean_environment(Path("/tmp/quill-e2e-completion")),
)


async def _start(client: LanguageClient, capabilities: types.ClientCapabilities) -> None:
    accept_registrations(client)
    client.init_result = await client.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(capabilities=capabilities, root_uri=WORKSPACE.as_uri())
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="python", version=1, text=SOURCE
            )
        )
    )


@pytest_lsp.fixture(config=CONFIG)
async def vscode(lsp_client: LanguageClient):
    await _start(lsp_client, client_capabilities("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def plain_client(lsp_client: LanguageClient):
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = None  # an editor without ghost text
    await _start(lsp_client, caps)
    yield
    await lsp_client.shutdown_session()


async def test_inline_completion_and_transparency(vscode: LanguageClient) -> None:
    server_caps = vscode.init_result.capabilities  # type: ignore[attr-defined]
    assert server_caps.inline_completion_provider is not None
    result = await vscode.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=4, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is not None
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    assert len(items) == 1 and items[0].insert_text.strip()
    assert items[0].command is not None and items[0].command.command == "quill.acceptCompletion"

    vscode.protocol.notify(
        "textDocument/didShowCompletion",
        {
            "item": {
                "insertText": items[0].insert_text,
                "command": {
                    "title": "",
                    "command": "quill.acceptCompletion",
                    "arguments": items[0].command.arguments,
                },
            }
        },
    )
    await vscode.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="quill.acceptCompletion", arguments=items[0].command.arguments
        )
    )
    last = plain(
        await vscode.workspace_execute_command_async(
            types.ExecuteCommandParams(command="quill.lastPrompt")
        )
    )
    assert last["model"] == "local" and last["mode"] == "continuation"
    assert last["tokens"]["prefix"] > 0 and last["tokens"]["budget"] == 384
    assert last["completion"] == items[0].insert_text

    status = plain(await vscode.protocol.send_request_async("quill/status", {}))
    completion = status["completion"]
    assert completion["modelCalls"] == 1 and completion["shown"] == 1
    assert completion["accepted"] == 1 and completion["acceptanceRate"] == 1.0
    assert completion["latencyMsP50"] is not None


async def test_unknown_document_and_bad_position_are_empty(vscode: LanguageClient) -> None:
    for uri, line in (("file:///nowhere/else.py", 0), (URI, 999)):
        result = await vscode.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=3),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        items = result.items if isinstance(result, types.InlineCompletionList) else result
        assert list(items) == []


async def test_list_completion_for_editors_without_ghost_text(plain_client: LanguageClient) -> None:
    params = types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(line=4, character=4),
        context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
    )
    result = await plain_client.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList) and result.is_incomplete
    for _ in range(50):  # the model may be slower than the list wait: ask again, as editors do
        if result.items:
            break
        result = await plain_client.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList)
    assert len(result.items) == 1
    item = result.items[0]
    assert item.detail == "Quill AI suggestion" and item.text_edit is not None
