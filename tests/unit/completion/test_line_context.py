"""The context of the lines being typed on: gathered once per block of lines, so the prompt's
beginning (and the model's prefix cache) stays the same from one line to the next."""

from __future__ import annotations

import itertools

from quill.completion.line_context import LINE_GRID, LineContext
from quill.completion.recent_edits import RecentEdits
from quill.context.sections import ContextQuery, ContextSection


async def test_the_context_is_gathered_once_per_block_of_lines() -> None:
    calls = itertools.count(1)

    def source(query: ContextQuery) -> list[ContextSection]:
        return [ContextSection("index", f"# gathered {next(calls)} at line {query.line}\n", 1.0)]

    context = LineContext(RecentEdits(), lambda uri: None)

    async def text_at(line: int, uri: str = "file:///a.py", budget: int = 96) -> str:
        query = ContextQuery(uri, "a.py", "python", "", line, "", budget, len)
        sections, dropped = await context.gather(query, [("index", source)], 5.0)
        assert dropped == []
        return "".join(s.text for s in sections)

    first = await text_at(LINE_GRID)
    assert first == f"# gathered 1 at line {LINE_GRID}\n"
    assert await text_at(LINE_GRID + 1) == first  # the next line: the same context
    assert await text_at(2 * LINE_GRID - 1) == first
    assert await text_at(2 * LINE_GRID) == f"# gathered 2 at line {2 * LINE_GRID}\n"
    assert (await text_at(2 * LINE_GRID, uri="file:///b.py")).startswith("# gathered 3")
    assert (await text_at(2 * LINE_GRID, uri="file:///b.py", budget=64)).startswith("# gathered 4")
