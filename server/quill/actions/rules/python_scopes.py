"""Python rules about names in a scope: duplicate definitions and loop variables overwritten
in the loop body; and what :mod:`quill.actions.rules.python_unused` shares with them: the
names each statement binds, and whether a name is read.

"Is this name read?" is answered without a walk of the whole tree: a byte search finds the
name's spellings inside the scope's bytes and the tree says, for each, whether it is an
identifier that reads the name (not a string, a comment, an attribute, a keyword argument's
or a parameter's name, nor a binding). Anything unsure counts as a read, so the rules err
towards silence."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType

import tree_sitter

from quill.actions.rules.report import Report

__all__ = [
    "Binding",
    "bindings",
    "dummy",
    "duplicate_definitions",
    "loop_variables",
    "parameter_name",
    "reads",
    "target_names",
]

Node = tree_sitter.Node
Captures = Mapping[str, Sequence[Node]]

_NESTED_SCOPES = frozenset({"function_definition", "class_definition", "lambda"})
_PATTERNS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "tuple",
        "list",
        "parenthesized_expression",
        "list_splat_pattern",
        "list_splat",
    }
)
_FUNCTIONS = frozenset({"function_definition", "lambda"})
_PARAMETER_LISTS = frozenset({"parameters", "lambda_parameters"})
#: the field holding a name that is not a read: `obj.name`, `f(name=1)`, `def f(name=1)`
_NAME_FIELDS = MappingProxyType(
    {
        "attribute": "attribute",
        "keyword_argument": "name",
        "default_parameter": "name",
        "typed_default_parameter": "name",
    }
)


#: bytes that may continue a Python name (non-ASCII ones included: any UTF-8 byte)
_NAME_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_" + bytes(range(128, 256))
)


def _occurrences(source: bytes, name: bytes, start: int, end: int) -> Iterator[int]:
    """Start bytes of ``name`` as a whole word in ``source[start:end]``."""
    size = len(name)
    at = source.find(name, start, end)
    while at >= 0:
        before = source[at - 1] if at > 0 else 32
        after = source[at + size] if at + size < len(source) else 32
        if before not in _NAME_BYTES and after not in _NAME_BYTES:
            yield at
        at = source.find(name, at + size, end)


def dummy(name: str) -> bool:
    return name.startswith("_")


def reads(
    report: Report,
    name: str,
    start: int,
    end: int,
    stores: Container[int],
    scope: Node | None = None,
) -> bool:
    """Whether an identifier in ``[start, end)`` reads ``name`` (``stores``: start bytes of
    the occurrences that only bind a name). With ``scope``, a read inside a function nested
    in it that has a parameter of that name reads the parameter, not ``scope``'s variable."""
    needle = name.encode("utf-8")
    for at in _occurrences(report.source, needle, start, end):
        if at in stores:
            continue
        node = report.root.descendant_for_byte_range(at, at + len(needle))
        if (
            node is None
            or node.type != "identifier"
            or node.start_byte != at
            or node.end_byte != at + len(needle)
        ):
            continue  # in a string or a comment, or part of a longer name
        if not _binds_only(node) and (scope is None or not _shadowed(report, node, name, scope)):
            return True
    return False


def _shadowed(report: Report, node: Node, name: str, scope: Node) -> bool:
    parent = node.parent
    while parent is not None and parent != scope:
        body = parent.child_by_field_name("body") if parent.type in _FUNCTIONS else None
        if body is not None and node.start_byte >= body.start_byte:  # not a default value
            parameters = parent.child_by_field_name("parameters")
            for parameter in parameters.named_children if parameters is not None else ():
                found = parameter_name(parameter)
                if found is not None and report.text(found) == name:
                    return True
        parent = parent.parent
    return False


def parameter_name(node: Node) -> Node | None:
    """The identifier a parameter declares (``x``, ``x=1``, ``x: int``, ``*x``, ``**x``)."""
    if node.type == "identifier":
        return node
    if node.type in ("default_parameter", "typed_default_parameter"):
        return node.child_by_field_name("name")
    if node.type in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
        for child in node.named_children:
            if child.type != "type":
                return parameter_name(child)
    return None


def _binds_only(node: Node) -> bool:
    """``obj.name``, ``f(name=...)`` and a parameter ``name`` do not read ``name``."""
    parent = node.parent
    if parent is None:
        return False
    kind = parent.type
    if kind in _PARAMETER_LISTS:
        return True
    if kind in ("list_splat_pattern", "dictionary_splat_pattern", "typed_parameter"):
        return parent.parent is not None and (
            parent.parent.type in _PARAMETER_LISTS or parent.parent.type == "typed_parameter"
        )
    field = _NAME_FIELDS.get(kind)
    other = parent.child_by_field_name(field) if field else None
    return other is not None and other.start_byte == node.start_byte


def target_names(target: Node) -> Iterator[Node]:
    """The identifiers an assignment or ``for`` target binds (through tuples and stars)."""
    if target.type == "identifier":
        yield target
    elif target.type in _PATTERNS:
        for child in target.named_children:
            yield from target_names(child)


