"""JavaScript, TypeScript and TSX rules; the captures come from
``grammars/javascript/rules.scm`` (one query for the three grammars)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tree_sitter

from quill.actions.rules.report import RawEdit, Report, next_statements, remove_entry

__all__ = ["CHECKS"]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

#: statements that may follow a `return` without being dead: hoisted function declarations,
#: type-only declarations, and empty statements
_HOISTED = frozenset(
    {
        "comment",
        "empty_statement",
        "function_declaration",
        "generator_function_declaration",
        "function_signature",
        "interface_declaration",
        "type_alias_declaration",
        "ambient_declaration",
    }
)


def loose_equality(report: Report, caps: Captures) -> None:
    """``a == b`` / ``a != b``; not ``x == null`` (null or undefined) nor
    ``typeof x == "string"`` (both sides are strings: nothing is converted)."""
    if not report.wants("loose-equality"):
        return
    for operator in caps.get("loose-operator", ()):
        binary = operator.parent
        if binary is None:
            continue
        left, right = binary.child_by_field_name("left"), binary.child_by_field_name("right")
        if left is None or right is None or "null" in (left.type, right.type):
            continue
        if _typeof_test(report, left, right) or _typeof_test(report, right, left):
            continue
        op = operator.type
        strict = op + "="
        report.add_node(
            "loose-equality",
            f"`{op}` converts its operands before comparing: use `{strict}`",
            binary,
            f"Replace `{op}` with `{strict}`",
            (RawEdit(operator.start_point, operator.end_point, strict),),
        )


def _typeof_test(report: Report, one: Node, other: Node) -> bool:
    return (
        one.type == "unary_expression"
        and report.text(one).startswith("typeof")
        and other.type in ("string", "template_string")
    )


def unreachable(report: Report, caps: Captures) -> None:
    """Statements after ``return`` / ``throw`` / ``break`` / ``continue`` in the same block or
    ``case``; hoisted function declarations, type declarations and ``var`` declarations
    without a value are not dead code."""
    if not report.wants("unreachable-code"):
        return
    for exit_ in caps.get("exit", ()):
        dead = [s for s in next_statements(exit_, _HOISTED) if not _bare_var(s)]
        if not dead or any(s.type == "ERROR" for s in dead):
            continue
        keyword = exit_.child(0)
        report.add(
            "unreachable-code",
            f"Unreachable code: it follows a `{keyword.type if keyword else 'return'}` in the "
            "same block",
            dead[0].start_point,
            dead[-1].end_point,
        )


def _bare_var(statement: Node) -> bool:
    """``var x;``: hoisted, and with no value nothing is lost."""
    if statement.type != "variable_declaration":
        return False
    return all(
        d.child_by_field_name("value") is None
        for d in statement.named_children
        if d.type == "variable_declarator"
    )


def duplicate_keys(report: Report, caps: Captures) -> None:
    """A property named twice in one object literal (``a``, ``"a"`` and ``'a'`` are one, as
    are ``1``, ``1.0`` and ``"1"``); a getter and a setter of one name are a pair."""
    if not report.wants("duplicate-key"):
        return
    for obj in caps.get("object", ()):
        seen: dict[tuple[str, str], tuple[Node, set[str]]] = {}
        for entry in obj.named_children:
            found = _key(report, entry)
            if found is None:
                continue
            key, kind, value_text = found
            previous = seen.get((kind, key))
            if previous is None:
                seen[(kind, key)] = (entry, {value_text})
                continue
            first, values = previous
            edit = remove_entry(report, entry) if value_text in values else None
            values.add(value_text)
            name = entry.child_by_field_name("key") or entry.child_by_field_name("name") or entry
            report.add_node(
                "duplicate-key",
                f"Key {report.text(name)} repeated in this object (first on line "
                f"{first.start_point[0] + 1}): the earlier value is replaced",
                name,
                "Remove the repeated entry" if edit else None,
                (edit,) if edit else (),
            )


def _key(report: Report, entry: Node) -> tuple[str, str, str] | None:
    """(normalized key, kind, value text) of an object entry; ``None`` for a computed key, a
    spread or anything unusual. ``kind`` is "get" / "set" for accessors, else "value"."""
    if entry.type == "shorthand_property_identifier":
        text = report.text(entry)
        return text, "value", text
    if entry.type == "pair":
        key, value = entry.child_by_field_name("key"), entry.child_by_field_name("value")
        kind = "value"
    elif entry.type == "method_definition":
        key, value = entry.child_by_field_name("name"), entry.child_by_field_name("body")
        first = entry.child(0)
        kind = first.type if first is not None and first.type in ("get", "set") else "value"
    else:
        return None
    if key is None or value is None:
        return None
    normalized = _normalize(report, key)
    if normalized is None or normalized == "__proto__":
        return None
    return normalized, kind, report.text(value)


def _normalize(report: Report, key: Node) -> str | None:
    if key.type == "property_identifier":
        return report.text(key)
    if key.type == "string":
        parts = key.named_children
        if any(p.type != "string_fragment" for p in parts):
            return None  # escapes: compare only plain strings
        return "".join(report.text(p) for p in parts)
    if key.type == "number":
        text = report.text(key).replace("_", "")
        try:
            value = float(int(text, 0)) if text[:2].lower() in ("0x", "0o", "0b") else float(text)
        except ValueError:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return None


def condition_assignments(report: Report, caps: Captures) -> None:
    """``if (a = b)``, ``while (a = b)``, ``do ... while (a = b)``, unless the assignment is
    wrapped in a second pair of parentheses (the usual way to say it is meant)."""
    if not report.wants("assignment-in-condition"):
        return
    for assignment in caps.get("condition-assignment", ()):
        report.add_node(
            "assignment-in-condition",
            "Assignment in a condition: did you mean `===`? Wrap it in extra parentheses if "
            "the assignment is meant",
            assignment,
        )


CHECKS = (loose_equality, unreachable, duplicate_keys, condition_assignments)
