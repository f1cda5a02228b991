"""Python rules on single statements and expressions; the captures come from
``grammars/python/rules.scm``. Mutable defaults live in
:mod:`quill.actions.rules.python_defaults`, rules about names and scopes in
:mod:`quill.actions.rules.python_scopes` and :mod:`quill.actions.rules.python_unused`;
:data:`CHECKS` lists them all."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import tree_sitter

from quill.actions.rules import python_defaults, python_scopes, python_unused
from quill.actions.rules.report import RawEdit, Report, next_statements, remove_entry

__all__ = ["CHECKS"]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

_SINGLETONS = frozenset({"none", "true", "false"})
_NUMBERS = frozenset({"integer", "float"})
_DISPLAYS = MappingProxyType({"tuple": "tuple", "list": "list", "dictionary": "dict", "set": "set"})


def _block_of(clause: Node) -> Node | None:
    for child in reversed(clause.named_children):
        if child.type == "block":
            return child
    return None


def excepts(report: Report, caps: Captures) -> None:
    """``except:`` (unless it re-raises) and ``except Exception: pass``."""
    if report.wants("bare-except"):
        for clause in caps.get("bare-except", ()):
            body = _block_of(clause)
            keyword = clause.child(0)
            if body is None or keyword is None or keyword.type != "except":
                continue
            if any(s.type == "raise_statement" and s.named_child_count == 0 for s in body.children):
                continue  # cleanup, then a bare `raise`: nothing is swallowed
            report.add_node(
                "bare-except",
                "Bare `except:` also catches KeyboardInterrupt and SystemExit; catch "
                "`Exception` or something narrower",
                keyword,
                "Catch `Exception`",
                (RawEdit(keyword.end_point, keyword.end_point, " Exception"),),
            )
    if report.wants("broad-except-pass"):
        for clause in caps.get("broad-except", ()):
            body = _block_of(clause)
            value = clause.child_by_field_name("value")
            if body is None or value is None:
                continue
            statements = [s for s in body.named_children if s.type != "comment"]
            if len(statements) != 1 or statements[0].type != "pass_statement":
                continue
            caught = value if value.type == "identifier" else value.named_children[0]
            report.add(
                "broad-except-pass",
                f"`except {report.text(caught)}: pass` silently swallows every error; handle "
                "or log it, or catch a narrower exception",
                clause.start_point,
                caught.end_point,
            )


def comparisons(report: Report, caps: Captures) -> None:
    """``x == None`` / ``x != True`` and ``x is 1`` / ``x is not "a"``."""
    singletons, literals = report.wants("singleton-comparison"), report.wants("is-literal")
    seen: set[int] = set()
    for node in caps.get("comparison", ()):
        if node.id in seen:
            continue
        seen.add(node.id)
        parts = [c for c in node.children if c.type != "comment"]
        if len(parts) % 2 == 0 or any(p.is_named for p in parts[1::2]):
            continue
        for i, operator in enumerate(parts[1::2]):
            left, right = parts[2 * i], parts[2 * i + 2]
            op = operator.type
            if op in ("==", "!=") and singletons:
                lit = right if right.type in _SINGLETONS else left
                if lit.type not in _SINGLETONS:
                    continue
                new = "is" if op == "==" else "is not"
                value = report.text(lit)
                hint = "" if lit.type == "none" else " (or test the value itself)"
                report.add(
                    "singleton-comparison",
                    f"Comparison to `{value}` with `{op}`: use `{new} {value}`{hint}",
                    left.start_point,
                    right.end_point,
                    f"Replace `{op}` with `{new}`",
                    (RawEdit(operator.start_point, operator.end_point, new),),
                )
            elif op in ("is", "is not") and literals:
                kind = _literal_kind(report, right) or _literal_kind(report, left)
                if kind is None:
                    continue
                new = "==" if op == "is" else "!="
                report.add(
                    "is-literal",
                    f"`{op}` with a {kind} literal compares identity, not value: use `{new}`",
                    left.start_point,
                    right.end_point,
                    f"Replace `{op}` with `{new}`",
                    (RawEdit(operator.start_point, operator.end_point, new),),
                )


def _literal_kind(report: Report, node: Node) -> str | None:
    """ "number", "str", "bytes", or the display's type (a new object: never identical)."""
    if node.type in _NUMBERS:
        return "number"
    if node.type in _DISPLAYS:
        return _DISPLAYS[node.type]
    if node.type == "unary_operator":
        operand = node.child_by_field_name("argument")
        return "number" if operand is not None and operand.type in _NUMBERS else None
    strings = node.named_children if node.type == "concatenated_string" else [node]
    if node.type not in ("string", "concatenated_string") or any(map(_interpolated, strings)):
        return None
    prefix = report.text(strings[0].children[0]) if strings[0].child_count else ""
    return "bytes" if "b" in prefix.lower() else "str"


def _interpolated(string: Node) -> bool:
    return any(c.type == "interpolation" for c in string.children)


def unreachable(report: Report, caps: Captures) -> None:
    """Statements after ``return`` / ``raise`` / ``continue`` / ``break`` in the same block."""
    if not report.wants("unreachable-code"):
        return
    for exit_ in caps.get("exit", ()):
        rest = list(next_statements(exit_))
        if not rest or any(s.type == "ERROR" for s in rest):
            continue
        first = rest[0]
        if (
            first.type == "expression_statement"
            and first.named_child_count == 1
            and first.named_children[0].type == "yield"
        ):
            continue  # `return` then `yield`: the idiom for an empty generator
        keyword = exit_.child(0)
        report.add(
            "unreachable-code",
            f"Unreachable code: it follows a `{keyword.type if keyword else 'return'}` "
            "in the same block",
            first.start_point,
            rest[-1].end_point,
        )


