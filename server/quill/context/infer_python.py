"""Scope inference for Python: ``self`` (the first parameter of a method that is not a
``staticmethod``), class-body fields and properties, ``self.x = ...`` in the methods,
annotated parameters, and the locals bound by assignments, ``with ... as x`` and ``for x in
xs``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import tree_sitter

from quill.context.inference import Inference, known_bases
from quill.context.type_resolution import Env, TypeRef

if TYPE_CHECKING:
    from quill.context.scope import ScopeInfo

__all__ = ["PythonInference"]

#: statements with a body: a cursor indented after their end may still be inside
_COMPOUND = frozenset(
    {
        "function_definition",
        "class_definition",
        "decorated_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "match_statement",
        "case_clause",
    }
)


class PythonInference(Inference):
    FUNCS = frozenset({"function_definition"})
    CLASSES = frozenset({"class_definition"})
    WALK = frozenset(
        {
            "block",
            "if_statement",
            "elif_clause",
            "else_clause",
            "for_statement",
            "while_statement",
            "try_statement",
            "except_clause",
            "except_group_clause",
            "finally_clause",
            "with_statement",
            "with_clause",
            "match_statement",
            "case_clause",
            "expression_statement",
            "module",
        }
    )
    ATTRIBUTE_QUERY = """(assignment left: (attribute object: (identifier) @obj
                          attribute: (identifier) @attr)) @assign"""

    def dedented_child(
        self, children: list[tree_sitter.Node], pos: tuple[int, int]
    ) -> tree_sitter.Node | None:
        # On an empty line after a block, indented into it, the cursor is in the block.
        before = [c for c in children if c.end_point <= pos]
        if not before:
            return None
        last = before[-1]
        if last.type == "block":
            if pos[1] >= last.start_point[1] or last.start_point[0] == pos[0]:
                return last
        elif last.type in _COMPOUND and pos[1] > last.start_point[1]:
            return last
        return None

    def receiver(
        self,
        info: ScopeInfo,
        funcs: list[tree_sitter.Node],
        classes: list[tree_sitter.Node],
        env: Env,
        origins: dict[str, str],
    ) -> str | None:
        cls_node: tree_sitter.Node | None = None
        self_name: str | None = None
        for fn in reversed(funcs):
            owner = _owner_class(fn)
            if owner is not None:
                cls_node = owner
                if not _is_static(fn):
                    self_name = self._first_param(fn)
                break
        if cls_node is None and classes:
            cls_node = classes[-1]
        if cls_node is not None:
            self.enter_class(info, cls_node, self_name, env, origins)
        return self_name

    def skips_first_parameter(self, fn: tree_sitter.Node) -> bool:
        return _owner_class(fn) is not None and not _is_static(fn)

    def class_bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        out: list[str] = []
        supers = node.child_by_field_name("superclasses")
        if supers is not None:
            for arg in supers.named_children:
                if arg.type in ("identifier", "attribute"):
                    out.append(self.text(arg))
                elif arg.type == "subscript":
                    out.append(self.text(arg.child_by_field_name("value")))
        return known_bases(out)

    def own_attributes(self, node: tree_sitter.Node, attrs: Env) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        for stmt in body.named_children:
            if stmt.type == "expression_statement" and stmt.named_children:
                assign = stmt.named_children[0]
                if assign.type == "assignment":
                    left = assign.child_by_field_name("left")
                    if left is not None and left.type == "identifier":
                        types = self.assigned_types(assign, {})
                        if types:
                            attrs.setdefault(self.text(left), types)
            elif stmt.type == "decorated_definition":
                fn = stmt.child_by_field_name("definition")
                if fn is not None and fn.type == "function_definition":
                    decorators = " ".join(
                        self.text(c) for c in stmt.named_children if c.type == "decorator"
                    )
                    if "property" in decorators:
                        ret = fn.child_by_field_name("return_type")
                        name = self.text(fn.child_by_field_name("name"))
                        if ret is not None and name:
                            types = self.types_at(ret)
                            if types:
                                attrs.setdefault(name, types)
        # `__init__` first: it is where attributes get their types.
        self.receiver_assignments(node, attrs, "__init__")

    def method_env(self, fn: tree_sitter.Node, class_type: TypeRef) -> Env | None:
        if _owner_class(fn) is None or _is_static(fn):
            return None
        self_name = self._first_param(fn)
        if not self_name:
            return None
        env: Env = {self_name: [class_type]}
        for name, types in self.parameters(fn, skip_first=True):
            env[name] = types
        return env

    def parameters(
        self, fn: tree_sitter.Node, skip_first: bool = False
    ) -> Iterator[tuple[str, list[TypeRef]]]:
        params = fn.child_by_field_name("parameters")
        if params is None:
            return
        for i, p in enumerate(params.named_children):
            if i == 0 and skip_first:
                continue
            name, ann = self._param(p)
            if name and ann:
                types = self.types.types_of_annotation(ann, self.rel)
                if types:
                    yield name, types

    def binding(self, node: tree_sitter.Node, env: Env, origins: dict[str, str], stop: int) -> bool:
        kind = node.type
        if kind == "assignment":
            left = node.child_by_field_name("left")
            if left is None or node.end_byte > stop:
                return True  # (past the end: the statement being typed, not bound yet)
            if left.type == "identifier":
                self.bind(env, origins, self.text(left), self.assigned_types(node, env), "local")
            return True
        if kind == "with_item":
            value = node.child_by_field_name("value")
            if value is not None and value.type == "as_pattern":
                target = value.child_by_field_name("alias")
                expr = value.named_children[0] if value.named_children else None
                if target is not None and expr is not None:
                    name_node = target.named_children[0] if target.named_children else target
                    if name_node.type == "identifier":
                        types = self.type_of(expr, env)
                        self.bind(env, origins, self.text(name_node), types, "local")
            return True
        if kind == "for_statement":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is not None and right is not None and left.type == "identifier":
                self.bind(env, origins, self.text(left), self.element_of(right, env), "local")
            return False  # its body may bind more
        # A nested scope binds nothing here.
        return kind in ("function_definition", "class_definition", "decorated_definition")

    def raw_annotations_of(self, node: tree_sitter.Node, out: dict[str, str]) -> None:
        kind = node.type
        if kind in ("typed_parameter", "typed_default_parameter"):
            name, ann = self._param(node)
            if name and ann:
                out.setdefault(name, ann)
        elif kind == "assignment":
            ann_node = node.child_by_field_name("type")
            left = node.child_by_field_name("left")
            if ann_node is not None and left is not None:
                out.setdefault(self.text(left), self.text(ann_node))
                if left.type == "identifier":
                    out.setdefault("self." + self.text(left), self.text(ann_node))

    # ---------------------------------------------------------------- parameters

    def _first_param(self, fn: tree_sitter.Node) -> str | None:
        params = fn.child_by_field_name("parameters")
        if params is None or not params.named_children:
            return None
        name, _ann = self._param(params.named_children[0])
        return name

    def _param(self, p: tree_sitter.Node) -> tuple[str | None, str | None]:
        kind = p.type
        if kind == "identifier":
            return self.text(p), None
        if kind in ("typed_parameter", "typed_default_parameter", "default_parameter"):
            name_node = p.child_by_field_name("name")
            if name_node is None:
                first = p.named_children[0] if p.named_children else None
                if first is None or first.type != "identifier":
                    return None, None  # *args: T / **kw: T
                name_node = first
            ann = p.child_by_field_name("type")
            return self.text(name_node), self.text(ann) if ann is not None else None
        return None, None


def _owner_class(fn: tree_sitter.Node) -> tree_sitter.Node | None:
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    if parent is not None and parent.type == "block":
        owner = parent.parent
        if owner is not None and owner.type == "class_definition":
            return owner
    return None


def _is_static(fn: tree_sitter.Node) -> bool:
    parent = fn.parent
    if parent is None or parent.type != "decorated_definition":
        return False
    for child in parent.named_children:
        if child.type == "decorator" and child.text and b"staticmethod" in child.text:
            return True
    return False
