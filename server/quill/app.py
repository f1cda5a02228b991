"""Quill: the one object holding settings, models, status and background work.

Both front doors (the LSP server, later the gateway) hold one ``Quill`` and call its plain
async methods; nothing here knows about LSP or HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import platformdirs

from quill.actions.service import ActionService
from quill.chat.repetition import stop_on_repetition
from quill.chat.service import ChatService
from quill.chat.store import ChatStore
from quill.completion.service import CompletionService
from quill.config import Feature, Settings
from quill.context.assemble import ContextAssembler, context_source
from quill.context.budget import file_window
from quill.context.prompt import question_messages
from quill.index.records import IndexStats
from quill.index.service import WorkspaceIndex
from quill.index.trees import TreeCache
from quill.models.base import ChatMessage, GenerationOptions, ModelHealth
from quill.models.errors import ModelRequestRejected
from quill.models.router import ModelRouter, RoutedStream
from quill.models.tokens import estimate_tokens
from quill.safety.secrets import is_secret_file, redact
from quill.settings_sources import SettingsProblem, SettingsSources
from quill.stats import process_figures
from quill.status import Status, model_status
from quill.tasks import TaskRegistry

log = logging.getLogger(__name__)
T = TypeVar("T")


class EditorBuffers(Protocol):
    """What the app reads of the editor's open documents (a front door provides it)."""

    def text(self, uri: str) -> str | None: ...

    def open_workspace_paths(self) -> list[str]: ...

    def workspace_text(self, rel_path: str) -> str | None:
        """The open buffer of a workspace-relative path, or None when it is not open."""
        ...


class SecretFileRefused(ModelRequestRejected):
    """A question about a file that holds secrets (``.env``, keys) is not sent anywhere."""


