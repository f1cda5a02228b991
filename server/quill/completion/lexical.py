"""A small language-aware lexical scanner: where strings and comments are, where brackets are.

The gate uses it when no syntax tree is at hand (or the tree is broken around the cursor);
the post-filters use it to balance brackets without being fooled by brackets in strings and
comments. It is a heuristic, not a parser: it knows line comments, block comments (nested where
the language nests them), quoted strings (with backslash escapes, except in raw strings),
triple quotes, multi-line strings and Rust character literals, and nothing else.

Which of these a language has is data: the lexical keys of ``grammars/languages.toml``, read
through ``quill.index.languages.lexical_syntax``.
"""

from __future__ import annotations

import re
from enum import Enum

from quill.index.languages import LexicalSyntax, lexical_syntax

__all__ = [
    "CLOSERS",
    "OPENERS",
    "LexState",
    "Syntax",
    "bracket_positions",
    "state_at_end",
    "syntax_for",
]

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}

_RUST_CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")

Syntax = LexicalSyntax
"""The lexical facts about one language that the scanner needs."""


class LexState(Enum):
    """Where the scanner stands at the end of a text."""

    CODE = "code"
    STRING = "string"
    COMMENT = "comment"


def syntax_for(language: str | None) -> Syntax:
    """The scanner's view of ``language`` (an LSP language id, a language name or an extension)."""
    return lexical_syntax(language)


def state_at_end(text: str, syntax: Syntax) -> LexState:
    """Whether the end of ``text`` lies in code, in a string or in a comment."""
    return _scan(text, syntax, None)


def bracket_positions(text: str, syntax: Syntax) -> list[tuple[int, str]]:
    """Indices and characters of the brackets of ``text`` that lie in code."""
    found: list[tuple[int, str]] = []
    _scan(text, syntax, found)
    return found


def _line_comment_at(text: str, i: int, syntax: Syntax) -> bool:
    for marker in syntax.line_comments:
        if text.startswith(marker, i):
            if marker == "#" and syntax.hash_attribute and text[i + 1 : i + 2] in ("[", "!"):
                return False
            return True
    return False


def _scan(text: str, syntax: Syntax, brackets: list[tuple[int, str]] | None) -> LexState:
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n" or c.isalnum() or c == " ":
            i += 1
            continue
        # Comment markers before brackets: a table may open a comment with one (``(*``).
        block = syntax.block_comment
        if block is not None and text.startswith(block[0], i):
            i = _block_comment_end(text, i + len(block[0]), block, syntax.nested_block_comments)
            if i < 0:
                return LexState.COMMENT
            continue
        if _line_comment_at(text, i, syntax):
            newline = text.find("\n", i)
            if newline < 0:
                return LexState.COMMENT
            i = newline + 1
            continue
        if c in "([{)]}":
            if brackets is not None:
                brackets.append((i, c))
            i += 1
            continue
        if c == "'" and syntax.char_literals:
            match = _RUST_CHAR.match(text, i)
            i = match.end() if match else i + 1
            continue
        if c in syntax.quotes:
            if syntax.triple_quotes and text.startswith(c * 3, i):
                close = _find_unescaped(text, c * 3, i + 3)
                if close < 0:
                    return LexState.STRING
                i = close + 3
                continue
            multiline = c in syntax.multiline_quotes
            escapes = c not in syntax.raw_quotes
            j = i + 1
            while True:
                if j >= n:
                    return LexState.STRING
                ch = text[j]
                if ch == "\\" and escapes:
                    j += 2
                    continue
                if ch == c:
                    i = j + 1
                    break
                if ch == "\n" and not multiline:
                    # An unterminated single-line string ends with its line.
                    i = j + 1
                    break
                j += 1
            continue
        i += 1
    return LexState.CODE


def _block_comment_end(text: str, i: int, block: tuple[str, str], nested: bool) -> int:
    """Index just past the block comment whose opener ends at ``i``; -1 if it stays open."""
    start, end = block
    depth = 1
    while True:
        close = text.find(end, i)
        if close < 0:
            return -1
        opened = text.find(start, i, close) if nested else -1
        if opened >= 0:
            depth += 1
            i = opened + len(start)
            continue
        depth -= 1
        i = close + len(end)
        if depth == 0:
            return i


def _find_unescaped(text: str, needle: str, start: int) -> int:
    j = start
    while True:
        k = text.find(needle, j)
        if k < 0:
            return -1
        backslashes = 0
        m = k - 1
        while m >= start and text[m] == "\\":
            backslashes += 1
            m -= 1
        if backslashes % 2 == 0:
            return k
        j = k + 1