def duplicate_keys(report: Report, caps: Captures) -> None:
    """A constant key given twice in one dict display (``1``, ``1.0`` and ``True`` are one)."""
    if not report.wants("duplicate-key"):
        return
    for dictionary in caps.get("dictionary", ()):
        seen: dict[object, tuple[Node, set[str]]] = {}
        for pair in dictionary.named_children:
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if pair.type != "pair" or key is None or value is None:
                continue
            constant = _constant(report, key)
            if constant is _NOT_CONSTANT:
                continue
            try:
                previous = seen.get(constant)
            except TypeError:  # unhashable: not a valid key anyway
                continue
            value_text = report.text(value)
            if previous is None:
                seen[constant] = (key, {value_text})
                continue
            first, values = previous
            edit = remove_entry(report, pair) if value_text in values else None
            values.add(value_text)
            report.add_node(
                "duplicate-key",
                f"Key {report.text(key)} repeated in this dict (first on line "
                f"{first.start_point[0] + 1}): the earlier value is replaced",
                key,
                "Remove the repeated entry" if edit else None,
                (edit,) if edit else (),
            )


_NOT_CONSTANT = object()
_CONSTANT_KEYS = frozenset(
    {"string", "concatenated_string", "integer", "float", "true", "false", "none", "unary_operator"}
)


def _constant(report: Report, key: Node) -> object:
    if key.type not in _CONSTANT_KEYS or (
        key.type == "unary_operator" and _literal_kind(report, key) != "number"
    ):
        return _NOT_CONSTANT
    if key.type in ("string", "concatenated_string") and _literal_kind(report, key) is None:
        return _NOT_CONSTANT
    if key.type == "integer":
        try:
            return int(report.text(key).replace("_", ""), 0)
        except ValueError:
            pass  # `0777`, `1j`: the slow way
    elif key.type == "string" and key.child_count <= 3:
        plain = _plain_string(report, key)
        if plain is not None:
            return plain
    try:
        return ast.literal_eval(report.text(key))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_CONSTANT


def _plain_string(report: Report, string: Node) -> str | bytes | None:
    """The value of a string without escapes, in a few attribute look-ups."""
    parts = string.children
    prefix = report.text(parts[0])[:-1].lower()
    if (
        prefix not in ("", "r", "u", "b", "br", "rb")
        or report.text(parts[0])[-1] * 3 == (report.text(parts[0])[-3:])
    ):
        return None  # a triple-quoted string's first line may continue: the slow way
    if len(parts) == 2:
        content = b""
    elif parts[1].type == "string_content" and parts[1].child_count == 0:
        content = report.source[parts[1].start_byte : parts[1].end_byte]
    else:
        return None
    if "b" in prefix:
        return content if content.isascii() else None
    return content.decode("utf-8", "surrogatepass")


def duplicate_parameters(report: Report, caps: Captures) -> None:
    """``def f(a, a)`` and ``lambda a, a: ...``."""
    if not report.wants("duplicate-parameter"):
        return
    for parameters in caps.get("parameters", ()):
        seen: set[str] = set()
        for parameter in parameters.named_children:
            name_node = python_scopes.parameter_name(parameter)
            if name_node is None:
                continue
            name = report.text(name_node)
            if name in seen:
                report.add_node("duplicate-parameter", f"Duplicate parameter `{name}`", name_node)
            seen.add(name)


def assert_tuples(report: Report, caps: Captures) -> None:
    """``assert (x, "message")``: a non-empty tuple is always true."""
    if not report.wants("assert-tuple"):
        return
    for tuple_ in caps.get("assert-tuple", ()):
        items = [c for c in tuple_.named_children if c.type != "comment"]
        if not items:
            continue
        statement = tuple_.parent
        edits: tuple[RawEdit, ...] = ()
        if len(items) == 2 and statement is not None and statement.named_child_count == 1:
            text = f"{report.text(items[0])}, {report.text(items[1])}"
            edits = (RawEdit(tuple_.start_point, tuple_.end_point, text),)
        report.add_node(
            "assert-tuple",
            "`assert` on a non-empty tuple is always true; write `assert condition, message`",
            tuple_,
            "Assert the first item, with the second as the message" if edits else None,
            edits,
        )


def fstrings(report: Report, caps: Captures) -> None:
    """An f-string (and every f-string it is concatenated with) without a placeholder."""
    if not report.wants("fstring-without-placeholders"):
        return
    for string in caps.get("fstring", ()):
        parent = string.parent
        parts = [string]
        if parent is not None and parent.type == "concatenated_string":
            parts = [c for c in parent.named_children if c.type == "string"]
        if any(map(_interpolated, parts)) or string.child_count < 2:
            continue
        start, end = string.children[0], string.children[-1]
        prefix = report.text(start).replace("f", "").replace("F", "")
        inner = report.source[start.end_byte : end.start_byte].decode("utf-8", "surrogatepass")
        inner = inner.replace("{{", "{").replace("}}", "}")
        report.add_node(
            "fstring-without-placeholders",
            "f-string without placeholders: the `f` prefix does nothing",
            string,
            "Remove the `f` prefix",
            (RawEdit(string.start_point, string.end_point, prefix + inner + report.text(end)),),
        )


CHECKS = (
    python_defaults.mutable_defaults,
    excepts,
    comparisons,
    unreachable,
    duplicate_keys,
    duplicate_parameters,
    assert_tuples,
    fstrings,
    python_scopes.duplicate_definitions,
    python_scopes.loop_variables,
    python_unused.unused_variables,
)
