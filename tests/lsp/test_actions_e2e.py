"""Code actions over real stdio on the embedded model: the menu, lazy resolve, and the
command form (with workspace/applyEdit) for clients without resolve support."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import clean_environment

from .test_server_e2e import accept_registrations, plain

SOURCE = """import math


def circle_area(radius):
    return math.pi * radius ** 2


def describe(shape):
    return f"{shape} of area {circle_area(2)}"
"""
CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "quill.cli", "lsp"],
    server_env=clean_environment(Path(tempfile.mkdtemp(prefix="quill-actions-env-"))),
)


def _read_code_actions_as_editors_do(client: LanguageClient) -> None:
    """lsprotocol reads any object with a ``command`` key as a Command; editors (VS Code,
    Neovim, eglot) read a CodeAction whose ``command`` is an object. Read it as they do."""
    converter = client.protocol._converter

    def hook(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


async def _start(client: LanguageClient, caps: types.ClientCapabilities) -> None:
    _read_code_actions_as_editors_do(client)
    root = Path(tempfile.mkdtemp(prefix="quill-actions-")) / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "shapes.py").write_text(SOURCE)
    (root / "tests" / "test_other.py").write_text("def test_nothing():\n    assert True\n")
    client.root = root  # type: ignore[attr-defined]
    client.applied = []  # type: ignore[attr-defined]
    accept_registrations(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply(ls: LanguageClient, params: types.ApplyWorkspaceEditParams) -> Any:
        client.applied.append(params.edit)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    await client.initialize_session(
        types.InitializeParams(capabilities=caps, root_uri=root.as_uri())
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=_uri(client), language_id="python", version=1, text=SOURCE
            )
        )
    )


def _uri(client: LanguageClient) -> str:
    return (client.root / "shapes.py").as_uri()  # type: ignore[attr-defined]


@pytest_lsp.fixture(config=CONFIG)
async def vscode(lsp_client: LanguageClient):
    await _start(lsp_client, client_capabilities("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(lsp_client.root.parent, ignore_errors=True)  # type: ignore[attr-defined]


@pytest_lsp.fixture(config=CONFIG)
async def plain_client(lsp_client: LanguageClient):
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.code_action is not None
    caps.text_document.code_action.resolve_support = None  # like Neovim 0.7 and eglot 1.9
    assert caps.window is not None
    caps.window.show_document = None
    await _start(lsp_client, caps)
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(lsp_client.root.parent, ignore_errors=True)  # type: ignore[attr-defined]


def _at(line: int, character: int) -> types.Range:
    p = types.Position(line=line, character=character)
    return types.Range(start=p, end=p)


async def _actions(client: LanguageClient, r: types.Range) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=_uri(client)),
            range=r,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_the_menu_lists_every_action_without_a_model_call(vscode: LanguageClient) -> None:
    actions = await _actions(vscode, _at(4, 8))
    titles = [a.title for a in actions]
    assert titles == [
        "Quill: Explain function circle_area",
        "Quill: Refactor function circle_area",
        "Quill: Find bugs in function circle_area",
        "Quill: Generate tests for function circle_area",
        "Quill: Add docstring to function circle_area",
    ]
    lazy = {a.title: a for a in actions if a.data is not None}
    assert set(lazy) == {titles[1], titles[3], titles[4]}  # edits come on resolve
    assert all(a.edit is None for a in actions)
    status = plain(await vscode.protocol.send_request_async("quill/status", {}))
    assert status["completion"]["modelCalls"] == 0
    assert await _actions(vscode, _at(0, 3)) == []  # an import line: nothing to act on


@pytest.mark.model
async def test_resolve_gives_a_reviewable_edit_or_a_message(vscode: LanguageClient) -> None:
    actions = await _actions(vscode, _at(4, 8))
    docstring = next(a for a in actions if a.title.startswith("Quill: Add docstring"))
    resolved = await vscode.code_action_resolve_async(docstring)
    if resolved.edit is None:
        assert vscode.messages, "no edit and no message"
        return
    changes = resolved.edit.document_changes or []
    assert len(changes) == 1
    change = changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == _uri(vscode) and change.text_document.version == 1
    for edit in change.edits:
        assert isinstance(edit, types.TextEdit)
        # minimal: inside the function's lines, never the whole file
        assert 3 <= edit.range.start.line <= edit.range.end.line <= 5


@pytest.mark.model
async def test_commands_apply_edits_and_explain(plain_client: LanguageClient) -> None:
    actions = await _actions(plain_client, _at(4, 8))
    assert all(a.command is not None and a.data is None for a in actions)
    explain = next(a for a in actions if a.title.startswith("Quill: Explain"))
    assert explain.command is not None
    result = plain(
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=explain.command.command, arguments=explain.command.arguments
            )
        )
    )
    assert result["markdown"].strip() and result["shown"] is False
    assert plain_client.messages  # shown as a message

    refactor = next(a for a in actions if a.title.startswith("Quill: Refactor"))
    assert refactor.command is not None
    outcome = plain(
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=refactor.command.command,
                arguments=[*(refactor.command.arguments or []), "Use a local variable."],
            )
        )
    )
    if outcome["applied"]:
        (edit,) = plain_client.applied  # type: ignore[attr-defined]
        assert edit.changes and list(edit.changes) == [_uri(plain_client)]
    else:
        assert outcome["message"] and plain_client.applied == []  # type: ignore[attr-defined]


async def test_bad_arguments_and_unknown_documents_are_clear(plain_client: LanguageClient) -> None:
    outcome = plain(
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="quill.refactor",
                arguments=[
                    "file:///nowhere/x.py",
                    {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                ],
            )
        )
    )
    assert outcome == {"applied": False, "message": "open the file in the editor first"}
    with pytest.raises(Exception, match="usage"):
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="quill.explain", arguments=[])
        )


@pytest.mark.model
async def test_generated_tests_go_in_a_new_file_where_the_project_keeps_them(
    vscode: LanguageClient,
) -> None:
    actions = await _actions(vscode, _at(4, 8))
    generate = next(a for a in actions if a.title.startswith("Quill: Generate tests"))
    resolved = await vscode.code_action_resolve_async(generate)
    if resolved.edit is None:
        assert vscode.messages, "no edit and no message"
        return
    changes = resolved.edit.document_changes or []
    create, fill = changes
    assert isinstance(create, types.CreateFile) and isinstance(fill, types.TextDocumentEdit)
    expected = (vscode.root / "tests" / "test_shapes.py").as_uri()  # type: ignore[attr-defined]
    assert create.uri == fill.text_document.uri == expected
    assert create.options is not None and create.options.ignore_if_exists
    (edit,) = fill.edits
    assert isinstance(edit, types.TextEdit) and edit.new_text.startswith("import pytest\n")
    assert "from shapes import circle_area\n" in edit.new_text and "test" in edit.new_text
    assert not (vscode.root / "tests" / "test_shapes.py").exists()  # type: ignore[attr-defined]


BUGGY = "def check(value):\n    if value == None:\n        return 0\n    return value\n"


async def test_static_rules_are_published_with_quick_fixes(plain_client: LanguageClient) -> None:
    uri = (plain_client.root / "buggy.py").as_uri()  # type: ignore[attr-defined]
    plain_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=BUGGY
            )
        )
    )
    diagnostics: list[types.Diagnostic] = []
    for _ in range(100):
        diagnostics = list(plain_client.diagnostics.get(uri, []))
        if diagnostics:
            break
        await asyncio.sleep(0.05)
    (found,) = [d for d in diagnostics if d.code == "singleton-comparison"]
    assert found.source == "quill" and found.range.start.line == 1
    result = await plain_client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found.range,
            context=types.CodeActionContext(diagnostics=[found]),
        )
    )
    fixes = [a for a in result or [] if isinstance(a, types.CodeAction) and a.edit is not None]
    assert fixes, "no quick fix for the static finding"
    edit = fixes[0].edit
    assert edit is not None and edit.changes is not None
    (text_edit,) = edit.changes[uri]
    assert isinstance(text_edit, types.TextEdit)
    lines = BUGGY.split("\n")
    line = lines[text_edit.range.start.line]
    fixed = (
        line[: text_edit.range.start.character]
        + text_edit.new_text
        + line[text_edit.range.end.character :]
    )
    assert fixed == "    if value is None:"


@pytest.mark.model
async def test_find_bugs_and_fix_commands(plain_client: LanguageClient) -> None:
    r = _range_json_at(4, 8)
    found = plain(
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="quill.findBugs", arguments=[_uri(plain_client), r])
        )
    )
    assert isinstance(found["findings"], list)  # the model's review, validated (maybe empty)
    for finding in found["findings"]:
        assert 3 <= finding["line"] <= 4 and finding["message"]
    fixed = plain(
        await plain_client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="quill.fix",
                arguments=[_uri(plain_client), r, "radius may be negative"],
            )
        )
    )
    assert set(fixed) == {"applied", "message"}
    if not fixed["applied"]:
        assert fixed["message"] and plain_client.applied == []  # type: ignore[attr-defined]


def _range_json_at(line: int, character: int) -> dict[str, Any]:
    p = {"line": line, "character": character}
    return {"start": p, "end": p}
