"""Front door 1: the language server. Thin handlers: unpack, call the app, convert back."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from quill import __version__
from quill.app import Quill, Status
from quill.lsp.actions import register_action_features
from quill.lsp.chat import register_chat_features
from quill.lsp.completions import note_change, note_close, register_completion_features
from quill.lsp.diagnostics import CHANGE_DELAY_S, Diagnostics, register_diagnostic_features
from quill.lsp.documents import Documents, uri_to_path
from quill.lsp.index_features import UPDATE_DELAY_S, register_index_features
from quill.lsp.protocol import QuillProtocol
from quill.models.errors import ModelError
from quill.safety.secrets import warm_up as warm_up_secret_detection
from quill.settings_sources import SettingsProblem, SettingsSources, unwrap_client_settings

log = logging.getLogger(__name__)

STATUS_REQUEST = "quill/status"
STATUS_NOTIFICATION = "quill/statusChanged"
ASK_REQUEST = "quill/ask"
ASK_COMMAND = "quill.ask"


class ModelRequestFailed(JsonRpcException):
    """A model could not answer; the message is the short line for the user."""

    CODE = -32803  # LSP RequestFailed


class EditorBuffers:
    """The app's read-only view of the editor's open documents (pygls' workspace)."""

    def __init__(self, server: QuillLanguageServer) -> None:
        self._server = server

    def text(self, uri: str) -> str | None:
        return self._server.documents.text(uri)

    def open_workspace_paths(self) -> list[str]:
        return self._server.documents.open_workspace_paths()

    def workspace_text(self, rel_path: str) -> str | None:
        documents = self._server.documents
        if documents.root is None:
            return None
        document = documents.open_document_at(documents.root / rel_path)
        return document.source if document is not None else None


class QuillLanguageServer(LanguageServer):
    protocol: QuillProtocol

    def __init__(self, sources: SettingsSources) -> None:
        super().__init__(
            "quill",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=QuillProtocol,
            max_workers=4,
        )
        self.app = Quill(sources, buffers=EditorBuffers(self))
        self.protocol.max_message_bytes = self.app.settings.lsp.max_message_bytes
        self._untrusted_reported: str | None = None
        self.gateway: Any = None  # quill.gateway.runner.RunningGateway while one runs
        self.diagnostics = Diagnostics()
        register_completion_features(self)
        self.index_hooks = register_index_features(self)
        register_action_features(self)
        register_diagnostic_features(self)
        register_chat_features(self)

    @property
    def documents(self) -> Documents:
        """Open documents and the negotiated position encoding (pygls' workspace underneath)."""
        return Documents(self.workspace, self.app.workspace)

    def show_message(self, message: str, kind: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def report_settings_problems(self, problems: list[SettingsProblem]) -> None:
        """One short message naming every ignored key; details go to the log."""
        if not problems:
            return
        for problem in problems:
            log.warning("setting ignored: %s", problem)
        keys = ", ".join(sorted({p.key for p in problems}))
        self.show_message(
            f"Quill: ignored invalid settings ({keys}); using defaults. See the log for details.",
            types.MessageType.Warning,
        )

    def report_untrusted_settings(self) -> None:
        """Say once which workspace settings were ignored because the folder is not trusted."""
        message = self.app.sources.untrusted_message()
        if message is None or message == self._untrusted_reported:
            return
        self._untrusted_reported = message
        log.warning("%s", message)
        self.show_message(message, types.MessageType.Warning)

    async def start_gateway(self) -> None:
        """Serve the chat page, WebSocket and OpenAI-compatible API on a random loopback port,
        sharing this server's app; its address goes out in ``quill/status``."""
        from quill.gateway.runner import start_gateway

        try:
            running, _port, _token = await start_gateway(self.app, 0)
        except Exception:
            log.warning("the local gateway could not start", exc_info=True)
            return
        self.gateway = running
        log.info("gateway at %s", running.url)
        self.app.set_gateway({**running.to_json(), "pageUrl": running.page_url})

    async def stop_gateway(self) -> None:
        running, self.gateway = self.gateway, None
        if running is not None:
            self.app.gateway_info = None
            try:
                await running.stop()
            except Exception:
                log.warning("stopping the gateway failed", exc_info=True)

    def publish_status(self, status: Status) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, status.to_json())


def workspace_root(params: types.InitializeParams) -> Path | None:
    if params.workspace_folders:
        return uri_to_path(params.workspace_folders[0].uri)
    if params.root_uri:
        return uri_to_path(params.root_uri)
    if params.root_path:
        return Path(params.root_path)
    return None


def create_server(sources: SettingsSources | None = None) -> QuillLanguageServer:
    server = QuillLanguageServer(sources or SettingsSources())

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: QuillLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.index_hooks.schedule_update(ls, params.text_document.uri, 0.0)
        ls.diagnostics.schedule(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: QuillLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        note_change(ls, params)
        feed_tree_cache(ls, params)
        ls.index_hooks.schedule_update(ls, params.text_document.uri, UPDATE_DELAY_S)
        ls.diagnostics.schedule(ls, params.text_document.uri, CHANGE_DELAY_S)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: QuillLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        note_close(ls, params.text_document.uri)
        ls.diagnostics.forget(ls, params.text_document.uri)
        ls.index_hooks.schedule_update(ls, params.text_document.uri, 0.0)  # back to the disk copy

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: QuillLanguageServer, params: types.InitializeParams) -> None:
        root = workspace_root(params)
        ls.app.sources.workspace = root.resolve() if root else None
        ls.app.sources.initialization_options = unwrap_client_settings(
            params.initialization_options
        )
        ls.app.reload_settings()
        ls.protocol.max_message_bytes = ls.app.settings.lsp.max_message_bytes
        if params.process_id:
            ls.app.tasks.spawn(
                ls.protocol.watch_parent(
                    params.process_id, ls.app.settings.lsp.parent_process_poll_seconds
                ),
                "watch-editor-process",
            )
        ls.app.on_status(ls.publish_status)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: QuillLanguageServer, params: types.InitializedParams) -> None:
        ls.report_settings_problems(ls.app.problems)
        ls.report_untrusted_settings()
        ls.app.tasks.spawn(ls.app.check_models(), "check-models")
        ls.app.tasks.spawn(asyncio.to_thread(warm_up_secret_detection), "load-secret-detection")
        ls.app.tasks.spawn(ls.index_hooks.start_indexing(ls), "index-workspace")
        if ls.app.settings.gateway.enabled:
            ls.app.tasks.spawn(ls.start_gateway(), "start-gateway")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(
        ls: QuillLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        ls.app.sources.client_settings = unwrap_client_settings(params.settings)
        before = ls.app.router
        problems = ls.app.reload_settings()
        ls.protocol.max_message_bytes = ls.app.settings.lsp.max_message_bytes
        ls.report_settings_problems(problems)
        ls.report_untrusted_settings()
        if ls.app.router is not before:
            ls.app.tasks.spawn(ls.app.check_models(), "check-models")

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: QuillLanguageServer, params: Any) -> None:
        await ls.stop_gateway()
        await ls.app.aclose()

    @server.feature(STATUS_REQUEST)
    async def on_status(ls: QuillLanguageServer, params: Any) -> dict[str, object]:
        status = ls.app.status()
        # requests being handled, this one included (notifications are never kept)
        status.process["requestsInFlight"] = len(ls.protocol._request_futures)
        return status.to_json()

    @server.feature(ASK_REQUEST)
    async def on_ask(ls: QuillLanguageServer, params: Any) -> dict[str, object]:
        question = _param(params, "question")
        if not isinstance(question, str) or not question.strip():
            raise JsonRpcInvalidParams.of(ValueError("`question` must be a non-empty string"))
        uri = _param(params, "uri")
        position = _param(params, "position")
        line = _param(position, "line") if position is not None else None
        return await _ask(
            ls,
            question,
            uri if isinstance(uri, str) else None,
            line if isinstance(line, int) and line >= 0 else None,
        )

    @server.command(ASK_COMMAND)
    async def ask_command(ls: QuillLanguageServer, *args: Any) -> dict[str, object]:
        question = args[0] if args else None
        if not isinstance(question, str) or not question.strip():
            raise JsonRpcInvalidParams.of(ValueError("usage: quill.ask(question, [uri], [line])"))
        uri = args[1] if len(args) > 1 and isinstance(args[1], str) else None
        line = args[2] if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0 else None
        return await _ask(ls, question, uri, line)

    return server


