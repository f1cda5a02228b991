"""Completion handlers: inline (ghost text) and list completions, and their telemetry.

Thin: take a snapshot of the document, hand it to the completion service, convert the result.
One request per document is alive at a time: a newer one cancels the older (which answers
with an empty result, or -32800 when the editor itself cancelled it).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from quill.completion.debounce import RequestSupervisor
from quill.completion.gate import utf16_to_index
from quill.completion.service import CompletionOutcome, CompletionRequest

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)

ACCEPT_COMMAND = "quill.acceptCompletion"
LAST_PROMPT_COMMAND = "quill.lastPrompt"
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"

#: LSP language ids that differ from tree-sitter language names
LANGUAGE_IDS = {
    "typescriptreact": "tsx",
    "javascriptreact": "javascript",
    "c++": "cpp",
    "golang": "go",
}

LIST_WAIT_SECONDS = 0.4


def language_of(uri: str, language_id: str | None) -> str | None:
    from quill.index.languages import language_for_path, supported_languages

    path = to_fs_path(uri)
    if path:
        found = language_for_path(path)
        if found:
            return found
    if language_id:
        name = LANGUAGE_IDS.get(language_id, language_id)
        if name in supported_languages():
            return name
    return None


def workspace_path(root: Path | None, path: str | None) -> str | None:
    """``path`` relative to the workspace ("/"-separated), else its file name."""
    if not path:
        return None
    if root is not None:
        try:
            return Path(path).resolve().relative_to(root).as_posix()
        except (ValueError, OSError):
            pass
    return Path(path).name


def _suggestion_id(item: Any) -> str | None:
    command = item.get("command") if isinstance(item, dict) else getattr(item, "command", None)
    args = (
        command.get("arguments")
        if isinstance(command, dict)
        else getattr(command, "arguments", None)
    )
    if args:
        return str(args[0])
    return None


def register_completion_features(server: QuillLanguageServer) -> None:
    supervisor = RequestSupervisor()
    server.completion_supervisor = supervisor
    server.app.completion.supervisor = supervisor

    def snapshot(
        ls: QuillLanguageServer, uri: str, position: types.Position, invoked: bool
    ) -> CompletionRequest | None:
        document = ls.workspace.text_documents.get(uri)
        if document is None:
            return None  # unknown document: nothing to complete
        rel = workspace_path(ls.app.workspace, document.path)
        return CompletionRequest(
            uri=uri,
            text=document.source,
            line=position.line,
            character=position.character,
            version=document.version,
            language=language_of(uri, document.language_id),
            path=rel,
            invoked=invoked,
        )

    def is_current(ls: QuillLanguageServer, req: CompletionRequest) -> bool:
        document = ls.workspace.text_documents.get(req.uri)
        return document is not None and document.version == req.version

    running: dict[str, tuple[tuple[int | None, int, int], asyncio.Task[CompletionOutcome]]] = {}

    def start(ls: QuillLanguageServer, req: CompletionRequest) -> asyncio.Task[CompletionOutcome]:
        key = (req.version, req.line, req.character)
        previous = running.get(req.uri)
        if previous is not None and previous[0] == key and not previous[1].done():
            return previous[1]  # the same question again: wait for the answer under way
        task = _start_new(ls, req)
        running[req.uri] = (key, task)
        return task

    def _start_new(
        ls: QuillLanguageServer, req: CompletionRequest
    ) -> asyncio.Task[CompletionOutcome]:
        service = ls.app.completion
        return supervisor.start(
            req.uri,
            service.complete(
                req,
                is_current=lambda: is_current(ls, req),
                on_model_call=supervisor.mark_model_called,
            ),
        )

    async def run(
        ls: QuillLanguageServer, req: CompletionRequest, wait: float | None = None
    ) -> CompletionOutcome | None:
        task = start(ls, req)
        try:
            if wait is None:
                return await task
            return await asyncio.wait_for(asyncio.shield(task), wait)
        except TimeoutError:
            return None  # keeps running and fills the cache for the next keystroke
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current and current.cancelling()):
                return None  # superseded by a newer request for this document
            task.cancel()
            raise

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: QuillLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        req = snapshot(ls, params.text_document.uri, params.position, invoked)
        if req is None:
            return types.InlineCompletionList(items=[])
        outcome = await run(ls, req)
        if outcome is None:
            return types.InlineCompletionList(items=[])
        pos = params.position
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=s.text,
                    range=types.Range(start=pos, end=pos),
                    command=types.Command(
                        title="Quill: suggestion accepted",
                        command=ACCEPT_COMMAND,
                        arguments=[s.id],
                    ),
                )
                for s in outcome.suggestions
            ]
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "])
    )
    async def list_completion(
        ls: QuillLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList:
        caps = ls.client_capabilities.text_document
        if caps is not None and caps.inline_completion is not None:
            # Ghost text serves this client; keep the list for its other servers.
            return types.CompletionList(is_incomplete=False, items=[])
        invoked = bool(
            params.context and params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        )
        req = snapshot(ls, params.text_document.uri, params.position, invoked)
        if req is None:
            return types.CompletionList(is_incomplete=False, items=[])
        outcome = await run(ls, req, wait=LIST_WAIT_SECONDS)
        if outcome is None or not outcome.suggestions:
            return types.CompletionList(is_incomplete=True, items=[])
        line_text = req.text.split("\n")[req.line]
        column = utf16_to_index(line_text, req.character)
        word_start = column
        while word_start > 0 and (
            line_text[word_start - 1].isalnum() or line_text[word_start - 1] == "_"
        ):
            word_start -= 1
        typed = line_text[word_start:column]
        start_char = req.character - (len(typed.encode("utf-16-le")) // 2)
        items = []
        for s in outcome.suggestions:
            first = (typed + s.text).split("\n", 1)[0].strip() or s.text.strip()
            items.append(
                types.CompletionItem(
                    label=first[:80],
                    kind=types.CompletionItemKind.Text,
                    detail="Quill AI suggestion",
                    documentation=types.MarkupContent(
                        kind=types.MarkupKind.Markdown,
                        value=f"```\n{typed + s.text}\n```",
                    ),
                    sort_text="~quill",
                    filter_text=typed + s.text,
                    text_edit=types.TextEdit(
                        range=types.Range(
                            start=types.Position(line=req.line, character=start_char),
                            end=params.position,
                        ),
                        new_text=typed + s.text,
                    ),
                    command=types.Command(
                        title="Quill: suggestion accepted",
                        command=ACCEPT_COMMAND,
                        arguments=[s.id],
                    ),
                )
            )
        return types.CompletionList(is_incomplete=True, items=items)

    @server.feature(DID_SHOW)
    def did_show(ls: QuillLanguageServer, params: Any) -> None:
        item = params.get("item") if isinstance(params, dict) else getattr(params, "item", None)
        ls.app.completion.note_shown(_suggestion_id(item))

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: QuillLanguageServer, params: Any) -> None:
        item = params.get("item") if isinstance(params, dict) else getattr(params, "item", None)
        ls.app.completion.note_partially_accepted(_suggestion_id(item))

    @server.command(ACCEPT_COMMAND)
    def accept(ls: QuillLanguageServer, *args: Any) -> None:
        ls.app.completion.note_accepted(str(args[0]) if args else None)

    @server.command(LAST_PROMPT_COMMAND)
    def last_prompt(ls: QuillLanguageServer, *args: Any) -> dict[str, Any] | None:
        record = ls.app.completion.last_prompt
        return record.to_json() if record else None


def note_change(ls: QuillLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Remember where the user edited (context for later completions)."""
    uri = params.text_document.uri
    document = ls.workspace.text_documents.get(uri)
    path = workspace_path(ls.app.workspace, document.path) if document is not None else None
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            ls.app.completion.recent_edits.note(uri, path, change.range.start.line)


def note_close(ls: QuillLanguageServer, uri: str) -> None:
    ls.app.completion.recent_edits.forget(uri)
    ls.app.completion.cache.invalidate(uri)
    ls.completion_supervisor.cancel(uri)
