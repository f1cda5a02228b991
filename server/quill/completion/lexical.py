"""A small language-aware lexical scanner: where strings and comments are, where brackets are.

The gate uses it when no syntax tree is at hand (or the tree is broken around the cursor);
the post-filters use it to balance brackets without being fooled by brackets in strings and
comments. It is a heuristic, not a parser: it knows line comments, block comments, quoted
strings (with backslash escapes), Python triple quotes, multi-line backtick strings and Rust
character literals, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

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


class LexState(Enum):
    """Where the scanner stands at the end of a text."""

    CODE = "code"
    STRING = "string"
    COMMENT = "comment"


@dataclass(frozen=True)
class Syntax:
    """The lexical facts about one language that the scanner needs."""

    line_comments: tuple[str, ...] = ("//", "#")
    block_comments: tuple[tuple[str, str], ...] = (("/*", "*/"),)
    quotes: str = "\"'`"
    multiline_quotes: str = "`"
    triple_quotes: bool = True
    rust_chars: bool = False
    hash_attribute: bool = True
    """``#[`` and ``#!`` do not start a comment (Rust attributes, shebang-like lines)."""


_C_LIKE = Syntax(
    line_comments=("//",),
    block_comments=(("/*", "*/"),),
    quotes="\"'",
    multiline_quotes="",
    triple_quotes=False,
    hash_attribute=False,
)
_HASH = Syntax(
    line_comments=("#",),
    block_comments=(),
    quotes="\"'",
    multiline_quotes="",
    triple_quotes=False,
    hash_attribute=False,
)

_SYNTAXES: dict[str, Syntax] = {
    "python": Syntax(
        line_comments=("#",),
        block_comments=(),
        quotes="\"'",
        multiline_quotes="",
        triple_quotes=True,
        hash_attribute=False,
    ),
    "javascript": Syntax(
        line_comments=("//",),
        block_comments=(("/*", "*/"),),
        quotes="\"'`",
        multiline_quotes="`",
        triple_quotes=False,
        hash_attribute=False,
    ),
    "go": Syntax(
        line_comments=("//",),
        block_comments=(("/*", "*/"),),
        quotes="\"'`",
        multiline_quotes="`",
        triple_quotes=False,
        hash_attribute=False,
    ),
    "rust": Syntax(
        line_comments=("//",),
        block_comments=(("/*", "*/"),),
        quotes='"',
        multiline_quotes='"',
        triple_quotes=False,
        rust_chars=True,
        hash_attribute=False,
    ),
    "c": _C_LIKE,
    "java": _C_LIKE,
    "kotlin": Syntax(
        line_comments=("//",),
        block_comments=(("/*", "*/"),),
        quotes="\"'",
        multiline_quotes="",
        triple_quotes=True,
        hash_attribute=False,
    ),
    "shell": _HASH,
    "lua": Syntax(
        line_comments=("--",),
        block_comments=(("--[[", "]]"),),
        quotes="\"'",
        multiline_quotes="",
        triple_quotes=False,
        hash_attribute=False,
    ),
    "html": Syntax(
        line_comments=(),
        block_comments=(("<!--", "-->"),),
        quotes="\"'",
        multiline_quotes="",
        triple_quotes=False,
        hash_attribute=False,
    ),
}
_SYNTAXES["sql"] = Syntax(
    line_comments=("--",),
    block_comments=(("/*", "*/"),),
    quotes="\"'",
    multiline_quotes="",
    triple_quotes=False,
    hash_attribute=False,
)
_ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "jsx": "javascript",
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
    "ts": "javascript",
    "tsx": "javascript",
    "golang": "go",
    "rs": "rust",
    "cpp": "c",
    "c++": "c",
    "objective-c": "c",
    "csharp": "c",
    "cs": "c",
    "swift": "c",
    "scala": "c",
    "dart": "c",
    "php": "c",
    "kt": "kotlin",
    "bash": "shell",
    "sh": "shell",
    "shellscript": "shell",
    "zsh": "shell",
    "ruby": "shell",
    "rb": "shell",
    "perl": "shell",
    "r": "shell",
    "yaml": "shell",
    "toml": "shell",
    "dockerfile": "shell",
    "makefile": "shell",
    "xml": "html",
    "vue": "html",
    "svelte": "html",
}

GENERIC = Syntax()


def syntax_for(language: str | None) -> Syntax:
    """The scanner's view of ``language`` (an LSP language id or a short name)."""
    if not language:
        return GENERIC
    key = language.strip().lower()
    key = _ALIASES.get(key, key)
    return _SYNTAXES.get(key, GENERIC)


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
        if c in "([{)]}":
            if brackets is not None:
                brackets.append((i, c))
            i += 1
            continue
        if c == "\n" or c.isalnum() or c == " ":
            i += 1
            continue
        block_end: str | None = None
        for start, end in syntax.block_comments:
            if text.startswith(start, i):
                block_end = end
                i += len(start)
                break
        if block_end is not None:
            close = text.find(block_end, i)
            if close < 0:
                return LexState.COMMENT
            i = close + len(block_end)
            continue
        if _line_comment_at(text, i, syntax):
            newline = text.find("\n", i)
            if newline < 0:
                return LexState.COMMENT
            i = newline + 1
            continue
        if c == "'" and syntax.rust_chars:
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
            j = i + 1
            while True:
                if j >= n:
                    return LexState.STRING
                ch = text[j]
                if ch == "\\":
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
