"""The context of the lines being typed on, gathered once when the cursor arrives there.

While the user types within one block of :data:`LINE_GRID` lines the context stays the same,
so the prompt keeps its beginning and the model's prefix cache keeps hitting, also on the next
line; it is gathered afresh when the cursor moves to another block (or file, or the budget
changes). Sources run on executor threads, raced against a
deadline; a source that misses it is named in ``droppedSources``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from quill.completion.recent_edits import RecentEdits
from quill.context.sections import ContextQuery, ContextSection, ContextSource

__all__ = ["LINE_GRID", "Gathered", "LineContext"]

#: lines that share one context (aligned blocks: lines 0-7, 8-15, ...)
LINE_GRID = 8

log = logging.getLogger(__name__)

#: the sections gathered, and the names of the sources that missed the deadline or failed
Gathered = tuple[list[ContextSection], list[str]]


class LineContext:
    def __init__(self, recent_edits: RecentEdits, read_document: Callable[[str], str | None]):
        self._recent_edits = recent_edits
        self._read_document = read_document
        self._current: tuple[tuple[str, int, int], asyncio.Future[Gathered]] | None = None

    def gather(
        self,
        query: ContextQuery,
        sources: Sequence[tuple[str, ContextSource]],
        deadline_s: float,
    ) -> asyncio.Future[Gathered]:
        """The context for ``query``'s line: the one under way or done for this block of
        lines, else a new gathering (which the caller may await later, behind the debounce)."""
        key = (query.uri, query.line // LINE_GRID, query.budget_tokens)
        current = self._current
        if current is not None and current[0] == key:
            future = current[1]
            if not future.cancelled() and not (future.done() and future.exception()):
                return future
        future = asyncio.ensure_future(self._gather(query, list(sources), deadline_s))
        self._current = (key, future)
        return future

    async def _gather(
        self,
        query: ContextQuery,
        sources: list[tuple[str, ContextSource]],
        deadline_s: float,
    ) -> Gathered:
        sections = self._recent_edits.sections(
            self._read_document, query.uri, query.line, query.language
        )
        if not sources:
            return sections, []
        loop = asyncio.get_running_loop()
        futures = {name: loop.run_in_executor(None, source, query) for name, source in sources}
        _done, pending = await asyncio.wait(futures.values(), timeout=deadline_s)
        dropped: list[str] = []
        for name, fut in futures.items():
            if fut in pending:
                dropped.append(name)
                fut.cancel()
                continue
            try:
                sections.extend(fut.result())
            except Exception:
                log.exception("context source %s failed", name)
                dropped.append(name)
        return sections, dropped
