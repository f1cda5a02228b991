"""The gate: whether a completion request is worth a model call, and single- or multi-line.

No request when the cursor is in the middle of a word or of other code, in a string, or in a
comment (unless comments are allowed). Multi-line when the cursor stands on an empty line in
a block, or right after a line that opens one (``:`` / ``{``); single-line otherwise.

Positions are a line number and a column counted in characters (Python string indexes); the
front door converts the editor's position encoding before calling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from quill.completion.lexical import LexState, state_at_end, syntax_for

__all__ = [
    "REASON_BLANK_LINE_AT_TOP_LEVEL",
    "REASON_IN_COMMENT",
    "REASON_IN_STRING",
    "REASON_MID_IDENTIFIER",
    "REASON_MID_LINE",
    "REASON_MULTILINE",
    "REASON_OUT_OF_RANGE",
    "REASON_SINGLE_LINE",
    "GateDecision",
    "decide",
]

REASON_OUT_OF_RANGE = "position out of range"
REASON_MID_IDENTIFIER = "cursor inside an identifier"
REASON_MID_LINE = "code right of the cursor"
REASON_IN_STRING = "cursor inside a string"
REASON_IN_COMMENT = "cursor inside a comment"
REASON_MULTILINE = "empty line in a block"
REASON_SINGLE_LINE = "single line"
REASON_BLANK_LINE_AT_TOP_LEVEL = "empty line at top level"

# What may stand right of the cursor: closing brackets and quotes, then at most one of
# ``: { ; ,`` (the rule editors such as VS Code's Copilot use for "middle of the line").
_RIGHT_OK = re.compile(r"^\s*[)>}\]\"'`]*\s*[:{;,]?\s*$")
_BLOCK_OPENERS = (":", "{")
_LEXICAL_WINDOW_LINES = 200
_NON_CODE_BOUNDARIES = ("interpolation", "template_substitution", "format_expression")
_BLOCK_NODE_WORDS = (
    "block",
    "body",
    "suite",
    "compound_statement",
    "declaration_list",
)


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer for one cursor position."""

    should_complete: bool
    reason: str
    multiline: bool = False


def _is_identifier_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or ch == "$"


def decide(
    text: str,
    line: int,
    column: int,
    *,
    tree: tree_sitter.Tree | None,
    language: str | None,
    in_comments_allowed: bool = False,
) -> GateDecision:
    """Decide whether to complete at (``line``, ``column``) of ``text``.

    ``tree`` is a tree-sitter tree of exactly ``text`` (UTF-8) or ``None``; without one, a
    lexical scan of the lines above the cursor finds strings and comments.
    """
    lines = text.split("\n")
    if line < 0 or line >= len(lines):
        return GateDecision(False, REASON_OUT_OF_RANGE)
    line_text = lines[line].removesuffix("\r")
    column = max(0, min(column, len(line_text)))
    left = line_text[:column]
    right = line_text[column:]

    state = _state_at_cursor(lines, line, left, tree, language)
    if state is LexState.STRING:
        return GateDecision(False, REASON_IN_STRING)
    if state is LexState.COMMENT and not in_comments_allowed:
        return GateDecision(False, REASON_IN_COMMENT)

    if not _RIGHT_OK.match(right):
        if _is_identifier_char(right[0]):
            return GateDecision(False, REASON_MID_IDENTIFIER)
        return GateDecision(False, REASON_MID_LINE)

    if state is LexState.CODE and not right.strip():
        if not left.strip():
            if _after_block_opener(lines, line) or _in_block(lines, line, left, tree):
                return GateDecision(True, REASON_MULTILINE, multiline=True)
            return GateDecision(True, REASON_BLANK_LINE_AT_TOP_LEVEL, multiline=False)
        if left.rstrip().endswith(_BLOCK_OPENERS):
            return GateDecision(True, REASON_MULTILINE, multiline=True)
    return GateDecision(True, REASON_SINGLE_LINE, multiline=False)


def _previous_code_line(lines: list[str], line: int) -> str | None:
    for index in range(line - 1, -1, -1):
        if lines[index].strip():
            return lines[index].rstrip()
    return None


def _after_block_opener(lines: list[str], line: int) -> bool:
    previous = _previous_code_line(lines, line)
    return previous is not None and previous.endswith(_BLOCK_OPENERS)


def _in_block(lines: list[str], line: int, left: str, tree: tree_sitter.Tree | None) -> bool:
    if left:
        # Indentation in front of the cursor: the line belongs to some block.
        return True
    if tree is None:
        return False
    point = (line, 0)
    node: tree_sitter.Node | None = tree.root_node.descendant_for_point_range(point, point)
    while node is not None and node.parent is not None:
        if any(word in node.type for word in _BLOCK_NODE_WORDS) and node.start_point < point:
            return True
        node = node.parent
    return False


def _state_at_cursor(
    lines: list[str],
    line: int,
    left: str,
    tree: tree_sitter.Tree | None,
    language: str | None,
) -> LexState:
    if tree is not None:
        state, broken = _tree_state(tree, line, left)
        if state is not LexState.CODE or not broken:
            return state
    start = max(0, line - _LEXICAL_WINDOW_LINES)
    window = "\n".join([*lines[start:line], left])
    return state_at_end(window, syntax_for(language))


def _kind(node_type: str) -> LexState | None:
    if "comment" in node_type:
        return LexState.COMMENT
    if "string" in node_type or node_type in ("char_literal", "character_literal"):
        return LexState.STRING
    return None


def _enclosing(
    node: tree_sitter.Node | None,
) -> tuple[tree_sitter.Node | None, LexState | None, bool]:
    """The outermost string or comment node around ``node`` and its kind.

    The third value is true when an interpolation (code inside a string) came first.
    """
    found: tree_sitter.Node | None = None
    found_kind: LexState | None = None
    while node is not None:
        if node.type in _NON_CODE_BOUNDARIES:
            return found, found_kind, found is None
        kind = _kind(node.type)
        if kind is not None:
            found, found_kind = node, kind
        elif found is not None:
            break
        node = node.parent
    return found, found_kind, False


def _tree_state(tree: tree_sitter.Tree, line: int, left: str) -> tuple[LexState, bool]:
    """The tree's view of the cursor, and whether the tree is broken around it."""
    column = len(left.encode("utf-8"))
    point = (line, column)
    root = tree.root_node
    at = root.descendant_for_point_range(point, point)
    candidates = [at]
    if left:
        before_column = len(left[:-1].encode("utf-8"))
        candidates.append(root.descendant_for_point_range((line, before_column), point))
    broken = False
    for candidate in candidates:
        node, kind, interpolated = _enclosing(candidate)
        if interpolated:
            return LexState.CODE, False
        if node is not None and kind is not None:
            start, end = node.start_point, node.end_point
            if start < point < end:
                return kind, False
            if start < point and end == point:
                # The cursor right after the node: still inside a line comment, outside a
                # closed string or block comment.
                node_text = (node.text or b"").decode("utf-8", "replace")
                if kind is LexState.COMMENT and not node_text.endswith(("*/", "-->", "]]")):
                    return kind, False
        scan: tree_sitter.Node | None = candidate
        for _ in range(4):
            if scan is None:
                break
            if scan.is_error or scan.is_missing or scan.has_error:
                broken = True
                break
            scan = scan.parent
    return LexState.CODE, broken
