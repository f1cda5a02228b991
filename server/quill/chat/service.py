"""Chat, transport-free: sessions with memory, context from the workspace, streamed answers.

:meth:`ChatService.send` stores the user's message, gathers the context of the question
(:mod:`quill.chat.gather`), trims the history to the budget (:mod:`quill.chat.history`), renders
the prompt through the one prompt path (:func:`quill.context.prompt.chat_messages`) and
returns a :class:`~quill.chat.turn.ChatTurn` that streams the answer and stores it when it
ends. Budgets are counted with the chat model's token counter and fit its context window:
the answer's tokens are kept free, the context gets up to ``chat.contextTokens``, earlier turns
up to ``chat.historyTokens``. Secrets are redacted from everything sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Literal, TypeVar

from quill.chat.export import export_json, export_markdown
from quill.chat.gather import MIN_BLOCK_TOKENS, ContextGatherer, GatheredContext
from quill.chat.history import (
    extractive_summary,
    history_messages,
    is_protected,
    title_from,
    trim_history,
)
from quill.chat.records import ChatSession, StoredMessage
from quill.chat.store import ChatStore
from quill.chat.summary import SUMMARY_PROMPT_TOKENS, model_summary
from quill.chat.thinking import no_think_switch
from quill.chat.turn import ChatTurn
from quill.config import ChatSettings
from quill.context.prompt import chat_messages, joined_text
from quill.index.service import WorkspaceIndex
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.router import ModelRouter
from quill.models.tokens import estimate_tokens
from quill.safety.secrets import is_secret_file, redact_with_count
from quill.tasks import TaskRegistry

__all__ = ["ChatService", "ContextFor", "UnknownSession"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: (path, document text, line, token budget) -> rendered definitions the code there uses
ContextFor = Callable[[str | None, str, int | None, int], Awaitable[str]]
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]
#: tokens kept free besides the answer (chat template markers, the counter's error)
SLACK_TOKENS = 48
#: the context window assumed when the route has no model
DEFAULT_WINDOW = 4096


class UnknownSession(KeyError):
    """A session id that is not (or no longer) stored."""

    def __str__(self) -> str:
        return f"no chat session {self.args[0]!r}"


class ChatService:
    """Chat sessions over one store (see the module docstring).

    ``workspace`` gives the folder ``@path`` mentions are read from (default: the index's
    root), ``read_text`` the editor's open buffer of a workspace-relative path, ``tasks`` the
    registry background work is spawned in, ``index_call`` how blocking index reads are run
    off the event loop (default: :func:`asyncio.to_thread`).
    """

    def __init__(
        self,
        router: Callable[[], ModelRouter],
        settings: Callable[[], ChatSettings],
        context_for: ContextFor | None,
        store: ChatStore,
        index: Callable[[], WorkspaceIndex | None],
        *,
        workspace: Callable[[], Path | None] | None = None,
        read_text: Callable[[str], str | None] | None = None,
        tasks: TaskRegistry | None = None,
        index_call: RunBlocking | None = None,
    ) -> None:
        self._router = router
        self._settings = settings
        self._context_for = context_for
        self.store = store
        self._index = index
        self._workspace = workspace
        self._read_text = read_text
        self._tasks = tasks if tasks is not None else TaskRegistry()
        self._index_call = index_call
        self._mine: set[asyncio.Task[Any]] = set()
        self._turns: set[ChatTurn] = set()
        #: per session: the model summary to make once the current turn has been answered
        self._pending_summaries: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}

    # ------------------------------------------------------------ a turn

    async def send(
        self,
        session_id: str | None,
        text: str,
        *,
        file: tuple[str | None, str, int | None] | None = None,
        selection: str | None = None,
    ) -> ChatTurn:
        """Store ``text`` as the user's message in the session (a new one for None) and
        return the turn that answers it. ``file`` is the current file (workspace-relative
        path, text, cursor line), ``selection`` the selected text. Raises
        :class:`UnknownSession`."""
        settings = self._settings()
        router = self._router()
        route = router.route("chat")
        provider = router.providers[route[0]] if route else None
        count = provider.tokens if provider is not None else estimate_tokens
        window = router.settings_for(route[0]).context_size if route else DEFAULT_WINDOW
        switch = None
        if not settings.thinking and provider is not None:
            switch = no_think_switch(provider.model_id)
        if not text.strip():
            raise ValueError("an empty chat message")

        session = await self._session_or_new(session_id, text)
        question = await self._db(
            lambda: self.store.add_message(session.id, "user", text, tokens=count(text))
        )
        asked, redacted = redact_with_count(text)
        fixed = count(joined_text(chat_messages(asked, summary=session.summary, switch=switch)))
        available = window - settings.max_tokens - fixed - SLACK_TOKENS
        history_reserve = min(settings.history_tokens, max(0, available) // 3)
        context_budget = max(0, min(settings.context_tokens, available - history_reserve))
        gathered = await self._gather(text, file, selection, context_budget, settings, count)
        history_budget = max(0, min(settings.history_tokens, available - gathered.tokens))
        history, summary = await self._history(session, question.id, history_budget, count, window)
        sent: list[ChatMessage] = []
        for message in history_messages(history):
            content, found = redact_with_count(message["content"])
            redacted += found
            sent.append({"role": message["role"], "content": content})
        messages = chat_messages(
            asked, history=sent, summary=summary, context=gathered.blocks, switch=switch
        )
        options = GenerationOptions(
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            priority="chat",
            thinking=None if settings.thinking else False,
        )
        turn = ChatTurn(
            session_id=session.id,
            question=question,
            messages=messages,
            context_items=gathered.items,
            notes=gathered.notes,
            redacted=redacted + gathered.redacted,
            prompt_tokens=count(joined_text(messages)),
            options=options,
            start=lambda: self._router().stream_chat("chat", messages, options),
            finish=lambda t: self._store_answer(t, count),
            spawn=self._spawn,
        )
        self._turns.add(turn)
        return turn

    async def _session_or_new(self, session_id: str | None, text: str) -> ChatSession:
        if session_id is None:
            return await self._db(lambda: self.store.create_session(title_from(text)))
        session = await self._db(lambda: self.store.session(session_id))
        if session is None:
            raise UnknownSession(session_id)
        return session

    async def _store_answer(
        self, turn: ChatTurn, count: Callable[[str], int]
    ) -> StoredMessage | None:
        self._turns.discard(turn)
        pending = self._pending_summaries.pop(turn.session_id, None)
        if pending is not None:
            self._spawn(pending(), "chat-summary")
        answer = turn.answer.strip()
        if turn.error is not None and not answer:
            return None
        return await self._db(
            lambda: self.store.add_message(
                turn.session_id,
                "assistant",
                answer,
                model=turn.model,
                tokens=count(answer) + count(turn.thinking),
                prompt_tokens=turn.prompt_tokens,
                stopped=turn.stopped,
                thinking=turn.thinking,
                context=turn.context_items,
            )
        )

    # ------------------------------------------------------------ context

    async def _gather(
        self,
        text: str,
        file: tuple[str | None, str, int | None] | None,
        selection: str | None,
        budget: int,
        settings: ChatSettings,
        count: Callable[[str], int],
    ) -> GatheredContext:
        index = self._index()
        root = self._workspace() if self._workspace is not None else None
        if root is None and index is not None:
            root = index.root
        gatherer = ContextGatherer(
            root=root, index=index, count=count, budget=budget, read_text=self._read_text
        )
        path, document, line = file if file is not None else (None, "", None)

        def explicit() -> None:
            gatherer.add_selection(selection, path)
            gatherer.add_mentions(text)
            if file is not None:
                gatherer.add_current(path, document, line)

        await self._blocking(explicit)
        if self._context_for is not None and file is not None and not is_secret_file(path):
            room = min(gatherer.remaining, budget // 3)
            if room >= MIN_BLOCK_TOKENS:
                try:
                    related = await self._context_for(path, document, line, room)
                except Exception:  # extra context: the question goes out without it
                    log.warning("context for a chat question failed", exc_info=True)
                    related = ""
                gatherer.add("related", path or "untitled", "definitions it uses", related)

        def found() -> None:
            gatherer.add_search(text, settings.search_results)
            gatherer.add_map(text, path, settings.repo_map_tokens)

        await self._blocking(found)
        return gatherer.result

    # ------------------------------------------------------------ history

    async def _history(
        self,
        session: ChatSession,
        before: int,
        budget: int,
        count: Callable[[str], int],
        window: int,
    ) -> tuple[list[StoredMessage], str]:
        """The earlier messages that fit ``budget`` and the running summary; newly trimmed
        messages are folded into the summary now (extractively) and, when the turn ends, by
        the model."""
        settings = self._settings()
        keywords = list(settings.keep_keywords)
        upto = session.summary_upto
        reserve = min(settings.summary_tokens, budget // 4)
        recent = await self._db(lambda: self.store.messages(session.id, after=upto, before=before))
        old: list[StoredMessage] = []
        if upto:
            old = await self._db(
                lambda: self.store.protected_messages(session.id, upto=upto, keywords=keywords)
            )
            old = [m for m in old if is_protected(m, keywords)]
        trimmed = trim_history(old + recent, budget - reserve, count, keywords)
        folded = [m for m in trimmed.trimmed if m.id > upto]
        if not folded:
            return trimmed.kept, session.summary
        new_upto = max(m.id for m in folded)
        summary = ""
        if reserve > 0:
            summary = extractive_summary(session.summary, folded, reserve, count)
        await self._db(lambda: self.store.set_summary(session.id, summary, new_upto))
        if reserve > 0 and settings.summarize_with_model:
            previous = session.summary
            room = window - 2 * reserve - SUMMARY_PROMPT_TOKENS
            self._pending_summaries[session.id] = lambda: self._summarize(
                session.id, previous, folded, new_upto, reserve, count, room
            )
        return trimmed.kept, summary

    async def _summarize(
        self,
        session_id: str,
        previous: str,
        folded: list[StoredMessage],
        upto: int,
        budget: int,
        count: Callable[[str], int],
        room: int,
    ) -> None:
        """Store the model's summary unless a newer fold replaced the extractive one
        meanwhile; the extractive summary stays when the model fails."""
        text = await model_summary(self._router(), previous, folded, budget, count, room)
        if text:
            await self._db(
                lambda: self.store.set_summary(session_id, text, upto, expected_upto=upto)
            )

    # ------------------------------------------------------------ sessions

    async def sessions(self, *, limit: int = 50, offset: int = 0) -> list[ChatSession]:
        """Sessions, most recently used first."""
        return await self._db(lambda: self.store.sessions(limit=limit, offset=offset))

    async def session(self, session_id: str) -> ChatSession | None:
        return await self._db(lambda: self.store.session(session_id))

    async def history(
        self, session_id: str, *, limit: int = 50, before: int | None = None
    ) -> list[StoredMessage]:
        """The last ``limit`` messages (before message id ``before``), oldest first."""
        return await self._db(lambda: self.store.messages(session_id, limit=limit, before=before))

    async def rename(self, session_id: str, title: str) -> bool:
        title = " ".join(title.split())[:200] or "New chat"
        return await self._db(lambda: self.store.rename(session_id, title))

    async def delete(self, session_id: str) -> bool:
        for turn in [t for t in self._turns if t.session_id == session_id]:
            turn.cancel()
            await turn.ended()
        return await self._db(lambda: self.store.delete(session_id))

    async def pin(self, message_id: int, pinned: bool = True) -> bool:
        """Pin (or unpin) a message: a pinned message is never trimmed from the history."""
        return await self._db(lambda: self.store.set_pinned(message_id, pinned))

    async def export(
        self,
        session_id: str,
        fmt: Literal["markdown", "json"] = "markdown",
        *,
        thinking: bool = False,
    ) -> str:
        """The whole session as Markdown or JSON (with the thinking when ``thinking``)."""

        def read() -> tuple[ChatSession | None, list[StoredMessage]]:
            return self.store.session(session_id), self.store.messages(session_id)

        session, messages = await self._db(read)
        if session is None:
            raise UnknownSession(session_id)
        if fmt == "json":
            return export_json(session, messages, thinking=thinking)
        return export_markdown(session, messages, thinking=thinking)

    # ------------------------------------------------------------ lifecycle

    async def drain(self) -> None:
        """Wait for the turns and background summaries under way."""
        while self._mine:
            await asyncio.gather(*list(self._mine), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop every turn (their partial answers are stored), cancel the background work
        and close the store."""
        for turn in list(self._turns):
            turn.cancel()
        self._pending_summaries.clear()
        for task in list(self._mine):
            if task.get_name() != "chat-turn":
                task.cancel()
        await self.drain()
        self.store.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = self._tasks.spawn(coro, name)
        self._mine.add(task)
        task.add_done_callback(self._mine.discard)
        return task

    async def _db(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def _blocking(self, fn: Callable[[], None]) -> None:
        if self._index_call is not None:
            await self._index_call(fn)
        else:
            await asyncio.to_thread(fn)
