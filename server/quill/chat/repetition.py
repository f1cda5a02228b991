"""Stop an answer that has started to repeat itself (small local models loop)."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from difflib import SequenceMatcher

#: a sentence or line shorter than this may legitimately repeat ("}", "return x", "Yes.")
MIN_REPEATED = 24
#: two sentences this similar (word by word) count as a repetition
SIMILARITY = 0.85
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


async def stop_on_repetition(
    pieces: AsyncIterator[str], *, min_length: int = MIN_REPEATED
) -> AsyncGenerator[str, None]:
    """Pass ``pieces`` through, line by line, until a long sentence or line repeats.

    The answer is cut just before the repetition and the upstream stream is closed.
    """
    seen: set[str] = set()
    pending = ""
    try:
        async for piece in pieces:
            pending += piece
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                kept, repeated = _cut_at_repeat(line, seen, min_length)
                if repeated:
                    if kept.strip():
                        yield kept.rstrip() + "\n"
                    return
                yield line + "\n"
        if pending:
            kept, _ = _cut_at_repeat(pending, seen, min_length)
            if kept:
                yield kept
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:
            await close()


def _repeats(key: str, seen: set[str]) -> bool:
    if key in seen:
        return True
    words = key.lower().split()
    return any(
        SequenceMatcher(None, words, other.lower().split(), autojunk=False).ratio() >= SIMILARITY
        for other in seen
    )


def _cut_at_repeat(line: str, seen: set[str], min_length: int) -> tuple[str, bool]:
    """The part of ``line`` before its first repeated sentence, and whether one repeated."""
    whole = " ".join(line.split())
    if len(whole) >= min_length and whole in seen:
        return "", True
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(line):
        key = " ".join(sentence.split())
        if len(key) >= min_length:
            if _repeats(key, seen):
                return " ".join(kept), True
            seen.add(key)
        kept.append(sentence)
    if len(whole) >= min_length:
        seen.add(whole)
    return line, False
