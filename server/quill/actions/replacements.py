"""The one plain edit every action returns: replace a span of a document with new text.

Positions are ``(line, column)``, both 0-based; a column is a Python string index into the
line (a front door converts it with the negotiated position encoding)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Position", "TextReplacement"]

#: 0-based line and column (a Python string index into the line)
Position = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TextReplacement:
    """Replace the text between ``start`` and ``end`` with ``new_text`` (an insertion when they
    are equal)."""

    start: Position
    end: Position
    new_text: str
