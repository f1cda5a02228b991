"""``mutable-default-argument``: a list, dict or set (display, comprehension or constructor
call) as a parameter's default, and its fix: ``None`` plus ``if x is None: x = [...]`` first
in the body."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

import tree_sitter

from quill.actions.rules.report import RawEdit, Report

__all__ = ["mutable_defaults"]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

#: annotation heads that say the default is never mutated (as flake8-bugbear's B006)
_IMMUTABLE_TYPES = frozenset(
    {
        "AbstractSet",
        "ByteString",
        "Collection",
        "Container",
        "FrozenSet",
        "Hashable",
        "ItemsView",
        "Iterable",
        "Iterator",
        "KeysView",
        "Mapping",
        "MappingProxyType",
        "None",
        "Reversible",
        "Sequence",
        "Sized",
        "Tuple",
        "ValuesView",
        "bool",
        "bytes",
        "complex",
        "float",
        "frozenset",
        "int",
        "str",
        "tuple",
    }
)
_WRAPPER = re.compile(r"(?:typing\.|typing_extensions\.)?(Optional|Annotated|Final)\[(.*)\]$", re.S)


def mutable_defaults(report: Report, caps: Captures) -> None:
    """``def f(x=[])``, ``x={}``, ``x=set()``, ``x=collections.deque()`` ..."""
    if not report.wants("mutable-default-argument"):
        return
    for value in caps.get("mutable-default", ()):
        param = value.parent
        name_node = param.child_by_field_name("name") if param is not None else None
        if param is None or name_node is None:
            continue
        annotation = param.child_by_field_name("type")
        if annotation is not None and _immutable_annotation(report.text(annotation)):
            continue
        name = report.text(name_node)
        kind = report.text(value.child_by_field_name("function") or value) + "()"
        if value.type != "call":
            kind = {"list": "list", "dictionary": "dict", "set": "set"}.get(
                value.type, value.type.split("_")[0]
            )
        edits = _none_default_edits(report, param, value, name)
        report.add_node(
            "mutable-default-argument",
            f"Mutable default argument `{name}`: one {kind} is created when the function is "
            "defined and shared by every call; default to None and create it in the body",
            value,
            f"Default `{name}` to None and create the value in the body" if edits else None,
            edits,
        )


def _immutable_annotation(text: str) -> bool:
    return all(head in _IMMUTABLE_TYPES for head in _type_heads(text.strip().strip("\"'")))


def _type_heads(text: str) -> Iterator[str]:
    """The outermost type names of an annotation: ``Sequence[int] | None`` → Sequence, None."""
    wrapper = _WRAPPER.match(text)
    if wrapper is not None:
        inner = _split_top_level(wrapper.group(2), ",")[0]
        yield from _type_heads(inner.strip())
        if wrapper.group(1) == "Optional":
            yield "None"
        return
    for part in _split_top_level(text, "|"):
        head = re.match(r"[\w.]*", part.strip())
        yield head.group(0).rsplit(".", 1)[-1] if head else ""


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _none_default_edits(report: Report, param: Node, value: Node, name: str) -> tuple[RawEdit, ...]:
    """``None`` as the default and ``if x is None: x = <value>`` first in the body; none for
    a lambda, an annotated parameter (its annotation would need ``| None`` too), a body on the
    ``def`` line or a first statement sharing its line."""
    function = param.parent.parent if param.parent is not None else None
    if param.type != "default_parameter" or function is None:
        return ()
    body = function.child_by_field_name("body")
    if function.type != "function_definition" or body is None:
        return ()
    colon = body.prev_sibling
    statements = [c for c in body.named_children if c.type != "comment"]
    if not statements or colon is None or body.start_point[0] == colon.end_point[0]:
        return ()
    first = statements[0]
    indent = report.line_indent(first.start_byte)
    outer = report.line_indent(function.start_byte)
    unit = indent[len(outer) :] if indent.startswith(outer) and len(indent) > len(outer) else "    "
    guard = f"if {name} is None:\n{indent}{unit}{name} = {report.text(value)}"
    if _is_docstring(first):
        if len(statements) == 1:
            insert = RawEdit(first.end_point, first.end_point, f"\n{indent}{guard}")
            return (RawEdit(value.start_point, value.end_point, "None"), insert)
        first = statements[1]
    line_start = report.source.rfind(b"\n", 0, first.start_byte) + 1
    if report.source[line_start : first.start_byte].strip():
        return ()
    insert = RawEdit(first.start_point, first.start_point, f"{guard}\n{indent}")
    return (RawEdit(value.start_point, value.end_point, "None"), insert)


def _is_docstring(statement: Node) -> bool:
    return (
        statement.type == "expression_statement"
        and statement.named_child_count == 1
        and statement.named_children[0].type == "string"
    )
