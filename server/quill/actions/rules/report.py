"""What a language's rules work with: the source, its tree, the enabled rules, and a list
the findings go into, still in tree-sitter points (row, byte column).

The engine (:mod:`quill.actions.rules.engine`) converts the points to string columns,
applies ``quill: ignore`` comments and sorts."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import tree_sitter

__all__ = ["Point", "RawEdit", "RawFinding", "Report", "next_statements", "remove_entry"]

#: a tree-sitter point: 0-based row and byte column
Point = tuple[int, int]


@dataclass(frozen=True, slots=True)
class RawEdit:
    start: Point
    end: Point
    new_text: str


@dataclass(frozen=True, slots=True)
class RawFinding:
    rule: str
    message: str
    start: Point
    end: Point
    fix_title: str | None = None
    edits: tuple[RawEdit, ...] = ()


@dataclass(slots=True)
class Report:
    """The collector one ``check`` call hands to a language's rules."""

    source: bytes
    root: tree_sitter.Node
    enabled: Collection[str]
    findings: list[RawFinding] = field(default_factory=list)
    memo: dict[str, object] = field(default_factory=dict)
    """Results one rule computes and another reuses within this check (by key)."""

    def wants(self, rule: str) -> bool:
        return rule in self.enabled

    def add(
        self,
        rule: str,
        message: str,
        start: Point,
        end: Point,
        fix_title: str | None = None,
        edits: tuple[RawEdit, ...] = (),
    ) -> None:
        self.findings.append(RawFinding(rule, message, start, end, fix_title, edits))

    def add_node(
        self,
        rule: str,
        message: str,
        node: tree_sitter.Node,
        fix_title: str | None = None,
        edits: tuple[RawEdit, ...] = (),
    ) -> None:
        self.add(rule, message, node.start_point, node.end_point, fix_title, edits)

    def text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    def line_indent(self, row_start_byte: int) -> str:
        """The leading whitespace of the line holding byte ``row_start_byte``."""
        start = self.source.rfind(b"\n", 0, row_start_byte) + 1
        end = start
        while end < len(self.source) and self.source[end] in b" \t":
            end += 1
        return self.source[start:end].decode("ascii")

    def alone_on_lines(self, node: tree_sitter.Node) -> bool:
        """Nothing but whitespace (and a trailing comment, removed with it) shares ``node``'s
        lines."""
        before = self.source[self.source.rfind(b"\n", 0, node.start_byte) + 1 : node.start_byte]
        line_end = self.source.find(b"\n", node.end_byte)
        after = self.source[node.end_byte : len(self.source) if line_end < 0 else line_end]
        rest = after.strip()
        return not before.strip() and (not rest or rest.startswith((b"#", b"//")))

    def delete_lines(self, node: tree_sitter.Node) -> RawEdit:
        """An edit removing the whole lines ``node`` spans (call when ``alone_on_lines``)."""
        (row, _), (end_row, _) = node.start_point, node.end_point
        if self.source.find(b"\n", node.end_byte) >= 0:
            return RawEdit((row, 0), (end_row + 1, 0), "")
        if row == 0:
            return RawEdit((0, 0), node.end_point, "")
        previous_line = self.source.rfind(b"\n", 0, node.start_byte)
        prev_start = self.source.rfind(b"\n", 0, previous_line) + 1
        return RawEdit((row - 1, previous_line - prev_start), node.end_point, "")


def next_statements(
    node: tree_sitter.Node, skip: Collection[str] = ("comment",)
) -> Iterator[tree_sitter.Node]:
    """The named siblings after ``node``, without those whose type is in ``skip``."""
    sibling = node.next_named_sibling
    while sibling is not None:
        if sibling.type not in skip:
            yield sibling
        sibling = sibling.next_named_sibling


def remove_entry(report: Report, entry: tree_sitter.Node) -> RawEdit | None:
    """An edit removing ``entry`` of a comma-separated literal with the comma before it."""
    sibling = entry.prev_sibling
    while sibling is not None and sibling.type != ",":
        if sibling.is_named and sibling.type != "comment":
            return None
        sibling = sibling.prev_sibling
    if sibling is None:
        return None
    return RawEdit(sibling.start_point, entry.end_point, "")
