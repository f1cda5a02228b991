"""The WebSocket protocol, version 1: frames, their validation and the error codes.

Every frame is a JSON object ``{"v": 1, "type": ..., "id": ...}``.

Client to server:

* ``chat``: ``message`` (text); optional ``file`` (workspace-relative path), ``text`` (that
  file's current text), ``line`` (0-based), ``session`` (a stored session to continue; the
  connection then stays in it). Answered by ``chunk`` frames (``text``), then one ``done``
  (``text``, ``model``, ``cancelled``, ``session``, ``context``, ``usage``).
* ``sessions``: optional ``limit`` (1-200, default 50), ``offset``. Answered by ``done`` with
  ``result``: the stored sessions, most recently used first.
* ``history``: ``session``; optional ``limit`` (1-1000, default 50), ``before`` (a message id),
  ``thinking`` (include hidden reasoning). Answered by ``done`` with ``result: {session,
  messages}``, the messages oldest first; an unknown session gets ``unknown_session``.
* ``cancel``: stops the request ``id``; it ends with ``done`` and ``cancelled: true``. A cancel
  for an id that is not running gets an ``error`` with code ``not_running``.
* ``action``: ``action`` (``explain``, ``findBugs``, ``refactor``, ``addDocstring``, ``fix``),
  ``file`` and/or ``text``, ``language``, ``range`` (``{start: {line, character}, end: ...}``,
  characters count code points) or ``line``; ``instruction`` (refactor), ``problem`` (fix).
  Answered by ``done`` with ``result``.
* ``complete``: ``text``, ``line``, ``character``; optional ``file``, ``language``. Answered by
  ``done`` with ``result: {items: [{text}], reason}``.
* ``ping``: answered by ``pong`` with the same ``id``.

Server to client: ``chunk``, ``done``, ``error`` (``code``, ``message``), ``pong``, and one
``hello`` after the connection opens (``session``, ``versions``, limits). A bad frame gets an
``error`` and the connection keeps serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 1
REQUEST_TYPES = frozenset({"chat", "cancel", "action", "complete", "sessions", "history", "ping"})
ACTIONS = frozenset({"explain", "findBugs", "refactor", "addDocstring", "fix"})


class Code:
    """Error codes of ``error`` frames."""

    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"  # not a JSON object, or a binary frame
    BAD_VERSION = "bad_version"
    UNKNOWN_TYPE = "unknown_type"
    BAD_REQUEST = "bad_request"  # a field missing or of the wrong type
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"  # too many requests in flight on this connection
    DUPLICATE_ID = "duplicate_id"
    NOT_RUNNING = "not_running"
    FORBIDDEN_PATH = "forbidden_path"
    SECRET_FILE = "secret_file"  # a file that holds secrets is never read nor sent
    UNKNOWN_SESSION = "unknown_session"
    NO_TARGET = "no_target"
    ACTION_FAILED = "action_failed"
    MODEL_ERROR = "model_error"
    NO_MODEL = "no_model"
    INTERNAL = "internal"


class FrameError(Exception):
    def __init__(self, code: str, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    type: str
    id: str | int | None
    body: dict[str, Any]

    def str_field(
        self, name: str, *, required: bool = False, allow_empty: bool = False
    ) -> str | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            what = "a string" if allow_empty else "a non-empty string"
            raise FrameError(Code.BAD_REQUEST, f"`{name}` must be {what}", self.id)
        return value

    def int_field(
        self, name: str, *, required: bool = False, low: int = 0, high: int | None = None
    ) -> int | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            bounds = f"from {low} to {high}" if high is not None else f">= {low}"
            raise FrameError(Code.BAD_REQUEST, f"`{name}` must be an integer {bounds}", self.id)
        return value


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= 128


def parse_frame(text: str) -> Request:
    """Validate one text frame; raises :class:`FrameError` with the code to send back."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FrameError(Code.BAD_JSON, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError(Code.BAD_FRAME, "a frame must be a JSON object")
    raw_id = data.get("id")
    request_id = raw_id if _valid_id(raw_id) else None
    version = data.get("v")
    if version != VERSION:
        raise FrameError(
            Code.BAD_VERSION,
            f"unsupported protocol version {version!r}; use v={VERSION}",
            request_id,
        )
    kind = data.get("type")
    if kind not in REQUEST_TYPES:
        raise FrameError(Code.UNKNOWN_TYPE, f"unknown message type {kind!r}", request_id)
    if kind != "ping" and request_id is None:
        raise FrameError(Code.BAD_REQUEST, "`id` must be a string (1-128 chars) or an integer")
    return Request(kind, request_id, data)


def frame(kind: str, request_id: Any = None, **fields: Any) -> str:
    out: dict[str, Any] = {"v": VERSION, "type": kind, "id": request_id}
    out.update(fields)
    return json.dumps(out, ensure_ascii=False)


def error_frame(code: str, message: str, request_id: Any = None) -> str:
    return frame("error", request_id, code=code, message=message)


def position(value: Any, request_id: Any) -> tuple[int, int]:
    """``{line, character}`` as a (line, column) pair."""
    if not isinstance(value, dict):
        raise FrameError(Code.BAD_REQUEST, "a position is {line, character}", request_id)
    line, character = value.get("line"), value.get("character", 0)
    for v in (line, character):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise FrameError(Code.BAD_REQUEST, "line and character are integers >= 0", request_id)
    return line, character  # type: ignore[return-value]