class Quill:
    """The application: settings, model router, status and background tasks."""

    def __init__(
        self, sources: SettingsSources | None = None, *, buffers: EditorBuffers | None = None
    ) -> None:
        self.sources = sources or SettingsSources()
        self.buffers = buffers
        self.settings, self.problems = self.sources.load()
        self.router = ModelRouter(self.settings, on_change=self._models_changed)
        self.tasks = TaskRegistry()
        self.health: dict[str, ModelHealth] = {}
        self._status_listeners: list[Callable[[Status], None]] = []
        self._last_status: Status | None = None
        self._busy = 0
        #: the one incremental tree cache of editor buffers (index, scope inference, the gate)
        self.trees = TreeCache()
        self.index: WorkspaceIndex | None = None
        #: where the local gateway listens, when a front door started one
        self.gateway_info: dict[str, object] | None = None
        #: context for cursor positions in ``index`` (made with it)
        self.context: ContextAssembler | None = None
        self._index_writer = ThreadPoolExecutor(1, thread_name_prefix="quill-index")
        self._index_reader = ThreadPoolExecutor(2, thread_name_prefix="quill-index-read")
        # One context source: imports resolved, types in scope, nearby names and the repo
        # map, ranked and rendered together (quill.context.assemble).
        self.actions = ActionService(
            lambda: self.router, lambda: self.settings.actions, self.question_context
        )
        self.chat = ChatService(
            lambda: self.router,
            lambda: self.settings.chat,
            self.question_context,
            ChatStore(),
            lambda: self.index,
            workspace=lambda: self.workspace,
            read_text=buffers.workspace_text if buffers is not None else None,
            tasks=self.tasks,
            index_call=self.index_call,
        )
        self.completion = CompletionService(
            lambda: self.router,
            lambda: self.settings.completion,
            context_sources=[
                (
                    "context",
                    context_source(lambda: self.context, self.open_paths, self._recent_paths),
                )
            ],
            read_document=buffers.text if buffers is not None else None,
            parser_for=_parser_for,
            trees=self.trees,
        )

    def explanations_dir(self) -> Path | None:
        """Where explanations are written for the editor to show (the user cache)."""
        folder = Path(platformdirs.user_cache_dir("quill")) / "explanations"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return folder

    @property
    def workspace(self) -> Path | None:
        return self.sources.workspace

    # ------------------------------------------------------------- settings

    def reload_settings(self) -> list[SettingsProblem]:
        """Re-read every settings layer; rebuild the models when they changed."""
        old = self.settings
        self.settings, self.problems = self.sources.load()
        if _model_config(old) != _model_config(self.settings):
            previous = self.router
            self.router = ModelRouter(self.settings, on_change=self._models_changed)
            self.health = {}
            self._schedule_close(previous)
            self._models_changed()
        return self.problems

    def _schedule_close(self, router: ModelRouter) -> None:
        try:
            self.tasks.spawn(router.aclose(), "close-old-models")
        except RuntimeError:  # no running loop (CLI use)
            pass

    # --------------------------------------------------------------- status

    def on_status(self, listener: Callable[[Status], None]) -> None:
        self._status_listeners.append(listener)

    def status(self) -> Status:
        status = self._model_status()
        status.completion = self.completion.status()
        status.gateway = self.gateway_info
        status.process = process_figures()
        return status

    def _model_status(self) -> Status:
        return model_status(
            self.router, self.health, busy=self._busy > 0, enabled=self.settings.completion.enabled
        )

    def set_gateway(self, info: dict[str, object] | None) -> None:
        """A front door started (or stopped) the local gateway: announce where it listens."""
        self.gateway_info = info
        self._models_changed()

    def _models_changed(self) -> None:
        status = self.status()
        last = self._last_status
        if last is not None and (status.kind, status.message, status.busy, status.gateway) == (
            last.kind,
            last.message,
            last.busy,
            last.gateway,
        ):
            return
        self._last_status = status
        for listener in list(self._status_listeners):
            try:
                listener(status)
            except Exception:
                log.exception("status listener failed")

    async def check_models(self, *, generate: bool = False) -> list[ModelHealth]:
        results = await self.router.probe_all(generate=generate)
        self.health = {h.name: h for h in results}
        self._models_changed()
        return results

    # ------------------------------------------------------------------ ask

    def ask(
        self,
        question: str,
        *,
        file_path: str | None = None,
        file_text: str | None = None,
        line: int | None = None,
        context: str = "",
    ) -> RoutedStream:
        """One chat turn: ``question``, optionally about a file's text (around ``line``) with
        ``context`` from other files (see :meth:`question_context`); streamed."""
        messages = self.ask_messages(
            question, file_path=file_path, file_text=file_text, line=line, context=context
        )
        chat = self.settings.chat
        options = GenerationOptions(
            max_tokens=chat.max_tokens, temperature=chat.temperature, priority="chat"
        )
        return self.router.stream_chat("chat", messages, options).pipe(stop_on_repetition)

    def ask_messages(
        self,
        question: str,
        *,
        file_path: str | None = None,
        file_text: str | None = None,
        line: int | None = None,
        context: str = "",
    ) -> list[ChatMessage]:
        """The messages of one question through the one prompt path, secrets removed."""
        if file_text is not None and is_secret_file(file_path):
            raise SecretFileRefused(f"{file_path} holds secrets; it is never sent to a model")
        question = redact(question)
        if file_text is None:
            return question_messages(question)
        counter = self._counter("chat")
        context = redact(context)
        budget = self.settings.chat.context_tokens - (counter(context) if context else 0)
        code = redact(file_window(file_text, line, max(budget, 64), counter))
        return question_messages(question, path=file_path or "untitled", code=code, context=context)

    async def question_context(
        self, file_path: str | None, text: str, line: int | None, budget: int | None = None
    ) -> str:
        """Definitions from other files that the code around ``line`` uses, rendered for a
        prompt within ``budget`` tokens (default: a third of the chat context budget; "" without
        a workspace index)."""
        assembler = self.context
        if assembler is None or not file_path or is_secret_file(file_path):
            return ""
        if budget is None:
            budget = self.settings.chat.context_tokens // 3
        at = line if line is not None else 0
        result = await self.index_call(
            lambda: assembler.assemble(
                file_path,
                text,
                at,
                0,
                budget,
                count_tokens=self._counter("chat"),
                recent_files=self._recent_paths(),
                open_files=self.open_paths(),
            )
        )
        return result.text

    def _counter(self, feature: Feature) -> Callable[[str], int]:
        provider = self.router.primary(feature)
        return provider.tokens if provider is not None else estimate_tokens

    def count_tokens(self, text: str, feature: Feature = "chat") -> int:
        return self._counter(feature)(text)

    # ---------------------------------------------------------------- index

    def open_paths(self) -> list[str]:
        """Workspace-relative paths of the documents open in the editor."""
        return self.buffers.open_workspace_paths() if self.buffers is not None else []

    def _recent_paths(self) -> list[str]:
        return [p for p in self.completion.recent_edits.paths() if p]

    async def start_index(
        self, progress: Callable[[int, int], None] | None = None
    ) -> IndexStats | None:
        """Open the workspace index and bring it up to date (cold or warm), off the loop."""
        root = self.workspace
        options = self.settings.index
        if root is None or not options.enabled:
            return None
        loop = asyncio.get_running_loop()

        def open_index() -> WorkspaceIndex:
            cache = Path(options.cache_dir).expanduser() if options.cache_dir else None
            return WorkspaceIndex(
                root,
                cache,
                max_file_bytes=options.max_file_bytes,
                extra_excludes=options.exclude,
                trees=self.trees,
            )

        index = await loop.run_in_executor(self._index_writer, open_index)
        self.index = index
        buffers = self.buffers
        self.context = ContextAssembler(
            index, read_text=buffers.workspace_text if buffers is not None else None
        )
        started = time.perf_counter()
        # The cold walk runs on its own thread so editor updates are not queued behind it.
        stats = await asyncio.to_thread(index.index_all, progress)
        log.info(
            "indexed %d files (%d parsed) in %.2fs",
            stats.files,
            stats.parsed,
            time.perf_counter() - started,
        )
        return stats

    async def index_call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read of the index off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._index_reader, fn, *args)

    async def index_update(self, path: Path, text: str | None = None) -> None:
        """An editor buffer (``text``) or a file on disk (``None``) changed."""
        index = self.index
        if index is None:
            return
        await asyncio.get_running_loop().run_in_executor(
            self._index_writer, index.update_file, path, text
        )

    async def index_remove(self, path: Path) -> None:
        index = self.index
        if index is None:
            return
        await asyncio.get_running_loop().run_in_executor(
            self._index_writer, index.remove_file, path
        )

    # ------------------------------------------------------------ lifecycle

    def busy(self, delta: int) -> None:
        self._busy = max(0, self._busy + delta)

    async def aclose(self) -> None:
        try:
            await self.chat.aclose()  # partial answers are stored, the store is closed
        except Exception:
            log.exception("closing the chat failed")
        await self.tasks.cancel_all()
        await self.router.aclose()
        index, self.index = self.index, None
        self.context = None
        if index is not None:
            await asyncio.get_running_loop().run_in_executor(self._index_writer, index.close)
        self._index_writer.shutdown(wait=False, cancel_futures=True)
        self._index_reader.shutdown(wait=False, cancel_futures=True)


def _parser_for(language: str) -> Any:
    from quill.index.languages import get_parser

    return get_parser(language)


def _model_config(settings: Settings) -> Any:
    return (
        {k: v.model_dump() for k, v in settings.effective_models().items()},
        settings.routes.model_dump(),
        settings.router.model_dump(),
    )
