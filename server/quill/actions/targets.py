"""What an action works on: the selection, or the function / method / class around the cursor.

Found with tree-sitter; lines are 0-based and columns are Python string indexes. A target always
covers whole lines, so a rewrite can replace it without touching the code around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import tree_sitter

from quill.index.languages import definition_kinds, get_parser

__all__ = ["Target", "find_target", "syntax_errors"]


@dataclass(frozen=True)
class Target:
    """The code an action is about: whole lines ``start_line`` to ``end_line`` (inclusive)."""

    kind: str  # "selection", "function", "method", "class", ...
    name: str
    start_line: int
    end_line: int
    text: str  # the target's lines, joined with "\n", with a final "\n"

    @property
    def title(self) -> str:
        """How menus name the target: ``function area``, ``the selection``."""
        if self.kind == "selection" or not self.name:
            return "the selection"
        return f"{self.kind} {self.name}"


def _parse(text: str, language: str | None) -> tree_sitter.Tree | None:
    parser = get_parser(language) if language else None
    if parser is None:
        return None
    try:
        return parser.parse(text.encode("utf-8"))
    except Exception:  # a grammar failure only costs the target
        return None


def _byte_column(line_text: str, column: int) -> int:
    return len(line_text[:column].encode("utf-8"))


def _name_of(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    if name is None and node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        if inner is not None:
            name = inner.child_by_field_name("name")
    if name is None and node.type == "type_declaration":
        for child in node.named_children:
            spec = child.child_by_field_name("name")
            if spec is not None:
                name = spec
                break
    return name.text.decode("utf-8", "replace") if name is not None and name.text else ""


def _kind_of(node: tree_sitter.Node, table: Mapping[str, str]) -> str:
    kind = table.get(node.type, "")
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        kind = table.get(inner.type, "function") if inner is not None else "function"
    if kind == "function" and node.parent is not None:
        # A Python function inside a class body is a method.
        ancestor: tree_sitter.Node | None = node.parent
        while ancestor is not None and ancestor.type in ("block", "decorated_definition"):
            ancestor = ancestor.parent
        if ancestor is not None and ancestor.type == "class_definition":
            kind = "method"
    return kind


def find_target(
    text: str,
    language: str | None,
    start: tuple[int, int],
    end: tuple[int, int] | None = None,
) -> Target | None:
    """The target for a cursor (``end`` None or equal to ``start``) or a selection.

    A selection is the target itself, widened to whole lines. At a cursor, the innermost
    definition around it is; ``None`` when there is none (or the language has no grammar) and
    nothing is selected. A range inside one line that does not cover that line's code (eglot
    sends the word under the cursor) counts as a cursor when a definition is around it.
    """
    lines = text.split("\n")
    if not lines or not 0 <= start[0] < len(lines):
        return None
    if end is not None and end != start and start[0] == end[0]:
        line = lines[start[0]]
        lo, hi = sorted((start[1], end[1]))
        code_lo = len(line) - len(line.lstrip())
        if lo > code_lo or hi < len(line.rstrip()):
            around = find_target(text, language, (start[0], lo))
            if around is not None:
                return around
    if end is not None and end != start:
        first, last = sorted((start, end))
        last_line = min(last[0], len(lines) - 1)
        if last[1] == 0 and last_line > first[0]:
            last_line -= 1  # a selection ending at a line start does not take that line
        return _whole_lines("selection", "", lines, first[0], last_line)
    tree = _parse(text, language)
    table = definition_kinds(language)
    if tree is None or not table:
        return None
    line_text = lines[start[0]]
    point = (start[0], _byte_column(line_text, start[1]))
    node: tree_sitter.Node | None = tree.root_node.descendant_for_point_range(point, point)
    if node is not None and node.type in ("module", "program", "source_file", "translation_unit"):
        # At the start of a line, the definition that begins there.
        stripped = len(line_text) - len(line_text.lstrip())
        point = (start[0], _byte_column(line_text, stripped))
        node = tree.root_node.descendant_for_point_range(point, point)
    while node is not None and node.type not in table:
        node = node.parent
    if node is None:
        return None
    if node.parent is not None and node.parent.type == "decorated_definition":
        node = node.parent
    return _whole_lines(
        _kind_of(node, table), _name_of(node), lines, node.start_point[0], node.end_point[0]
    )


def _whole_lines(kind: str, name: str, lines: list[str], first: int, last: int) -> Target:
    body = "\n".join(line.rstrip("\r") for line in lines[first : last + 1]) + "\n"
    return Target(kind, name, first, last, body)


def syntax_errors(text: str, language: str | None) -> int | None:
    """How many syntax errors tree-sitter finds in ``text`` (``None`` without a grammar)."""
    tree = _parse(text, language)
    if tree is None:
        return None
    count = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
            continue
        if node.has_error:
            stack.extend(node.children)
    return count
