"""One chat turn: a question already stored, its answer streamed, stoppable, then stored.

The model stream runs in a task of its own (started by the first reader, or by
:meth:`ChatTurn.wait`), so :meth:`ChatTurn.cancel` can stop it at any moment, also while it
waits for the first token: the upstream stream is closed, and what was answered so far is
stored, marked ``stopped``. A reader that goes away (a client disconnecting) stops it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from quill.chat.records import ContextItem, StoredMessage
from quill.chat.repetition import stop_on_repetition
from quill.chat.thinking import ThinkSplitter
from quill.models.base import ChatMessage, GenerationOptions
from quill.models.errors import ModelError
from quill.models.router import RoutedStream

__all__ = ["ChatPiece", "ChatTurn"]

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


@dataclass(frozen=True, slots=True)
class ChatPiece:
    """A piece of the streamed answer, or (``kind="thinking"``) of a reasoning model's
    hidden thinking."""

    kind: Literal["answer", "thinking"]
    text: str


class _End:
    """The end of the pieces."""


class ChatTurn:
    """A question of a session and its answer (see the module docstring).

    ``context_items`` lists what was sent with the question, ``notes`` what was refused
    (mentions outside the workspace, secret files). After the end: ``message`` is the stored
    answer (None when the model failed before answering), ``error`` the model's failure.
    ``finish`` stores the answer (it is called once, also after a failure).
    """

    def __init__(
        self,
        *,
        session_id: str,
        question: StoredMessage,
        messages: list[ChatMessage],
        context_items: list[ContextItem],
        notes: list[str],
        redacted: int,
        prompt_tokens: int,
        options: GenerationOptions,
        start: Callable[[], RoutedStream],
        finish: Callable[[ChatTurn], Awaitable[StoredMessage | None]],
        spawn: Spawn,
    ) -> None:
        self.session_id = session_id
        self.question = question
        self.messages = messages
        self.context_items = context_items
        self.notes = notes
        self.redacted = redacted
        self.prompt_tokens = prompt_tokens
        self.options = options  # what the model is asked with
        self.model: str | None = None
        self.thinking = ""
        self.stopped = False
        self.error: ModelError | None = None
        self.message: StoredMessage | None = None
        self._start = start
        self._finish = finish
        self._spawn = spawn
        self._shown: list[str] = []  # every answer piece streamed
        self._kept: list[str] = []  # the answer as kept (cut where it started repeating)
        self._final: str | None = None
        self._queue: asyncio.Queue[ChatPiece | _End | ModelError] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None
        self._running = False
        self._finishing = False
        self._cancelled = False
        self._read = False
        self._done = asyncio.Event()

    @property
    def answer(self) -> str:
        """The answer so far (thinking left out); after the end, the answer as stored: cut
        before a repetition when the model looped, everything streamed when it was stopped."""
        if self._final is not None:
            return self._final
        return "".join(self._shown)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # ------------------------------------------------------------ reading

    def start(self) -> None:
        """Start the model stream (reading or waiting starts it too)."""
        if self._task is None:
            self._task = self._spawn(self._pump(), "chat-turn")

    async def pieces(self) -> AsyncGenerator[ChatPiece, None]:
        """The answer and thinking pieces as they arrive; raises the model's error at the
        end. One reader per turn; closing it early stops the turn."""
        if self._read:
            raise RuntimeError("a chat turn is streamed once")
        self._read = True
        self.start()
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    return
                if isinstance(item, ModelError):
                    raise item
                yield item
        finally:
            if not self._done.is_set():
                self.cancel()

    async def stream(self) -> AsyncGenerator[str, None]:
        """The visible answer, piece by piece (``<think>`` blocks left out)."""
        pieces = self.pieces()
        try:
            async for piece in pieces:
                if piece.kind == "answer":
                    yield piece.text
        finally:
            await pieces.aclose()

    async def wait(self) -> StoredMessage | None:
        """Run the turn to its end (without a reader) and return the stored answer; raises
        the model's error when it failed."""
        self.start()
        await self._done.wait()
        if self.error is not None:
            raise self.error
        return self.message

    async def ended(self) -> None:
        """Run the turn to its end (answer stored) without raising its error."""
        self.start()
        await self._done.wait()

    def cancel(self) -> bool:
        """Stop the answer; what was streamed is kept, marked stopped. False when the turn
        had already ended or was already stopped."""
        if self._done.is_set() or self._cancelled:
            return False
        self._cancelled = True
        self.stopped = True
        if self._task is None:
            self.start()
        elif self._running and not self._finishing:
            self._task.cancel()
        return True

    # ------------------------------------------------------------ the model

    async def _pump(self) -> None:
        self._running = True
        splitter = ThinkSplitter(on_thinking=self._thought)
        stream: RoutedStream | None = None
        end: _End | ModelError = _End()
        try:
            if not self._cancelled:
                stream = self._start()
                # Pieces go to the reader as they arrive (token by token); the answer kept is
                # what stop_on_repetition passes, and it stops the model when it loops.
                async for kept in stop_on_repetition(self._tap(stream, splitter.split(stream))):
                    self._kept.append(kept)
                self.model = stream.model or self.model
        except asyncio.CancelledError:
            self.stopped = True
        except ModelError as exc:
            log.info("chat answer failed: %s", exc)
            self.error = exc
            self.stopped = True
            end = exc
        finally:
            self._finishing = True
            if stream is not None:
                await _close_quietly(stream)
            self.thinking = splitter.thinking
            self._final = "".join(self._shown if self.stopped else self._kept)
            try:
                self.message = await asyncio.shield(self._finish(self))
            except Exception:
                log.exception("storing a chat answer failed")
            finally:
                self._queue.put_nowait(end)
                self._done.set()

    async def _tap(
        self, stream: RoutedStream, pieces: AsyncGenerator[str, None]
    ) -> AsyncGenerator[str, None]:
        try:
            async for piece in pieces:
                if self.model is None:
                    self.model = stream.model
                self._shown.append(piece)
                self._queue.put_nowait(ChatPiece("answer", piece))
                yield piece
        finally:
            await pieces.aclose()

    def _thought(self, text: str) -> None:
        self._queue.put_nowait(ChatPiece("thinking", text))


async def _close_quietly(stream: RoutedStream) -> None:
    try:
        await stream.aclose()
    except (ModelError, RuntimeError):
        log.debug("closing a chat stream failed", exc_info=True)
