"""Code actions over LSP: the menu (at once, no model), lazy resolve, and the same actions as
commands for clients without resolve support (Neovim 0.7, eglot 1.9).

Thin: find the target with :func:`quill.actions.targets.find_target`, call the app's
:class:`~quill.actions.service.ActionService`, turn plain results into LSP (Markdown shown
with ``window/showDocument`` or ``window/showMessage``, edits as a ``WorkspaceEdit``
applied only when the document has not moved on).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from quill.actions.edits import RewriteRejected
from quill.actions.service import ACTIONS, ActionInput
from quill.actions.targets import Target, find_target
from quill.lsp.action_edits import ActionFailed, document_edit, show_document, tests_edit
from quill.lsp.completions import language_of
from quill.lsp.diagnostics import quick_fix
from quill.lsp.documents import Documents, DocumentSnapshot
from quill.models.errors import ModelError

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: command ids: ``quill.<action>``
COMMANDS = {action: f"quill.{action}" for action in ACTIONS}
EDIT_KINDS = {
    "refactor": types.CodeActionKind.RefactorRewrite,
    "addDocstring": types.CodeActionKind.RefactorRewrite,
    "generateTests": types.CodeActionKind.Source,
    "fix": types.CodeActionKind.QuickFix,
}


def _get(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def _range_from(value: Any) -> types.Range:
    start, end = _get(value, "start"), _get(value, "end")
    try:
        return types.Range(
            start=types.Position(
                line=int(_get(start, "line")), character=int(_get(start, "character"))
            ),
            end=types.Position(line=int(_get(end, "line")), character=int(_get(end, "character"))),
        )
    except (TypeError, ValueError) as exc:
        raise JsonRpcInvalidParams.of(ValueError("expected an LSP range")) from exc


def _range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _columns(documents: Documents, text: str, r: types.Range) -> tuple[tuple[int, int], ...]:
    lines = text.split("\n")

    def point(p: types.Position) -> tuple[int, int]:
        line = max(0, min(p.line, len(lines) - 1))
        return line, documents.column_from_client(lines[line], p.character)

    return point(r.start), point(r.end)


def target_at(
    documents: Documents, snap: DocumentSnapshot, language: str | None, r: types.Range
) -> Target | None:
    start, end = _columns(documents, snap.text, r)
    return find_target(snap.text, language, start, end)


def register_action_features(server: QuillLanguageServer) -> None:
    def resolves_edits(ls: QuillLanguageServer) -> bool:
        caps = ls.client_capabilities.text_document
        action_caps = caps.code_action if caps is not None else None
        support = action_caps.resolve_support if action_caps is not None else None
        return support is not None and "edit" in support.properties

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.Source,
            ],
            resolve_provider=True,
        ),
    )
    def code_actions(
        ls: QuillLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        documents = ls.documents
        snap = documents.snapshot(params.text_document.uri)
        if snap is None:
            return []
        language = language_of(snap)
        target = target_at(documents, snap, language, params.range)
        if target is None:
            return []
        only = params.context.only
        lazy = resolves_edits(ls)
        out: list[types.CodeAction] = []
        args: list[Any] = [snap.uri, _range_json(params.range)]
        for action, spec in ACTIONS.items():
            if action == "fix":
                continue
            kind = EDIT_KINDS.get(action, types.CodeActionKind.Empty)
            if only and (not kind.value or not any(kind.value.startswith(k) for k in only)):
                continue
            title = spec.title.format(target=target.title)
            if spec.edits and lazy:
                data = {"action": action, "uri": snap.uri, "range": _range_json(params.range)}
                out.append(types.CodeAction(title=title, kind=kind, data=data))
            else:
                command = types.Command(title=title, command=COMMANDS[action], arguments=args)
                out.append(types.CodeAction(title=title, kind=kind, command=command))
        for diagnostic in params.context.diagnostics:
            if diagnostic.source == "quill":
                fixed = quick_fix(snap.uri, diagnostic)  # static rules bring their own
                if fixed is not None:
                    out.insert(0, fixed)
                continue
            title = ACTIONS["fix"].title.format(problem=diagnostic.message[:60])
            fix_args = [*args, diagnostic.message]
            if lazy:
                data = {
                    "action": "fix",
                    "uri": snap.uri,
                    "range": _range_json(diagnostic.range),
                    "problem": diagnostic.message,
                }
                out.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        data=data,
                    )
                )
            else:
                out.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        command=types.Command(
                            title=title, command=COMMANDS["fix"], arguments=fix_args
                        ),
                    )
                )
        return out

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: QuillLanguageServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data
        name = _get(data, "action")
        uri = _get(data, "uri")
        if name not in ACTIONS or not isinstance(uri, str):
            return action
        r = _range_from(_get(data, "range"))
        extra = str(_get(data, "problem") or _get(data, "instruction") or "")
        try:
            edit = await _edit_for(ls, name, uri, r, extra)
        except ActionFailed as exc:
            ls.show_message(f"Quill: {exc}", types.MessageType.Warning)
            return action
        action.edit = edit
        return action

    def command(action: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def run(ls: QuillLanguageServer, *args: Any) -> dict[str, Any]:
            if len(args) < 2 or not isinstance(args[0], str):
                raise JsonRpcInvalidParams.of(
                    ValueError(f"usage: {COMMANDS[action]}(uri, range[, text])")
                )
            uri, r = args[0], _range_from(args[1])
            extra = str(args[2]) if len(args) > 2 and args[2] is not None else ""
            try:
                if action == "explain":
                    return await _explain(ls, uri, r)
                if action == "findBugs":
                    return await _find_bugs(ls, uri, r)
                edit = await _edit_for(ls, action, uri, r, extra)
            except ActionFailed as exc:
                ls.show_message(f"Quill: {exc}", types.MessageType.Warning)
                return {"applied": False, "message": str(exc)}
            result = await ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=f"Quill: {action}")
            )
            applied = bool(result and result.applied)
            return {"applied": applied, "message": "" if applied else "the editor refused"}

        return run

    for action in ACTIONS:
        server.command(COMMANDS[action])(command(action))


# ---------------------------------------------------------------------- running actions


async def _with_progress(ls: QuillLanguageServer, title: str, work: Awaitable[Any]) -> Any:
    """Run ``work`` under work-done progress when the client shows it."""
    caps = ls.client_capabilities.window
    token: str | None = None
    if caps is not None and caps.work_done_progress:
        token = f"quill-action-{uuid.uuid4().hex[:8]}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title))
        except Exception:
            log.debug("the editor refused a progress token", exc_info=True)
            token = None
    ls.app.busy(+1)
    try:
        return await work
    finally:
        ls.app.busy(-1)
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


def _input(
    ls: QuillLanguageServer, uri: str, r: types.Range, extra: str, action: str
) -> tuple[DocumentSnapshot, ActionInput]:
    documents = ls.documents
    snap = documents.snapshot(uri)
    if snap is None:
        raise ActionFailed("open the file in the editor first")
    language = language_of(snap)
    target = target_at(documents, snap, language, r)
    if target is None:
        raise ActionFailed("select some code, or place the cursor inside a function or class")
    return snap, ActionInput(
        path=snap.display_path(),
        language=language,
        document=snap.text,
        target=target,
        instruction=extra if action == "refactor" else "",
        problem=extra if action == "fix" else "",
    )


async def _edit_for(
    ls: QuillLanguageServer, action: str, uri: str, r: types.Range, extra: str
) -> types.WorkspaceEdit:
    snap, inp = _input(ls, uri, r, extra, action)
    service = ls.app.actions
    title = ACTIONS[action].title.format(target=inp.target.title, problem=extra[:60])
    try:
        if action == "generateTests":
            return await _with_progress(ls, title, tests_edit(ls, snap, inp))
        replacements = await _with_progress(ls, title, service.rewrite(action, inp))
    except RewriteRejected as exc:
        raise ActionFailed(str(exc)) from exc
    except ModelError as exc:
        raise ActionFailed(str(exc)) from exc
    if ls.documents.version(uri) != snap.version:
        raise ActionFailed("the file changed while Quill worked; nothing was changed")
    return document_edit(ls, snap, replacements)


async def _answer(
    ls: QuillLanguageServer,
    action: str,
    uri: str,
    r: types.Range,
    work: Callable[[ActionInput], Awaitable[T]],
) -> tuple[DocumentSnapshot, ActionInput, str, T]:
    """Run an action that answers rather than edits, under progress."""
    snap, inp = _input(ls, uri, r, "", action)
    title = ACTIONS[action].title.format(target=inp.target.title)
    try:
        result = await _with_progress(ls, title, work(inp))
    except ModelError as exc:
        raise ActionFailed(str(exc)) from exc
    return snap, inp, title, result


async def _explain(ls: QuillLanguageServer, uri: str, r: types.Range) -> dict[str, Any]:
    _snap, inp, title, markdown = await _answer(ls, "explain", uri, r, ls.app.actions.explain)
    shown = False
    folder = ls.app.explanations_dir()
    if folder is not None:
        name = inp.target.name or "selection"
        path = folder / f"explain-{Path(inp.path or 'code').stem}-{name}.md"
        try:
            path.write_text(f"# {title.removeprefix('Quill: ')}\n\n{markdown}\n", "utf-8")
            shown = await show_document(ls, path.as_uri())
        except OSError:
            log.debug("cannot write %s", path, exc_info=True)
    if not shown:
        ls.show_message(markdown, types.MessageType.Info)
    return {"markdown": markdown, "shown": shown}


async def _find_bugs(ls: QuillLanguageServer, uri: str, r: types.Range) -> dict[str, Any]:
    snap, _inp, _title, findings = await _answer(ls, "findBugs", uri, r, ls.app.actions.review)
    ls.diagnostics.set_model_findings(ls, snap, findings)
    if not findings:
        ls.show_message("Quill found no bugs it could point at.", types.MessageType.Info)
    return {"findings": [{"line": f.line, "message": f.message} for f in findings]}
