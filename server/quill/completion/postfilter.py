"""Post-filters: turn a model's raw continuation into text worth showing at the cursor.

Each rule is a small function of plain strings, tested on its own; :func:`postprocess` runs
them in a fixed order. ``prefix`` is the document text before the cursor and ``suffix`` the
text after it; the completion's first line continues the cursor line and its later lines are
whole lines with their own (absolute) indentation.
"""

from __future__ import annotations

import logging

from quill.completion.lexical import CLOSERS, OPENERS, bracket_positions, syntax_for

__all__ = [
    "balance_brackets",
    "cut_at_dedent",
    "cut_at_suffix_overlap",
    "drop_repeated_lines",
    "first_line_only",
    "fix_relative_indentation",
    "normalize_indent_chars",
    "normalize_newlines",
    "postprocess",
]

logger = logging.getLogger(__name__)

_SCAN_WINDOW = 8000
"""How much of the prefix / suffix the bracket balancing looks at."""
_REPEAT_WINDOW = 3
"""How many non-blank lines above the cursor a completion may not repeat."""
_BLOCK_OPENERS = (":", "{", "(", "[")


def postprocess(
    completion: str,
    *,
    prefix: str,
    suffix: str,
    multiline: bool,
    indent_unit: str | None = None,
    language: str | None = None,
) -> str:
    """Apply every post-filter to ``completion``; ``""`` means there is nothing to show."""
    text = normalize_newlines(completion)
    if not text.strip():
        return ""
    if not multiline:
        text = first_line_only(text)
    text = normalize_indent_chars(text, prefix, indent_unit)
    text = fix_relative_indentation(text, prefix)
    text = cut_at_suffix_overlap(text, prefix, suffix, language=language)
    text = drop_repeated_lines(text, prefix)
    if multiline:
        text = cut_at_dedent(text, prefix)
    text = balance_brackets(text, prefix, suffix, language=language)
    text = text.rstrip()
    if not text.strip():
        return ""
    return text


# --- helpers --------------------------------------------------------------------------------


def _cursor_line(prefix: str) -> str:
    return prefix.rsplit("\n", 1)[-1]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _base_indent(prefix: str, first_line: str) -> str:
    """The indentation of the cursor line once the completion's first line is in it."""
    cursor_line = _cursor_line(prefix)
    if cursor_line.strip():
        return _indent(cursor_line)
    return cursor_line + _indent(first_line)


