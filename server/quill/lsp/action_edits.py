"""Workspace edits for code actions: line replacements in the client's position encoding, and
a new (or extended) test file, created through the edit where the client can, else written
once (never over an existing file) and shown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from quill.actions.edits import TextReplacement
from quill.actions.service import ActionInput
from quill.lsp.documents import Documents, DocumentSnapshot

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)


class ActionFailed(Exception):
    """An action could not run; the message is the short line for the user."""


def text_edits(
    documents: Documents, text: str, replacements: list[TextReplacement]
) -> list[types.TextEdit]:
    lines = text.split("\n")

    def position(point: tuple[int, int]) -> types.Position:
        line, column = point
        if line >= len(lines):
            return types.Position(line=len(lines), character=0)
        return documents.client_position(lines[line], line, column)

    return [
        types.TextEdit(
            range=types.Range(start=position(x.start), end=position(x.end)), new_text=x.new_text
        )
        for x in replacements
    ]


def document_edit(
    ls: QuillLanguageServer, snap: DocumentSnapshot, replacements: list[TextReplacement]
) -> types.WorkspaceEdit:
    edits = text_edits(ls.documents, snap.text, replacements)
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps is not None else None
    if edit_caps is not None and edit_caps.document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=snap.uri, version=snap.version
                    ),
                    edits=list(edits),
                )
            ]
        )
    return types.WorkspaceEdit(changes={snap.uri: edits})


async def tests_edit(
    ls: QuillLanguageServer, snap: DocumentSnapshot, inp: ActionInput
) -> types.WorkspaceEdit:
    from quill.actions.placement import import_statement, plan_test_file

    app = ls.app
    root = app.workspace
    if root is None or snap.rel is None:
        raise ActionFailed("generating tests needs a file inside the workspace folder")
    index = app.index
    files = await app.index_call(index.indexed_files) if index is not None else []
    documents = ls.documents

    def read_text(rel: str) -> str | None:
        open_doc = documents.open_document_at(root / rel)
        if open_doc is not None:
            return open_doc.source
        try:
            return (root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    rel, language = snap.rel, inp.language or ""
    plan = await asyncio.to_thread(plan_test_file, rel, language, files, read_text=read_text)
    header = plan.header
    if not plan.exists:
        header += import_statement(plan, language, [inp.target.name])
    code = await app.actions.tests(inp, framework=plan.framework, header=header)
    target = root / plan.path
    target_uri = documents.uri_of(plan.path)
    if plan.exists:
        existing = read_text(plan.path) or ""
        end_line = existing.count("\n")
        tail = existing.rsplit("\n", 1)[-1]
        sep = "" if existing.endswith("\n") or not existing else "\n"
        body = sep + "\n\n" + code + plan.footer
        position = types.Position(line=end_line, character=len(tail))
        edit = types.TextEdit(range=types.Range(start=position, end=position), new_text=body)
        return types.WorkspaceEdit(changes={target_uri: [edit]})
    content = header + ("\n" if header and not header.endswith("\n") else "")
    content += "\n" + code + plan.footer
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps is not None else None
    can_create = bool(
        edit_caps is not None
        and edit_caps.document_changes
        and edit_caps.resource_operations
        and types.ResourceOperationKind.Create in edit_caps.resource_operations
    )
    if not can_create:
        # The client cannot create files through an edit: write the new file (it does not
        # exist, so nothing is overwritten) and show it.
        _write_new_file(target, content)
        await show_document(ls, target_uri)
        return types.WorkspaceEdit(changes={})
    start = types.Position(line=0, character=0)
    return types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(
                uri=target_uri, options=types.CreateFileOptions(ignore_if_exists=True)
            ),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=target_uri, version=None
                ),
                edits=[types.TextEdit(range=types.Range(start=start, end=start), new_text=content)],
            ),
        ]
    )


def _write_new_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite
        fh.write(content)


async def show_document(ls: QuillLanguageServer, uri: str) -> bool:
    caps = ls.client_capabilities.window
    if caps is None or not caps.show_document or not caps.show_document.support:
        return False
    try:
        result = await ls.window_show_document_async(
            types.ShowDocumentParams(uri=uri, take_focus=True)
        )
    except Exception:
        log.debug("showDocument failed", exc_info=True)
        return False
    return bool(result and result.success)
