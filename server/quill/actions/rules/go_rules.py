"""Go rules; the captures come from ``grammars/go/rules.scm``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tree_sitter

from quill.actions.rules.report import Report, next_statements

__all__ = ["CHECKS"]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

#: expressions whose self-assignment certainly does nothing
_PLAIN = frozenset(
    {"identifier", "selector_expression", "index_expression", "field_identifier", "int_literal"}
)


def unreachable(report: Report, caps: Captures) -> None:
    """Statements after ``return``, ``panic(...)``, ``break``, ``continue`` or ``goto`` in the
    same block or ``case``, up to the next label (a ``goto`` may jump there)."""
    if not report.wants("unreachable-code"):
        return
    for exit_ in caps.get("exit", ()):
        dead: list[Node] = []
        for statement in next_statements(exit_, ("comment", "empty_statement")):
            if statement.type in ("labeled_statement", "ERROR"):
                break
            dead.append(statement)
        if not dead:
            continue
        what = "panic(...)" if exit_.type == "expression_statement" else exit_.type.split("_")[0]
        report.add(
            "unreachable-code",
            f"Unreachable code: it follows a `{what}` in the same block",
            dead[0].start_point,
            dead[-1].end_point,
        )


def self_assignments(report: Report, caps: Captures) -> None:
    """``x = x`` and ``a.b, c = a.b, d`` (position by position); ``x := x`` declares a new
    variable (the usual copy for a closure) and is not matched."""
    if not report.wants("self-assignment"):
        return
    for assignment in caps.get("assignment", ()):
        left, right = (
            assignment.child_by_field_name("left"),
            assignment.child_by_field_name("right"),
        )
        if left is None or right is None:
            continue
        targets = [c for c in left.named_children if c.type != "comment"]
        values = [c for c in right.named_children if c.type != "comment"]
        if len(targets) != len(values):
            continue
        same = [
            t
            for t, v in zip(targets, values, strict=True)
            if _plain(t)
            and "".join(report.text(t).split()) == "".join(report.text(v).split())
            and report.text(t) != "_"
        ]
        for target in same:
            whole = len(same) == len(targets) and report.alone_on_lines(assignment)
            statement = report.text(assignment)
            report.add_node(
                "self-assignment",
                f"`{report.text(target)}` is assigned to itself: this does nothing",
                target if len(targets) > 1 else assignment,
                f"Remove `{statement}`" if whole else None,
                (report.delete_lines(assignment),) if whole else (),
            )


def _plain(node: Node) -> bool:
    if node.type not in _PLAIN:
        return False
    return all(_plain(c) for c in node.named_children)


CHECKS = (unreachable, self_assignments)