def _in_nested_scope(node: Node, stop: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.start_byte >= stop.start_byte and parent != stop:
        if parent.type in _NESTED_SCOPES:
            return True
        parent = parent.parent
    return False


# --------------------------------------------------------------------------- definitions


def duplicate_definitions(report: Report, caps: Captures) -> None:
    """``def f`` / ``class C`` twice in one block, the name unused between them. Definitions
    in different blocks (``if`` / ``else``, ``try`` / ``except``) are separate; ``@overload``
    is skipped; a ``@f.setter`` decorator uses ``f``, so properties pass."""
    if not report.wants("duplicate-definition"):
        return
    groups: dict[tuple[int, str], list[tuple[Node, Node]]] = {}
    for name_node in caps.get("definition", ()):
        definition = name_node.parent
        if definition is None or definition.parent is None:
            continue
        statement = definition
        if definition.parent.type == "decorated_definition":
            statement = definition.parent
        scope = statement.parent
        name = report.text(name_node)
        if scope is None or scope.type not in ("block", "module") or dummy(name):
            continue  # `_` names are throwaways (`@f.register def _(...)`)
        groups.setdefault((scope.id, name), []).append((statement, name_node))
    for (_, name), definitions in groups.items():
        if len(definitions) < 2:
            continue
        definitions.sort(key=lambda d: d[0].start_byte)
        for (previous, old_name), (statement, new_name) in pairwise(definitions):
            if previous.parent is None or previous.parent.has_error:
                continue
            if _overloaded(report, previous) or _overloaded(report, statement):
                continue
            if reads(report, name, previous.end_byte, new_name.start_byte, ()):
                continue
            kind = (
                "class"
                if new_name.parent and new_name.parent.type == "class_definition"
                else "function"
            )
            report.add_node(
                "duplicate-definition",
                f"{kind.capitalize()} `{name}` is defined again here; the definition on line "
                f"{old_name.start_point[0] + 1} is never used",
                new_name,
            )


def _overloaded(report: Report, statement: Node) -> bool:
    if statement.type != "decorated_definition":
        return False
    return any(
        c.type == "decorator" and report.text(c).rstrip().endswith("overload")
        for c in statement.children
    )


# --------------------------------------------------------------------------- loops


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    node: Node
    kind: str  # "assign" (simple), "unpack", "augmented", "for", "with", "except", "walrus"
    owner: Node  # the assignment (named_expression), or the as_pattern of `with` / `except`


def bindings(report: Report, caps: Captures) -> list[Binding]:
    """Every name an assignment, ``for``, ``with``, ``except`` or ``:=`` binds, in source
    order (computed once per check)."""
    cached = report.memo.get("python.bindings")
    if isinstance(cached, list):
        return cached
    found: list[Binding] = []
    for assignment in caps.get("assignment", ()):
        left = assignment.child_by_field_name("left")
        if left is None or assignment.child_by_field_name("right") is None:
            continue  # `x: int` binds nothing
        kind = "assign" if left.type == "identifier" else "unpack"
        for node in target_names(left):
            found.append(Binding(report.text(node), node, kind, assignment))
    for node in caps.get("augmented-target", ()):
        found.append(Binding(report.text(node), node, "augmented", node.parent or node))
    for loop in caps.get("for-loop", ()):
        left = loop.child_by_field_name("left")
        for node in target_names(left) if left is not None else ():
            found.append(Binding(report.text(node), node, "for", loop))
    for node in caps.get("as-target", ()):
        pattern = node.parent.parent if node.parent is not None else None
        if pattern is None or pattern.parent is None:
            continue
        holder = pattern.parent
        if holder.type == "parenthesized_expression" and holder.parent is not None:
            holder = holder.parent
        as_kind = {"with_item": "with", "except_clause": "except"}.get(holder.type)
        if as_kind is not None:
            found.append(Binding(report.text(node), node, as_kind, pattern))
    for node in caps.get("walrus-target", ()):
        found.append(Binding(report.text(node), node, "walrus", node.parent or node))
    found.sort(key=lambda b: b.node.start_byte)
    report.memo["python.bindings"] = found
    return found


def loop_variables(report: Report, caps: Captures) -> None:
    """A ``for`` target name assigned again in the loop body (by ``=``, ``+=``, an inner
    ``for`` or a ``with ... as``), outside nested functions and classes."""
    loops = caps.get("for-loop", ())
    if not report.wants("loop-variable-overwritten") or not loops:
        return
    found = bindings(report, caps)
    starts = [b.node.start_byte for b in found]
    for loop in loops:
        left, body = loop.child_by_field_name("left"), loop.child_by_field_name("body")
        if left is None or body is None:
            continue
        targets = {report.text(n) for n in target_names(left)}
        targets = {t for t in targets if not dummy(t)}
        if not targets:
            continue
        for binding in found[bisect_left(starts, body.start_byte) :]:
            if binding.node.start_byte >= body.end_byte:
                break
            if binding.name not in targets or _in_nested_scope(binding.node, body):
                continue
            how = {"for": "an inner `for` loop", "with": "a `with` statement"}.get(
                binding.kind, "an assignment"
            )
            report.add_node(
                "loop-variable-overwritten",
                f"`for` loop variable `{binding.name}` (line {loop.start_point[0] + 1}) is "
                f"overwritten by {how} in the loop body",
                binding.node,
            )
