"""Code actions and completions for WebSocket requests: unpack, call the app, convert back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quill.actions.edits import RewriteRejected
from quill.actions.service import ActionInput
from quill.actions.targets import find_target
from quill.app import Quill
from quill.completion.service import CompletionRequest
from quill.gateway.protocol import ACTIONS, Code, FrameError, Request, position
from quill.gateway.workspace import display_name, read_workspace_file, workspace_rel
from quill.index.languages import language_for_path


@dataclass(frozen=True)
class Document:
    path: str | None  # workspace-relative when confined, else the client's name for it
    text: str
    language: str | None


def document_of(app: Quill, req: Request) -> Document:
    """The request's document: its ``text`` (named by ``file``), or the workspace file."""
    file = req.str_field("file")
    text = req.str_field("text", allow_empty=True)
    language = req.str_field("language")
    if text is None:
        if file is None:
            raise FrameError(Code.BAD_REQUEST, "send `text`, `file`, or both", req.id)
        found = read_workspace_file(app, file)
        file, text = found.rel_path, found.text
    elif file is not None:
        file = workspace_rel(app, file) or display_name(file)
    return Document(file, text, language or (language_for_path(file) if file else None))


async def run_action(app: Quill, req: Request) -> dict[str, Any]:
    action = req.str_field("action", required=True)
    if action not in ACTIONS:
        raise FrameError(
            Code.BAD_REQUEST, f"unknown action {action!r}; one of {sorted(ACTIONS)}", req.id
        )
    doc = document_of(app, req)
    span = req.body.get("range")
    if span is not None:
        if not isinstance(span, dict):
            raise FrameError(Code.BAD_REQUEST, "`range` is {start, end}", req.id)
        start = position(span.get("start"), req.id)
        end = position(span.get("end", span.get("start")), req.id)
    else:
        line = req.int_field("line") or 0
        lines = doc.text.split("\n")
        text = lines[line] if line < len(lines) else ""
        start = end = (line, len(text) - len(text.lstrip()))  # the line's first character
    target = find_target(doc.text, doc.language, start, end)
    if target is None:
        raise FrameError(
            Code.NO_TARGET, "select some code, or point inside a function or class", req.id
        )
    inp = ActionInput(
        path=doc.path,
        language=doc.language,
        document=doc.text,
        target=target,
        instruction=req.str_field("instruction") or "",
        problem=req.str_field("problem") or "",
    )
    target_json = {
        "kind": target.kind,
        "name": target.name,
        "startLine": target.start_line,
        "endLine": target.end_line,
    }
    service = app.actions
    try:
        if action == "explain":
            return {"target": target_json, "markdown": await service.explain(inp)}
        if action == "findBugs":
            findings = await service.review(inp)
            return {
                "target": target_json,
                "findings": [
                    {"line": f.line, "message": f.message, "severity": f.severity} for f in findings
                ],
            }
        edits = await service.rewrite(action, inp)
    except RewriteRejected as exc:
        raise FrameError(Code.ACTION_FAILED, str(exc), req.id) from exc
    return {
        "target": target_json,
        "edits": [
            {
                "range": {
                    "start": {"line": e.start[0], "character": e.start[1]},
                    "end": {"line": e.end[0], "character": e.end[1]},
                },
                "newText": e.new_text,
            }
            for e in edits
        ],
    }


async def run_completion(app: Quill, session: str, req: Request) -> dict[str, Any]:
    doc = document_of(app, req)
    line = req.int_field("line", required=True) or 0
    character = req.int_field("character") or 0
    rel = workspace_rel(app, doc.path) if doc.path else None
    outcome = await app.completion.complete(
        CompletionRequest(
            uri=f"quill-gateway://{session}/{doc.path or 'untitled'}",
            text=doc.text,
            line=line,
            column=character,
            language=doc.language,
            path=doc.path,
            invoked=True,
            workspace_path=rel,
        )
    )
    return {
        "items": [
            {"id": s.id, "text": s.text, "line": s.line, "character": s.column}
            for s in outcome.suggestions
        ],
        "reason": outcome.reason,
        "fromCache": outcome.from_cache,
        "modelMs": round(outcome.model_ms, 1),
    }
