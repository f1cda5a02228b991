"""Completion handlers: inline (ghost text) and list completions, and their telemetry.

Thin: take a snapshot of the document, hand it to the completion service, convert the result.
One request per document is alive at a time: a newer one cancels the older (which answers
with an empty result, or -32800 when the editor itself cancelled it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from quill.completion.service import CompletionOutcome, CompletionRequest, Suggestion
from quill.lsp.documents import Documents, DocumentSnapshot

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)

ACCEPT_COMMAND = "quill.acceptCompletion"
LAST_PROMPT_COMMAND = "quill.lastPrompt"
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"

#: an automatic list request answers from the cache after this long (the model keeps going)
AUTOMATIC_LIST_WAIT_SECONDS = 0.05


def language_of(snapshot: DocumentSnapshot) -> str | None:
    from quill.index.languages import language_for_language_id, language_for_path

    if snapshot.path is not None:
        found = language_for_path(str(snapshot.path))
        if found:
            return found
    return language_for_language_id(snapshot.language_id)


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
    supervisor = server.app.completion.supervisor

    def snapshot(
        ls: QuillLanguageServer, uri: str, position: types.Position, invoked: bool
    ) -> CompletionRequest | None:
        documents = ls.documents
        snap = documents.snapshot(uri)
        if snap is None:
            return None  # unknown document: nothing to complete
        lines = snap.text.split("\n")
        if not 0 <= position.line < len(lines):
            return None
        column = documents.column_from_client(lines[position.line], position.character)
        return CompletionRequest(
            uri=snap.key,
            text=snap.text,
            line=position.line,
            column=column,
            version=snap.version,
            language=language_of(snap),
            path=snap.display_path(),
            invoked=invoked,
            workspace_path=snap.rel,
        )

    def is_current(ls: QuillLanguageServer, req: CompletionRequest) -> bool:
        return ls.documents.is_open(req.uri) and ls.documents.version(req.uri) == req.version

    running: dict[str, tuple[tuple[int | None, int, int], asyncio.Task[CompletionOutcome]]] = {}

    def start(ls: QuillLanguageServer, req: CompletionRequest) -> asyncio.Task[CompletionOutcome]:
        key = (req.version, req.line, req.column)
        previous = running.get(req.uri)
        if previous is not None and previous[0] == key and not previous[1].done():
            return previous[1]  # the same question again: wait for the answer under way
        task = supervisor.start(
            req.uri,
            ls.app.completion.complete(
                req,
                is_current=lambda: is_current(ls, req),
                on_model_call=supervisor.mark_model_called,
            ),
        )
        running[req.uri] = (key, task)
        task.add_done_callback(lambda _t: _forget(req.uri, task))
        return task

    def _forget(uri: str, task: asyncio.Task[CompletionOutcome]) -> None:
        entry = running.get(uri)
        if entry is not None and entry[1] is task:
            del running[uri]

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
                    command=_accept_command(s),
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
        if params.context is not None:
            invoked = params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        else:
            # Clients without completion context (Neovim 0.7's omnifunc) only ask when the
            # user pressed the completion key.
            completion_caps = caps.completion if caps is not None else None
            invoked = not (completion_caps and completion_caps.context_support)
        req = snapshot(ls, params.text_document.uri, params.position, invoked)
        if req is None:
            return types.CompletionList(is_incomplete=False, items=[])
        # Invoked (the user pressed the completion key): wait for the model, since the menu
        # will not ask again. Automatic: answer from the cache at once and mark the list
        # incomplete, so the editor asks again on the next keystroke while the model works.
        settings = ls.app.settings.completion
        wait = settings.invoked_wait_seconds if invoked else AUTOMATIC_LIST_WAIT_SECONDS
        outcome = await run(ls, req, wait=wait)
        if outcome is None or not outcome.suggestions:
            return types.CompletionList(is_incomplete=True, items=[])
        line_text = req.text.split("\n")[req.line].removesuffix("\r")
        documents = ls.documents
        word_start = req.column
        while word_start > 0 and (
            line_text[word_start - 1].isalnum() or line_text[word_start - 1] == "_"
        ):
            word_start -= 1
        typed = line_text[word_start : req.column]
        edit_range = types.Range(
            start=documents.client_position(line_text, req.line, word_start),
            end=documents.client_position(line_text, req.line, req.column),
        )
        items = [_list_item(s, typed, edit_range) for s in outcome.suggestions]
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


def _accept_command(suggestion: Suggestion) -> types.Command:
    return types.Command(
        title="Quill: suggestion accepted", command=ACCEPT_COMMAND, arguments=[suggestion.id]
    )


def _list_item(suggestion: Suggestion, typed: str, edit_range: types.Range) -> types.CompletionItem:
    """A menu item that replaces the word being typed with that word plus the suggestion.

    ``filterText`` starts with what is already typed, so the editor's own filtering keeps the
    item while the user types through it. The text is plain (no snippet syntax), so multi-line
    suggestions insert as they are in every client.
    """
    text = typed + suggestion.text
    first = text.split("\n", 1)[0].strip() or suggestion.text.strip()
    return types.CompletionItem(
        label=first[:80],
        kind=types.CompletionItemKind.Text,
        detail="Quill AI suggestion",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```\n{text}\n```"
        ),
        sort_text="~quill",
        filter_text=text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=edit_range, new_text=text),
        command=_accept_command(suggestion),
    )


def note_change(ls: QuillLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Remember where the user edited (context for later completions)."""
    documents: Documents = ls.documents
    uri = params.text_document.uri
    if not documents.is_open(uri):
        return
    key, path = documents.key(uri), documents.display_path(uri)
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            ls.app.completion.recent_edits.note(key, path, change.range.start.line)


def note_close(ls: QuillLanguageServer, uri: str) -> None:
    key = ls.documents.key(uri)
    ls.app.completion.recent_edits.forget(key)
    ls.app.completion.cache.invalidate(key)
    ls.app.completion.supervisor.cancel(key)
