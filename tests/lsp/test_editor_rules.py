"""Rules every real editor relies on, over real stdio: a workspace path with a space and
non-ASCII characters, a line with non-ASCII text before the cursor, and both position
encodings (UTF-8 as Neovim 0.11 and Helix negotiate it, UTF-16 as VS Code does)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import clean_environment

from .test_index_e2e import wait_for_index
from .test_server_e2e import accept_registrations, plain

GEOMETRY = '''"""Shapes."""


def area_of_circle(radius):
    return 3.14159 * radius * radius


class Square:
    def __init__(self, side):
        self.side = side
'''
# A line whose text before the name is not ASCII: "é" is 2 UTF-8 bytes / 1 UTF-16 unit and
# "📐" is 4 UTF-8 bytes / 2 UTF-16 units.
CALL_LINE = 'label = "éééé 📐"; result = area_of_circle(2)'
MAIN = f"from geometry import area_of_circle\n\n{CALL_LINE}\ntotal = 'ü'; size = \n"
CALL_LINE_NO = 2
TYPING_LINE_NO = 3


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def make_workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="quill-editor-")) / "My Projects+@ café" / "app"
    root.mkdir(parents=True)
    (root / "geometry.py").write_text(GEOMETRY, encoding="utf-8")
    (root / "main.py").write_text(MAIN, encoding="utf-8")
    return root


def capabilities(encoding: str, *, inline: bool) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    if not inline:
        caps.text_document.inline_completion = None
    caps.general = types.GeneralClientCapabilities(
        position_encodings=[encoding] if encoding == "utf-16" else [encoding, "utf-16"]
    )
    return caps


CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "quill.cli", "lsp"],
    server_env=clean_environment(Path(tempfile.mkdtemp(prefix="quill-editor-env-"))),
)


#: long enough for a loaded machine; an editor user gets the 3 s default
MENU_SETTINGS = {"quill": {"completion": {"invokedWaitSeconds": 60}}}


async def _session(client: LanguageClient, encoding: str, inline: bool) -> AsyncIterator[None]:
    root = make_workspace()
    client.root = root  # type: ignore[attr-defined]
    client.encoding = encoding  # type: ignore[attr-defined]
    accept_registrations(client)
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(encoding, inline=inline),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="app")],
            initialization_options=None if inline else MENU_SETTINGS,
        )
    )
    client.init_result = result  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=main_uri(client), language_id="python", version=1, text=MAIN
            )
        )
    )
    await wait_for_index(client)
    yield
    await client.shutdown_session()
    shutil.rmtree(root.parents[1], ignore_errors=True)


def main_uri(client: LanguageClient) -> str:
    # Path.as_uri() percent-encodes the space, "@", "+" and "é", as editors do.
    return (client.root / "main.py").as_uri()  # type: ignore[attr-defined]


@pytest_lsp.fixture(config=CONFIG, params=["utf-8", "utf-16"])
async def editor(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    async for _ in _session(lsp_client, request.param, inline=True):
        yield


@pytest_lsp.fixture(config=CONFIG, params=["utf-8", "utf-16"])
async def menu_editor(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    async for _ in _session(lsp_client, request.param, inline=False):
        yield


def _enc(client: LanguageClient) -> str:
    return client.encoding  # type: ignore[attr-defined,no-any-return]


async def test_encoding_is_negotiated(editor: LanguageClient) -> None:
    caps = editor.init_result.capabilities  # type: ignore[attr-defined]
    assert caps.position_encoding == _enc(editor)


async def test_definition_after_non_ascii_text(editor: LanguageClient) -> None:
    column = CALL_LINE.index("area_of_circle") + 3
    character = units(CALL_LINE[:column], _enc(editor))
    result = await editor.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri(editor)),
            position=types.Position(line=CALL_LINE_NO, character=character),
        )
    )
    assert isinstance(result, list) and result, "no definition found after non-ASCII text"
    target = result[0]
    assert isinstance(target, types.Location)
    assert target.uri == (editor.root / "geometry.py").as_uri()  # type: ignore[attr-defined]
    assert target.range.start.line == 3


async def test_references_ranges_use_the_negotiated_encoding(editor: LanguageClient) -> None:
    column = CALL_LINE.index("area_of_circle")
    result = await editor.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri(editor)),
            position=types.Position(
                line=CALL_LINE_NO, character=units(CALL_LINE[:column], _enc(editor))
            ),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert result is not None
    on_line = [r for r in result if r.uri == main_uri(editor) and r.range.start.line == 2]
    assert len(on_line) == 1
    expected_start = units(CALL_LINE[:column], _enc(editor))
    assert on_line[0].range.start.character == expected_start
    assert on_line[0].range.end.character == expected_start + len("area_of_circle")


async def test_workspace_symbols_point_into_the_spaced_path(editor: LanguageClient) -> None:
    result = await editor.workspace_symbol_async(types.WorkspaceSymbolParams(query="area"))
    assert result is not None
    found = [s for s in result if s.name == "area_of_circle"]
    assert found, [s.name for s in result]
    location = found[0].location
    assert isinstance(location, types.Location)
    assert location.uri == (editor.root / "geometry.py").as_uri()  # type: ignore[attr-defined]


async def _last_prompt(client: LanguageClient) -> dict[str, Any]:
    record = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="quill.lastPrompt")
    )
    return plain(record)  # type: ignore[no-any-return]


@pytest.mark.model
async def test_inline_completion_splits_at_the_cursor(editor: LanguageClient) -> None:
    line = MAIN.split("\n")[TYPING_LINE_NO]
    result = await editor.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri(editor)),
            position=types.Position(line=TYPING_LINE_NO, character=units(line, _enc(editor))),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is not None
    record = await _last_prompt(editor)
    assert record["uri"].endswith("main.py") and record["mode"] == "continuation"
    prompt = record["prompt"]
    # The cursor is at the end of the line: the prompt ends with everything typed on it.
    assert prompt.endswith(line.rstrip(" \t")), prompt[-300:]


@pytest.mark.model
async def test_invoked_list_completion_waits_for_the_model(menu_editor: LanguageClient) -> None:
    line = MAIN.split("\n")[TYPING_LINE_NO]
    position = types.Position(line=TYPING_LINE_NO, character=units(line, _enc(menu_editor)))
    params = types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=main_uri(menu_editor)),
        position=position,
        context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
    )
    # One invoked request, as when the user presses the completion key once: it waits for
    # the model (which an editor's menu needs, since it does not ask again).
    result = await menu_editor.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList) and result.items, "the menu stayed empty"
    item = result.items[0]
    assert item.detail == "Quill AI suggestion"
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit) and edit.new_text.strip()
    assert edit.range.end == position
    assert edit.range.start == position  # nothing typed of a word before the cursor
    assert item.filter_text == edit.new_text

    # An automatic request (typing) answers at once from the cache, marked incomplete.
    auto = await menu_editor.text_document_completion_async(
        types.CompletionParams(
            text_document=params.text_document,
            position=position,
            context=types.CompletionContext(
                trigger_kind=types.CompletionTriggerKind.TriggerCharacter, trigger_character=" "
            ),
        )
    )
    assert isinstance(auto, types.CompletionList) and auto.is_incomplete
    assert [i.text_edit.new_text for i in auto.items if i.text_edit] == [edit.new_text]
