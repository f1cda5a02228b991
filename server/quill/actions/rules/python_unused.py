"""``unused-variable``: a name a function binds and never reads, with its fix (drop the
assignment, keeping a value that may have effects; drop ``as x``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tree_sitter

from quill.actions.rules.python_scopes import Binding, bindings, dummy, reads
from quill.actions.rules.report import RawEdit, Report

__all__ = ["unused_variables"]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

#: values whose evaluation has no effect, so their unused assignment can go entirely
_PURE = frozenset(
    {"identifier", "string", "integer", "float", "true", "false", "none", "concatenated_string"}
)
_UNUSED_KINDS = frozenset({"assign", "with", "except", "walrus"})


# --------------------------------------------------------------------------- unused


def _enclosing_function(node: Node, known: dict[int, Node | None]) -> Node | None:
    """The function whose local ``node`` is (``None`` at module or class level, or in a
    lambda). ``known`` remembers the answer for every node passed on the way up: a
    tree-sitter ``parent`` costs a walk down from the root, so a chain ``a = b = ... = 1``
    would otherwise cost its length squared."""
    passed: list[int] = []
    parent = node.parent
    found: Node | None = None
    while parent is not None:
        if parent.id in known:
            found = known[parent.id]
            break
        if parent.type == "function_definition":
            found = parent
            break
        if parent.type in ("class_definition", "lambda", "module"):
            break
        passed.append(parent.id)
        parent = parent.parent
    for node_id in passed:
        known[node_id] = found
    return found


def unused_variables(report: Report, caps: Captures) -> None:
    """A name a function binds (``x = ...``, ``with ... as x``, ``except ... as x``,
    ``(x := ...)``) and never reads; reported once, at its last binding. Skipped: ``_`` names,
    unpacking targets, names read anywhere in the function (nested functions included;
    ``global`` / ``nonlocal`` and augmented assignments read the name), ``x = None`` after an
    earlier binding (dropping a reference) and functions that call ``locals()``."""
    if not report.wants("unused-variable"):
        return
    found = bindings(report, caps)
    stores = {b.node.start_byte for b in found if b.kind != "augmented"}
    functions: dict[int, tuple[Node, dict[str, list[Binding]]]] = {}
    known: dict[int, Node | None] = {}
    for binding in found:
        if binding.kind not in _UNUSED_KINDS or dummy(binding.name):
            continue
        function = _enclosing_function(binding.node, known)
        if function is not None:
            names = functions.setdefault(function.id, (function, {}))[1]
            names.setdefault(binding.name, []).append(binding)
    if not functions:
        return
    locals_users = {
        f.id for call in caps.get("locals-call", ()) if (f := _enclosing_function(call, known))
    }
    for function, names in functions.values():
        if function.has_error or function.id in locals_users:
            continue
        start, end = function.start_byte, function.end_byte
        for name, named in names.items():
            # `except E as e` unbinds `e` when the clause ends: only its own body can read it
            handlers = [b for b in named if b.kind == "except"]
            others = [b for b in named if b.kind != "except"]
            for handler in handlers:
                clause = handler.owner.parent
                body = clause.named_children[-1] if clause is not None else None
                if body is not None and not reads(
                    report, name, body.start_byte, body.end_byte, stores, function
                ):
                    _report_unused(report, handler, [handler])
            if (
                others
                and not reads(report, name, start, end, stores, function)
                and not _drops_a_reference(others[-1], found, start)
            ):
                _report_unused(report, others[-1], others)


def _drops_a_reference(last: Binding, found: list[Binding], start: int) -> bool:
    """``x = None`` after an earlier binding of ``x``: the idiom that frees the object."""
    right = last.owner.child_by_field_name("right") if last.kind == "assign" else None
    if right is None or right.type != "none":
        return False
    end = last.node.start_byte
    return any(b.name == last.name and start <= b.node.start_byte < end for b in found)


def _report_unused(report: Report, last: Binding, named: list[Binding]) -> None:
    title, edits = _unused_fix(report, last)
    also = ""
    if len(named) > 1:
        also = f" (also assigned on line {named[0].node.start_point[0] + 1})"
    report.add_node(
        "unused-variable",
        f"Local variable `{last.name}` is assigned but never used{also}",
        last.node,
        title,
        edits,
    )


def _unused_fix(report: Report, binding: Binding) -> tuple[str | None, tuple[RawEdit, ...]]:
    owner = binding.owner
    if binding.kind == "walrus":
        value = owner.child_by_field_name("value")
        if value is None:
            return None, ()
        return (
            f"Remove the assignment to `{binding.name}`, keep the value",
            (RawEdit(owner.start_point, value.start_point, ""),),
        )
    if binding.kind in ("with", "except"):
        value = owner.named_children[0] if owner.named_child_count else None
        if owner.type != "as_pattern" or value is None:
            return None, ()
        return f"Remove `as {binding.name}`", (RawEdit(value.end_point, owner.end_point, ""),)
    right = owner.child_by_field_name("right")
    if right is None:
        return None, ()
    statement = owner.parent
    if (
        right.type in _PURE
        and statement is not None
        and statement.type == "expression_statement"
        and statement.named_child_count == 1
        and report.alone_on_lines(statement)
        and _has_other_statements(statement)
    ):
        return f"Remove the assignment to `{binding.name}`", (report.delete_lines(statement),)
    return (
        f"Remove the assignment to `{binding.name}`, keep the value",
        (RawEdit(owner.start_point, right.start_point, ""),),
    )


def _has_other_statements(statement: Node) -> bool:
    block = statement.parent
    if block is None:
        return False
    return sum(1 for c in block.named_children if c.type != "comment") > 1
