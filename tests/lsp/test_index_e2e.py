"""The workspace index over real stdio: progress, symbols, definitions, references, updates."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO_ROOT, clean_environment

from .test_server_e2e import accept_registrations, plain

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "workspace_app"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "quill.cli", "lsp"],
        server_env=clean_environment(Path(tempfile.mkdtemp(prefix="quill-index-e2e-"))),
    ),
)
async def client(lsp_client: LanguageClient):
    root = Path(tempfile.mkdtemp(prefix="quill-ws-")) / "ws"
    shutil.copytree(FIXTURE, root)
    lsp_client.root = root  # type: ignore[attr-defined]
    lsp_client.registered = accept_registrations(lsp_client)  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri()
        )
    )
    await wait_for_index(lsp_client)
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(root.parent, ignore_errors=True)


async def wait_for_index(client: LanguageClient) -> None:
    for _ in range(600):
        for reports in client.progress_reports.values():
            if any(getattr(r, "kind", None) == "end" for r in reports):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"indexing never finished: {client.progress_reports}")


def uri(client: LanguageClient, rel: str) -> str:
    return (client.root / rel).as_uri()  # type: ignore[attr-defined]


async def eventually(check: Any, tries: int = 100) -> Any:
    for _ in range(tries):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    return await check()


async def test_progress_and_watcher_registration(client: LanguageClient) -> None:
    (reports,) = client.progress_reports.values()
    kinds = [getattr(r, "kind", None) for r in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert "files indexed" in reports[-1].message
    methods = [r.method for r in client.registered]  # type: ignore[attr-defined]
    assert "workspace/didChangeWatchedFiles" in methods


async def test_workspace_symbols_fuzzy(client: LanguageClient) -> None:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="updim"))
    assert result is not None
    names = [s.name for s in result]
    assert names[0] == "update_dimensions"
    first = result[0]
    assert first.kind == types.SymbolKind.Method and first.container_name == "Layout"
    assert first.location.uri == uri(client, "app/geometry.py")  # type: ignore[union-attr]


async def test_document_symbols_are_hierarchical(client: LanguageClient) -> None:
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            text_document=types.TextDocumentIdentifier(uri=uri(client, "app/geometry.py"))
        )
    )
    assert result is not None
    top = {s.name: s for s in result}  # type: ignore[union-attr]
    assert set(top) >= {"area", "Layout"}
    layout = top["Layout"]
    assert layout.kind == types.SymbolKind.Class
    children = [c.name for c in layout.children or []]  # type: ignore[union-attr]
    assert children == ["__init__", "update_dimensions", "total_area"]


async def test_definition_and_references_across_files(client: LanguageClient) -> None:
    main_uri = uri(client, "app/main.py")
    text = (client.root / "app/main.py").read_text()  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=main_uri, language_id="python", version=1, text=text
            )
        )
    )
    line = 5  # "    layout.update_dimensions(2.0, 3.0)"
    character = text.splitlines()[line].index("update_dimensions") + 3
    locations = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri),
            position=types.Position(line=line, character=character),
        )
    )
    assert isinstance(locations, list) and locations
    target = locations[0]
    assert isinstance(target, types.Location)
    assert target.uri == uri(client, "app/geometry.py")
    assert target.range.start.line == 12  # def update_dimensions(...)

    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri),
            position=types.Position(line=line, character=character),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    spots = {(r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs}
    assert ("main.py", 5) in spots and ("geometry.py", 12) in spots


async def test_buffer_edits_and_disk_changes_reach_the_index(client: LanguageClient) -> None:
    main_uri = uri(client, "app/main.py")
    text = (client.root / "app/main.py").read_text()  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=main_uri, language_id="python", version=1, text=text
            )
        )
    )
    end = len(text.splitlines())
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=main_uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=end, character=0),
                        end=types.Position(line=end, character=0),
                    ),
                    text="\n\ndef freshly_typed_helper():\n    return 1\n",
                )
            ],
        )
    )

    async def typed() -> Any:
        found = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="freshly_typed_helper")
        )
        return [s for s in found or [] if s.name == "freshly_typed_helper"]

    assert await eventually(typed)

    new_file = client.root / "app/extra.py"  # type: ignore[attr-defined]
    new_file.write_text("def saved_on_disk_only():\n    pass\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Created)]
        )
    )

    async def on_disk() -> Any:
        found = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="saved_on_disk_only")
        )
        return [s for s in found or [] if s.name == "saved_on_disk_only"]

    assert await eventually(on_disk)
    new_file.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new_file.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )

    async def gone() -> Any:
        return not await on_disk()

    assert await eventually(gone)


async def test_completion_prompt_sees_definitions_from_other_files(
    client: LanguageClient,
) -> None:
    main_uri = uri(client, "app/main.py")
    text = (
        "from app.geometry import Layout, area\n\n\n"
        "def build():\n    layout = Layout()\n    layout.\n"
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=main_uri, language_id="python", version=1, text=text
            )
        )
    )
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=main_uri),
            position=types.Position(line=5, character=11),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    last = plain(
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="quill.lastPrompt")
        )
    )
    sources = {s["source"]: s for s in last["sections"]}
    assert "context" in sources, last["droppedSources"]
    context = sources["context"]
    assert "class Layout:" in context["text"]
    assert "def update_dimensions(self, width: float, height: float) -> None:" in context["text"]
    # Each item says where it came from: the type of `layout`, the imports, ...
    labels = {item["source"] for item in context["items"]}
    assert "type:layout" in labels, context["items"]
    assert all(item["tokens"] > 0 for item in context["items"])
