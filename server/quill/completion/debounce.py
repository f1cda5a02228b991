"""Waiting for the user to pause, and one live request per document.

:class:`AdaptiveDebouncer` delays a completion request by about one and a half of the user's
recent inter-keystroke intervals, so a fast typist waits less than a slow one, and hardly at
all at the start of a line. A newer request for the same document supersedes a waiting one.

:class:`RequestSupervisor` keeps one running completion task per document and cancels the
previous one when a new one starts; it counts how many superseded requests had already
reached the model, the work that debouncing exists to avoid.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["AdaptiveDebouncer", "RequestSupervisor", "SupervisorStats"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class AdaptiveDebouncer:
    """Per-document debouncing whose delay follows the observed typing speed.

    The delay is ``clamp(factor * median(recent intervals), min_ms, max_ms)``, or
    ``default_ms`` until two requests have been seen; pauses longer than ``max_gap_ms`` are
    not typing and are not counted. At the start of a line it is ``line_start_ms``.
    """

    def __init__(
        self,
        *,
        min_ms: float = 20.0,
        max_ms: float = 300.0,
        default_ms: float = 120.0,
        line_start_ms: float = 0.0,
        factor: float = 1.5,
        window: int = 16,
        max_gap_ms: float = 1500.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_ms < 0 or max_ms < min_ms:
            raise ValueError("need 0 <= min_ms <= max_ms")
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.default_ms = default_ms
        self.line_start_ms = line_start_ms
        self.factor = factor
        self.max_gap_ms = max_gap_ms
        self._clock = clock
        self._intervals: deque[float] = deque(maxlen=max(1, window))
        self._last_seen: dict[str, float] = {}
        self._generation: dict[str, int] = {}
        self.superseded = 0
        self.passed = 0

    def record(self, doc_key: str) -> None:
        """Note a keystroke (a request) for ``doc_key`` now."""
        now = self._clock()
        last = self._last_seen.get(doc_key)
        self._last_seen[doc_key] = now
        if last is not None:
            gap_ms = (now - last) * 1000.0
            if 0.0 <= gap_ms <= self.max_gap_ms:
                self._intervals.append(gap_ms)

    def delay_ms(self, at_line_start: bool = False) -> float:
        """The delay a request made now would wait."""
        if at_line_start:
            return self.line_start_ms
        if not self._intervals:
            return min(max(self.default_ms, self.min_ms), self.max_ms)
        typical = statistics.median(self._intervals)
        return min(max(self.factor * typical, self.min_ms), self.max_ms)

    async def wait(self, doc_key: str, at_line_start: bool) -> bool:
        """Wait out the delay; ``False`` when a newer request for ``doc_key`` came meanwhile."""
        self.record(doc_key)
        generation = self._generation.get(doc_key, 0) + 1
        self._generation[doc_key] = generation
        delay = self.delay_ms(at_line_start)
        await asyncio.sleep(delay / 1000.0)
        if self._generation.get(doc_key) != generation:
            self.superseded += 1
            return False
        self.passed += 1
        return True

    def forget(self, doc_key: str) -> None:
        """Drop what is known about ``doc_key`` (the document was closed)."""
        self._last_seen.pop(doc_key, None)
        # A pending wait for this document ends as superseded.
        if doc_key in self._generation:
            self._generation[doc_key] += 1


@dataclass(frozen=True)
class SupervisorStats:
    """Counts of :class:`RequestSupervisor` since it was made."""

    started: int
    finished: int
    superseded: int
    model_calls: int
    superseded_after_model_call: int

    @property
    def superseded_model_call_share(self) -> float:
        """Share of model calls whose request was superseded (wasted work), 0.0 if none."""
        return self.superseded_after_model_call / self.model_calls if self.model_calls else 0.0


@dataclass
class _Request:
    doc_key: str
    task: asyncio.Task[Any]
    model_called: bool = False
    superseded: bool = False


class RequestSupervisor:
    """One running request per document: starting a new one cancels the previous one."""

    def __init__(self) -> None:
        self._current: dict[str, _Request] = {}
        self._by_task: dict[asyncio.Task[Any], _Request] = {}
        self._started = 0
        self._finished = 0
        self._superseded = 0
        self._model_calls = 0
        self._superseded_after_model_call = 0

    def start(self, doc_key: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``coro`` as the request of ``doc_key``, cancelling the one before it."""
        previous = self._current.get(doc_key)
        if previous is not None and not previous.task.done():
            previous.superseded = True
            self._superseded += 1
            if previous.model_called:
                self._superseded_after_model_call += 1
            previous.task.cancel()
        task = asyncio.create_task(coro)
        request = _Request(doc_key, task)
        self._current[doc_key] = request
        self._by_task[task] = request
        self._started += 1
        task.add_done_callback(self._on_done)
        return task

    def mark_model_called(self, doc_key: str | None = None) -> None:
        """Note that a request reached the model.

        Called from inside a supervised task, it marks that task; otherwise it marks the
        current request of ``doc_key``.
        """
        request: _Request | None = None
        try:
            current = asyncio.current_task()
        except RuntimeError:
            current = None
        if current is not None:
            request = self._by_task.get(current)
        if request is None and doc_key is not None:
            request = self._current.get(doc_key)
        if request is None or request.model_called:
            return
        request.model_called = True
        self._model_calls += 1
        if request.superseded:
            # Superseded already, yet it still got as far as the model.
            self._superseded_after_model_call += 1

    def is_current(self, doc_key: str) -> bool:
        """Whether the calling task is still the live request of ``doc_key``."""
        request = self._current.get(doc_key)
        try:
            current = asyncio.current_task()
        except RuntimeError:
            return False
        return request is not None and request.task is current

    def running(self, doc_key: str) -> asyncio.Task[Any] | None:
        request = self._current.get(doc_key)
        return request.task if request is not None and not request.task.done() else None

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        request = self._by_task.pop(task, None)
        if request is not None and self._current.get(request.doc_key) is request:
            del self._current[request.doc_key]
        self._finished += 1
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            doc = request.doc_key if request is not None else "?"
            logger.error("completion request for %s failed", doc, exc_info=error)

    def cancel(self, doc_key: str) -> bool:
        """Cancel the running request of ``doc_key`` (not counted as superseded)."""
        request = self._current.get(doc_key)
        if request is None or request.task.done():
            return False
        request.task.cancel()
        return True

    async def shutdown(self) -> None:
        """Cancel every running request and wait until they have all ended."""
        tasks = [request.task for request in self._current.values() if not request.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def stats(self) -> SupervisorStats:
        return SupervisorStats(
            started=self._started,
            finished=self._finished,
            superseded=self._superseded,
            model_calls=self._model_calls,
            superseded_after_model_call=self._superseded_after_model_call,
        )
