"""Chat over LSP: ``quill/chat`` streams an answer through ``$/progress`` partial results and
ends with the whole message; ``quill/chat/cancel``, ``quill/chat/sessions`` and
``quill/chat/history`` manage sessions. See docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from quill.chat.service import UnknownSession
from quill.chat.turn import ChatTurn
from quill.lsp.documents import Documents
from quill.models.errors import ModelError

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)

CHAT = "quill/chat"
CHAT_CANCEL = "quill/chat/cancel"
CHAT_SESSIONS = "quill/chat/sessions"
CHAT_HISTORY = "quill/chat/history"


def _get(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _int(params: Any, name: str, default: int, low: int = 0, high: int = 1000) -> int:
    value = _get(params, name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise JsonRpcInvalidParams.of(ValueError(f"`{name}` must be an integer {low}..{high}"))
    return value


def _selection_text(documents: Documents, text: str, selection: Any) -> str | None:
    if isinstance(selection, str):
        return selection
    start, end = _get(selection, "start"), _get(selection, "end")
    if start is None or end is None:
        return None
    lines = text.split("\n")
    try:
        sl, el = int(_get(start, "line")), int(_get(end, "line"))
        if not (0 <= sl < len(lines) and 0 <= el < len(lines)):
            return None
        sc = documents.column_from_client(lines[sl], int(_get(start, "character")))
        ec = documents.column_from_client(lines[el], int(_get(end, "character")))
    except (TypeError, ValueError):
        return None
    if (sl, sc) > (el, ec):
        (sl, sc), (el, ec) = (el, ec), (sl, sc)
    if sl == el:
        return lines[sl][sc:ec]
    return "\n".join([lines[sl][sc:], *lines[sl + 1 : el], lines[el][:ec]])


def register_chat_features(server: QuillLanguageServer) -> None:
    running: dict[str, ChatTurn] = {}

    @server.feature(CHAT)
    async def chat(ls: QuillLanguageServer, params: Any) -> dict[str, Any]:
        message = _get(params, "message")
        if not isinstance(message, str) or not message.strip():
            raise JsonRpcInvalidParams.of(ValueError("`message` must be a non-empty string"))
        session_id = _get(params, "sessionId")
        if session_id is not None and not isinstance(session_id, str):
            raise JsonRpcInvalidParams.of(ValueError("`sessionId` must be a string"))
        token = _get(params, "partialResultToken")
        file = selection = None
        uri = _get(params, "uri")
        if isinstance(uri, str):
            documents = ls.documents
            snap = documents.snapshot(uri)
            if snap is not None:
                position = _get(params, "position")
                line = _get(position, "line") if position is not None else None
                file = (
                    snap.rel or snap.display_path(),
                    snap.text,
                    line if isinstance(line, int) else None,
                )
                raw = _get(params, "selection")
                if raw is not None:
                    selection = _selection_text(documents, snap.text, raw)
        try:
            turn = await ls.app.chat.send(session_id, message, file=file, selection=selection)
        except UnknownSession as exc:
            raise JsonRpcInvalidParams.of(ValueError(str(exc))) from exc
        except ValueError as exc:
            raise JsonRpcInvalidParams.of(exc) from exc
        running[turn.session_id] = turn
        ls.app.busy(+1)
        try:
            async for piece in turn.stream():
                if token is not None and piece:
                    value = {"text": piece, "sessionId": turn.session_id}
                    ls.protocol.notify(
                        types.PROGRESS, types.ProgressParams(token=token, value=value)
                    )
            stored = await turn.wait()
        except asyncio.CancelledError:
            turn.cancel()  # $/cancelRequest: the partial answer is kept, marked stopped
            raise
        except ModelError as exc:
            from quill.lsp.server import ModelRequestFailed

            raise ModelRequestFailed(str(exc)) from exc
        finally:
            ls.app.busy(-1)
            if running.get(turn.session_id) is turn:
                del running[turn.session_id]
        return {
            "sessionId": turn.session_id,
            "messageId": stored.id if stored is not None else None,
            "text": turn.answer,
            "model": turn.model,
            "stopped": turn.stopped,
            "context": [item.to_json() for item in turn.context_items],
            "notes": list(turn.notes),
            "redactions": turn.redacted,
        }

    @server.feature(CHAT_CANCEL)
    def cancel(ls: QuillLanguageServer, params: Any) -> dict[str, Any]:
        session_id = _get(params, "sessionId")
        turn = running.get(session_id) if isinstance(session_id, str) else None
        return {"cancelled": bool(turn is not None and turn.cancel())}

    @server.feature(CHAT_SESSIONS)
    async def sessions(ls: QuillLanguageServer, params: Any) -> list[dict[str, Any]]:
        found = await ls.app.chat.sessions(
            limit=_int(params, "limit", 50, 1), offset=_int(params, "offset", 0, 0, 10**9)
        )
        return [s.to_json() for s in found]

    @server.feature(CHAT_HISTORY)
    async def history(ls: QuillLanguageServer, params: Any) -> list[dict[str, Any]]:
        session_id = _get(params, "sessionId")
        if not isinstance(session_id, str):
            raise JsonRpcInvalidParams.of(ValueError("`sessionId` must be a string"))
        before = _get(params, "before")
        if before is not None and not isinstance(before, int):
            raise JsonRpcInvalidParams.of(ValueError("`before` must be a message id"))
        messages = await ls.app.chat.history(
            session_id, limit=_int(params, "limit", 50, 1), before=before
        )
        return [m.to_json(thinking=bool(_get(params, "thinking"))) for m in messages]
