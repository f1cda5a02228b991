"""Quill's JSON-RPC/LSP protocol: pygls' protocol with the lifecycle rules enforced.

pygls 2.1.1 leaves these to the server; Quill's subclass and its own read loop make them hold:

* malformed JSON gets a ParseError response with ``id: null`` and the server keeps going;
* a request before ``initialize`` gets ``ServerNotInitialized`` (-32002);
* a request after ``shutdown`` gets ``InvalidRequest`` (-32600);
* ``exit`` without ``shutdown`` ends the process with status 1;
* a cancelled request is answered with ``RequestCancelled`` (-32800);
* a message over ``lsp.maxMessageBytes`` is refused (read and dropped, answered with an error);
* the server stops when the editor process named in ``initialize.processId`` dies.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.protocol import LanguageServerProtocol, lsp_method

from quill.lsp.jsonrpc import Frame, read_frame

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
#: the longest document URI accepted: a path at Linux's PATH_MAX, every byte percent-encoded
MAX_URI_CHARS = 3 * 4096 + 64


def read_frames(
    stream: BinaryIO, max_bytes: Callable[[], int], emit: Callable[[Frame | None], None]
) -> None:
    """Read LSP frames from ``stream`` until EOF, calling ``emit`` for each; blocking.

    ``emit(None)`` signals the end of input. Oversized bodies are read and discarded so the
    stream stays in step (:func:`quill.lsp.jsonrpc.read_frame`).
    """
    try:
        while (frame := read_frame(stream, max_bytes)) is not None:
            emit(frame)
    except (OSError, ValueError) as exc:
        log.info("input closed: %s", exc)
    finally:
        emit(None)


class QuillProtocol(LanguageServerProtocol):
    """LanguageServerProtocol plus lifecycle enforcement and a robust read loop."""

    def __init__(self, server: Any, converter: Any) -> None:
        self._shutdown_requested = False  # before the base class inspects the attributes
        # Stop at the first wrong field: collecting every error builds one exception per
        # element, which for a megabyte string where a list belongs (each character a wrong
        # Position) takes minutes and gigabytes.
        converter.detailed_validation = False
        super().__init__(server, converter)
        self.initialize_received = False
        self.exit_code: int | None = None
        self.max_message_bytes: int = 64 * 1024 * 1024
        self._stop: asyncio.Event | None = None

    # ------------------------------------------------------------ lifecycle

    def _reply_error(self, msg_id: Any, code: int, message: str) -> None:
        if isinstance(msg_id, bool) or not isinstance(msg_id, int | str):
            msg_id = None  # an id of another type is not echoed back
        self._send_data(
            {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        )

    @property
    def shutdown_requested(self) -> bool:
        return self._shutdown or self._shutdown_requested

    def stop(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        if self._stop is not None:
            self._stop.set()

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]
        code = 0 if self.shutdown_requested else 1
        log.info(
            "exit received (%s shutdown): status %d", "after" if code == 0 else "without", code
        )
        self.stop(code)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]
        self, params: types.ExecuteCommandParams
    ) -> Any:
        """Run a command as a plain async task, so ``$/cancelRequest`` reaches it."""
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(ValueError(f"unknown command {params.command!r}"))
        result = handler(*(params.arguments or []))
        if inspect.isawaitable(result):
            result = await result
        return result

    def handle_raw(self, raw: Any) -> None:
        """Dispatch one decoded JSON value, enforcing the lifecycle rules."""
        if not isinstance(raw, dict):
            self._reply_error(None, INVALID_REQUEST, "expected a JSON-RPC object")
            return
        method = raw.get("method")
        has_id = "id" in raw
        msg_id = raw.get("id")
        if raw.get("jsonrpc") != "2.0" or (method is not None and not isinstance(method, str)):
            if has_id or method is not None:
                self._reply_error(msg_id, INVALID_REQUEST, "not a JSON-RPC 2.0 message")
            return
        if method is None:
            if "method" in raw or not ("result" in raw or "error" in raw):
                if has_id:  # neither a request nor a response
                    self._reply_error(msg_id, INVALID_REQUEST, "`method` must be a string")
                return
            self._handle_structured(raw, None, None)  # a response: never answered
            return
        is_request = has_id
        if has_id and (isinstance(msg_id, bool) or not isinstance(msg_id, int | str | None)):
            self._reply_error(None, INVALID_REQUEST, "`id` must be a number or a string")
            return
        if is_request and method != types.EXIT and _is_notification(method):
            # an answer the client would wait for forever: say it takes no id
            code = METHOD_NOT_FOUND if method.startswith("$/") else INVALID_REQUEST
            self._reply_error(msg_id, code, f"{method} is a notification: it takes no id")
            return
        if "params" not in raw and self.get_message_type(method) is None:
            raw["params"] = None  # custom methods may omit params
        if method == types.EXIT:
            self._handle_structured(raw, None, method)
            return
        if not self.initialize_received:
            if method == types.INITIALIZE and is_request:
                try:
                    self.structure_message(raw)
                except Exception as exc:  # the client may send a correct one next
                    log.warning("invalid initialize params: %s", exc)
                    self._reply_error(msg_id, INVALID_PARAMS, "invalid params for initialize")
                    return
                self.initialize_received = True
            elif is_request:
                self._reply_error(msg_id, SERVER_NOT_INITIALIZED, "server not initialized")
                return
            else:
                log.debug("dropping %s before initialize", method)
                return
        elif method == types.INITIALIZE and is_request:
            self._reply_error(msg_id, INVALID_REQUEST, "initialize was already received")
            return
        if self.shutdown_requested:
            if is_request:
                self._reply_error(msg_id, INVALID_REQUEST, "server is shutting down")
            return
        if method == types.SHUTDOWN and is_request:
            # Counted from its arrival: editors (Neovim 0.11) may close the pipe without
            # waiting for the reply, and that must still end the process cleanly.
            self._shutdown_requested = True
        uri = _document_uri(raw.get("params"))
        if uri is not None and len(uri) > MAX_URI_CHARS:
            # no file has such a name; and the standard library keeps the last URIs it split
            log.warning("%s: refused a document URI of %d characters", method, len(uri))
            if is_request:
                self._reply_error(
                    msg_id, INVALID_PARAMS, f"document URIs are at most {MAX_URI_CHARS} characters"
                )
            return
        self._handle_structured(raw, msg_id if is_request else None, method)

    def _handle_structured(self, raw: dict[str, Any], msg_id: Any, method: str | None) -> None:
        try:
            message = self.structure_message(raw)
        except Exception as exc:
            log.warning("invalid params for %s: %s", method, exc)
            if msg_id is not None:
                self._reply_error(msg_id, INVALID_PARAMS, f"invalid params for {method}")
            return
        try:
            self.handle_message(message)
        except JsonRpcMethodNotFound:
            if msg_id is not None:
                self._reply_error(msg_id, METHOD_NOT_FOUND, f"unknown method {method}")
        except Exception:
            log.exception("failed to handle %s", method)
            if msg_id is not None:
                self._reply_error(msg_id, -32603, f"internal error handling {method}")

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls files the future of each handler it runs as a coroutine, a thread or a
        generator under ``msg_id``, but only a request's reply removes it: a notification's
        (``didOpen``, ``didChange``, ``didClose``, under a fresh id each) would stay for
        good, a failed one with its exception and the whole message. Remove it when done."""

        def done(future: Any) -> None:
            try:
                callback(future)
            finally:
                if self._request_futures.get(msg_id) is future:
                    del self._request_futures[msg_id]

        super()._execute_handler(msg_id, handler, done, args, kwargs)

    def handle_frame(self, frame: Frame) -> None:
        if frame.error is not None:
            self._reply_error(
                None, INVALID_REQUEST if "exceeds" in frame.error else PARSE_ERROR, frame.error
            )
            return
        assert frame.body is not None
        try:
            raw = json.loads(frame.body)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("malformed JSON: %s", exc)
            self._reply_error(None, PARSE_ERROR, f"parse error: {exc}")
            return
        self.handle_raw(raw)

    # -------------------------------------------------------------- serving

    async def serve(self, stream: BinaryIO) -> int:
        """Read and handle messages from ``stream`` until ``exit``, EOF or a dead editor."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        queue: asyncio.Queue[Frame | None] = asyncio.Queue()

        def emit(frame: Frame | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, frame)
            except RuntimeError:
                pass  # loop closed: we are exiting

        reader = threading.Thread(
            target=read_frames,
            args=(stream, lambda: self.max_message_bytes, emit),
            name="quill-lsp-reader",
            daemon=True,
        )
        reader.start()
        stop_wait = asyncio.ensure_future(self._stop.wait())
        while not self._stop.is_set():
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break
            frame = getter.result()
            if frame is None:
                log.info("the editor closed the connection")
                self.stop(0 if self.shutdown_requested else 1)
                break
            try:
                self.handle_frame(frame)
            except BrokenPipeError:
                log.error("the editor's end of the pipe is closed")
                self.stop(1)
            except Exception:
                log.exception("unexpected error handling a message")
        stop_wait.cancel()
        return self.exit_code if self.exit_code is not None else 1

    async def watch_parent(self, pid: int, interval: float) -> None:
        """Stop the server when the editor process ``pid`` is gone."""
        while self._stop is None or not self._stop.is_set():
            if not process_alive(pid):
                log.warning("editor process %d is gone; exiting", pid)
                self.stop(1)
                return
            await asyncio.sleep(interval)


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


#: Quill's own notifications (lsprotocol knows the standard ones)
QUILL_NOTIFICATIONS = frozenset(
    {"textDocument/didShowCompletion", "textDocument/didPartiallyAcceptCompletion"}
)


def _is_notification(method: str) -> bool:
    """Whether ``method`` is a notification, which a message with an ``id`` cannot be."""
    if method in QUILL_NOTIFICATIONS:
        return True
    known = types.METHOD_TO_TYPES.get(method)
    return known is not None and known[1] is None


def _document_uri(params: Any) -> str | None:
    """The document URI a message names (``textDocument.uri`` or ``uri``), if any."""
    if not isinstance(params, dict):
        return None
    document = params.get("textDocument")
    uri = document.get("uri") if isinstance(document, dict) else params.get("uri")
    return uri if isinstance(uri, str) else None