def _substantial(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 4 and any(ch.isalnum() for ch in stripped)


# --- rules ----------------------------------------------------------------------------------


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def first_line_only(text: str) -> str:
    """Single-line mode: everything up to the first line break."""
    return text.split("\n", 1)[0]


def normalize_indent_chars(text: str, prefix: str, indent_unit: str | None) -> str:
    """Re-express leading tabs / spaces in the document's ``indent_unit``.

    With spaces as the unit, each leading tab becomes one unit. With a tab as the unit, each
    group of leading spaces of the model's own width (2 or 4) becomes one tab. The first line
    is only touched when the cursor stands in the cursor line's indentation.
    """
    if not indent_unit:
        return text
    lines = text.split("\n")
    first_is_indent = not _cursor_line(prefix).strip()
    widths = [len(_indent(line)) for line in lines if _indent(line).strip(" ") == ""]
    model_width = 2 if any(width % 4 == 2 for width in widths) else 4
    for index, line in enumerate(lines):
        if index == 0 and not first_is_indent:
            continue
        lead = _indent(line)
        if not lead:
            continue
        if indent_unit == "\t":
            spaces = lead.count(" ")
            new_lead = "\t" * lead.count("\t") + "\t" * (spaces // model_width)
            new_lead += " " * (spaces % model_width)
        elif indent_unit.strip(" ") == "":
            new_lead = lead.replace("\t", indent_unit)
        else:
            continue
        lines[index] = new_lead + line[len(lead) :]
    return "\n".join(lines)


def fix_relative_indentation(text: str, prefix: str) -> str:
    """Indent later lines written relative to column 0 by the cursor line's indentation.

    Chat models in particular answer with a block at column 0 while the cursor is indented.
    The later lines are treated as relative when all of them are left of the cursor line's
    indentation with the least indented at column 0, or when the first line opens a block and
    the next line is not deeper than the cursor line (a block body must be deeper).
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    base = _base_indent(prefix, lines[0])
    if not base:
        return text
    later = [line for line in lines[1:] if line.strip()]
    if not later:
        return text
    indents = [len(_indent(line)) for line in later]
    opens_block = (_cursor_line(prefix) + lines[0]).rstrip().endswith(_BLOCK_OPENERS)
    relative = (min(indents) == 0 and all(width < len(base) for width in indents)) or (
        opens_block and indents[0] <= len(base)
    )
    if not relative:
        return text
    shifted = [lines[0]] + [base + line if line.strip() else line for line in lines[1:]]
    return "\n".join(shifted)


def _opens_unclosed(text: str, language: str | None) -> bool:
    """Whether ``text`` leaves a bracket of its own open."""
    own: list[str] = []
    for _, ch in bracket_positions(text, syntax_for(language)):
        if ch in OPENERS:
            own.append(ch)
        elif own and own[-1] == CLOSERS[ch]:
            own.pop()
    return bool(own)


def cut_at_suffix_overlap(
    text: str, prefix: str, suffix: str, *, language: str | None = None
) -> str:
    """Stop where the model starts re-typing what is already right of or below the cursor.

    Same line: a first line that ends with the rest of the cursor line loses that ending (and
    whatever follows), unless the ending's closers belong to brackets the completion opened
    itself (``bar(2)`` before a suffix ``)``). Lines below: the completion stops at the first
    line that equals the next non-blank line of the suffix (indentation included).
    """
    if not suffix:
        return text
    lines = text.split("\n")
    suffix_lines = suffix.split("\n")
    rest_of_line = suffix_lines[0].strip()
    if rest_of_line:
        first = lines[0].rstrip()
        if first.endswith(rest_of_line):
            kept = first[: len(first) - len(rest_of_line)]
            closes = any(ch in CLOSERS for ch in rest_of_line)
            if not (closes and _opens_unclosed(kept, language)):
                return kept.rstrip()
    target = next((line.rstrip() for line in suffix_lines[1:] if line.strip()), None)
    if target is None:
        return text
    for index, line in enumerate(lines):
        if index == 0:
            if rest_of_line:
                continue
            full = _cursor_line(prefix) + line
        else:
            full = line
        if full.rstrip() == target:
            return "\n".join(lines[:index])
    return text


def drop_repeated_lines(text: str, prefix: str) -> str:
    """Drop lines that repeat the line before them or one of the lines just above the cursor.

    Only substantial lines (four or more characters, something alphanumeric) count, so
    closing brackets, ``end`` and blank lines are never dropped. A dropped first line leaves
    an empty first line, because the first line continues the cursor line.
    """
    lines = text.split("\n")
    cursor_line = _cursor_line(prefix)
    above_lines = prefix.split("\n")[:-1]
    above = [line.rstrip() for line in above_lines if line.strip()][-_REPEAT_WINDOW:]
    kept: list[str] = []
    previous = above[-1] if above else ""
    for index, line in enumerate(lines):
        full = (cursor_line + line) if index == 0 else line
        key = full.rstrip()
        repeated = _substantial(key) and (key.strip() == previous.strip() or key in above)
        if repeated:
            if index == 0:
                kept.append("")
            continue
        kept.append(line)
        if key.strip():
            previous = key
    return "\n".join(kept)


def cut_at_dedent(text: str, prefix: str) -> str:
    """Multi-line mode: stop when the completion leaves the block it started in.

    When the cursor line holds code and opens a block (ends with ``:``, ``{``, ``(`` or
    ``[``), the block ends at the first later line that is not deeper than the cursor line;
    otherwise at the first later line left of the cursor line's indentation. A closing-bracket
    line at the end of the block is kept (it closes the block); the balancing rule drops it
    again when the suffix already has it.
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    base = len(_base_indent(prefix, lines[0]))
    cursor_line = _cursor_line(prefix)
    # Only a header the user wrote counts: a block the completion opens itself may be
    # followed by more lines at its own level.
    opens_block = bool(cursor_line.strip()) and (cursor_line + lines[0]).rstrip().endswith(
        _BLOCK_OPENERS
    )
    for index in range(1, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        width = len(_indent(line))
        if width < base or (opens_block and width <= base):
            if line.strip()[0] in CLOSERS:
                return "\n".join(lines[: index + 1])
            return "\n".join(lines[:index])
    return text


def _open_brackets(prefix: str, syntax_language: str | None) -> list[str]:
    window = prefix[-_SCAN_WINDOW:]
    if len(prefix) > _SCAN_WINDOW and "\n" in window:
        window = window[window.index("\n") + 1 :]
    stack: list[str] = []
    for _, ch in bracket_positions(window, syntax_for(syntax_language)):
        if ch in OPENERS:
            stack.append(ch)
            continue
        opener = CLOSERS[ch]
        if opener in stack:
            while stack and stack.pop() != opener:
                pass
    return stack


def _suffix_limit(stack: list[str], suffix: str, language: str | None) -> int:
    """Index of the highest prefix opener that the suffix closes (-1: none)."""
    own: list[str] = []
    for _, ch in bracket_positions(suffix[:_SCAN_WINDOW], syntax_for(language)):
        if ch in OPENERS:
            own.append(ch)
        elif own:
            if own[-1] == CLOSERS[ch]:
                own.pop()
        else:
            opener = CLOSERS[ch]
            for index in range(len(stack) - 1, -1, -1):
                if stack[index] == opener:
                    return index
            return -1
    return -1


def balance_brackets(text: str, prefix: str, suffix: str, *, language: str | None = None) -> str:
    """Cut the completion at the first closing bracket that would unbalance the document.

    A closer may close a bracket the completion opened, or one the prefix left open, provided
    the suffix does not close that one already (the model re-typing the ``)`` that is right
    of the cursor). A closer that matches nothing is cut too.
    """
    stack = _open_brackets(prefix, language)
    limit = _suffix_limit(stack, suffix, language)
    own: list[str] = []
    pointer = len(stack) - 1
    for position, ch in bracket_positions(text, syntax_for(language)):
        if ch in OPENERS:
            own.append(ch)
            continue
        opener = CLOSERS[ch]
        if own:
            if own[-1] == opener:
                own.pop()
                continue
        elif pointer > limit and stack[pointer] == opener:
            pointer -= 1
            continue
        logger.debug("completion cut at unbalanced %r (offset %d)", ch, position)
        return text[:position].rstrip()
    return text