def feed_tree_cache(ls: QuillLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Hand the editor's change ranges to the one tree cache, so the next parse of this buffer
    (by the completion gate, scope inference or the index) re-parses only what changed."""
    documents = ls.documents
    rel = documents.workspace_path(params.text_document.uri)
    if rel is None:
        return
    for change in params.content_changes:
        if not isinstance(change, types.TextDocumentContentChangePartial):
            return  # a whole new text: the next parse compares texts
        r = change.range
        ls.app.trees.edit_text(
            rel,
            (r.start.line, r.start.character),
            (r.end.line, r.end.character),
            change.text,
            documents.column_from_client,
        )


def _param(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


async def _ask(
    ls: QuillLanguageServer, question: str, uri: str | None, line: int | None = None
) -> dict[str, object]:
    file_text = file_path = None
    context = ""
    if uri:
        file_path, file_text = _read_for_question(ls, uri)
        context = await ls.app.question_context(file_path, file_text, line)
    try:
        stream = ls.app.ask(
            question, file_path=file_path, file_text=file_text, line=line, context=context
        )
    except ModelError as exc:
        raise ModelRequestFailed(str(exc)) from exc
    ls.app.busy(+1)
    try:
        text = await stream.text()
    except ModelError as exc:
        raise ModelRequestFailed(str(exc)) from exc
    finally:
        ls.app.busy(-1)
    return {"text": text, "model": stream.model}


def _read_for_question(ls: QuillLanguageServer, uri: str) -> tuple[str, str]:
    """An open document's text, or a workspace file's; nothing outside the workspace."""
    documents = ls.documents
    snap = documents.snapshot(uri)
    if snap is not None:
        return snap.display_path() or "untitled", snap.text
    rel = documents.workspace_path(uri)
    path = documents.path(uri)
    if rel is None or path is None:
        raise JsonRpcInvalidParams.of(
            ValueError(f"{uri} is neither open in the editor nor inside the workspace")
        )
    try:
        return rel, path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise JsonRpcInvalidParams.of(ValueError(f"cannot read {rel}: {exc}")) from exc


# ------------------------------------------------------------------ serving


async def _serve(server: QuillLanguageServer, stream: BinaryIO) -> int:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGHUP, signal.SIGTERM):
        # The editor hung up or asked politely (Emacs sends SIGHUP when it exits): clean up
        # and leave with status 0, as after shutdown and exit.
        try:
            loop.add_signal_handler(signum, server.protocol.stop, 0)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass  # not on this platform, or not on the main thread
    try:
        return await server.protocol.serve(stream)
    finally:
        try:
            await asyncio.wait_for(server.stop_gateway(), timeout=5)
            await asyncio.wait_for(server.app.aclose(), timeout=5)
        except Exception:
            log.exception("cleanup failed")


def run_stdio(stdin: BinaryIO, stdout: BinaryIO, sources: SettingsSources | None = None) -> int:
    server = create_server(sources)
    server.protocol.set_writer(StdoutWriter(stdout))
    return asyncio.run(_serve(server, stdin))


def run_tcp(
    host: str, port: int, sources: SettingsSources | None = None, announce: Any = None
) -> int:
    """Listen on ``host:port``, serve the first editor that connects, then exit."""
    listener = socket.create_server((host, port))
    bound = listener.getsockname()
    log.info("listening on %s:%s", bound[0], bound[1])
    if announce is not None:
        announce(bound[0], bound[1])
    try:
        conn, peer = listener.accept()
    finally:
        listener.close()
    log.info("editor connected from %s:%s", peer[0], peer[1])
    # The files are not closed here: the reader thread may still be blocked in a read, and
    # closing a buffered file under it would wait for that read. Shutting the socket down
    # wakes it instead.
    rfile = conn.makefile("rb")
    wfile = conn.makefile("wb")
    server = create_server(sources)
    server.protocol.set_writer(StdoutWriter(wfile))
    try:
        return asyncio.run(_serve(server, rfile))
    finally:
        try:
            wfile.flush()
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
