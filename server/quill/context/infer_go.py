"""Scope inference for Go: a method's receiver and its struct's fields, typed parameters,
and the locals of ``:=``, ``=``, ``var`` and ``for _, x := range xs``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import tree_sitter

from quill.context.inference import Inference
from quill.context.type_resolution import MAX_CHAIN, Env, TypeRef

if TYPE_CHECKING:
    from quill.context.scope import ScopeInfo

__all__ = ["GoInference"]

_FUNCS = frozenset({"function_declaration", "method_declaration", "func_literal"})


class GoInference(Inference):
    FUNCS = _FUNCS
    WALK = frozenset(
        {
            "block",
            "statement_list",
            "if_statement",
            "for_statement",
            "expression_switch_statement",
            "type_switch_statement",
            "expression_case",
            "default_case",
            "select_statement",
            "communication_case",
            "var_declaration",
            "var_spec_list",
            "labeled_statement",
            "source_file",
        }
    )

    def receiver(
        self,
        info: ScopeInfo,
        funcs: list[tree_sitter.Node],
        classes: list[tree_sitter.Node],
        env: Env,
        origins: dict[str, str],
    ) -> str | None:
        fn = next((f for f in reversed(funcs) if f.type == "method_declaration"), None)
        if fn is None:
            return None
        name, type_text = self._receiver_of(fn)
        if not type_text:
            return None
        base = _type_name(type_text)
        info.enclosing_class = base
        if name:
            env[name] = self.types.types_of_annotation(type_text, self.rel)
            origins[name] = "self"
            cls_node = self.local_classes.get(base)
            if cls_node is not None:
                self.bind_attributes(cls_node, name, env, origins)
        return name

    def own_attributes(self, node: tree_sitter.Node, attrs: Env) -> None:
        struct = node.child_by_field_name("type")
        if struct is None or struct.type != "struct_type":
            return
        for fl in struct.named_children:
            for fd in fl.named_children:
                if fd.type != "field_declaration":
                    continue
                types = self.types.types_of_annotation(
                    self.text(fd.child_by_field_name("type")), self.rel
                )
                for child in fd.named_children:
                    if child.type == "field_identifier" and types:
                        attrs.setdefault(self.text(child), types)

    def parameters(
        self, fn: tree_sitter.Node, skip_first: bool = False
    ) -> Iterator[tuple[str, list[TypeRef]]]:
        params = fn.child_by_field_name("parameters")
        for p in params.named_children if params is not None else ():
            if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                continue
            types = self.types.types_of_annotation(
                self.text(p.child_by_field_name("type")), self.rel
            )
            if not types:
                continue
            for child in p.named_children:
                if child.type == "identifier":
                    yield self.text(child), types

    def binding(self, node: tree_sitter.Node, env: Env, origins: dict[str, str], stop: int) -> bool:
        kind = node.type
        if kind in ("short_var_declaration", "assignment_statement"):
            if node.end_byte > stop:
                return True
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is None or right is None:
                return True
            names = list(left.named_children)
            values = list(right.named_children)
            for i, target in enumerate(names):
                if target.type != "identifier":
                    continue
                if i < len(values) and len(values) == len(names):
                    types = self.type_of(values[i], env)
                elif i == 0 and len(values) == 1:
                    types = self.type_of(values[0], env)  # `x, err := f()`
                else:
                    types = []
                if kind == "assignment_statement" and self.text(target) in env:
                    continue
                self.bind(env, origins, self.text(target), types, "local")
            return True
        if kind == "var_spec":
            type_node = node.child_by_field_name("type")
            types = self.types_at(type_node) if type_node else []
            value = node.child_by_field_name("value")
            if not types and value is not None and value.named_children:
                types = self.type_of(value.named_children[0], env)
            for child in node.named_children:
                if child.type == "identifier":
                    self.bind(env, origins, self.text(child), types, "local")
            return True
        if kind == "for_statement":
            for child in node.named_children:
                if child.type != "range_clause":
                    continue
                left = child.child_by_field_name("left")
                right = child.child_by_field_name("right")
                if left is not None and right is not None and len(left.named_children) > 1:
                    value = left.named_children[1]
                    if value.type == "identifier":
                        types = self.element_of(right, env)
                        self.bind(env, origins, self.text(value), types, "local")
            return False
        return kind in _FUNCS

    def raw_annotations_of(self, node: tree_sitter.Node, out: dict[str, str]) -> None:
        if node.type in ("parameter_declaration", "field_declaration", "var_spec"):
            type_node = node.child_by_field_name("type")
            if type_node is not None:
                for child in node.named_children:
                    if child.type in ("identifier", "field_identifier"):
                        out.setdefault(self.text(child), self.text(type_node))

    def find_method(self, cls: tree_sitter.Node, name: str) -> tree_sitter.Node | None:
        type_name = self.text(cls.child_by_field_name("name"))
        for child in self.root.named_children:
            if (
                child.type == "method_declaration"
                and self.text(child.child_by_field_name("name")) == name
                and _type_name(self._receiver_of(child)[1]) == type_name
            ):
                return child
        return None

    def type_of(self, expr: tree_sitter.Node, env: Env, depth: int = 0) -> list[TypeRef]:
        if expr.type == "unary_expression" and depth <= MAX_CHAIN:  # `&Foo{}`
            operand = expr.child_by_field_name("operand")
            return self.type_of(operand, env, depth + 1) if operand is not None else []
        return super().type_of(expr, env, depth)

    def _receiver_of(self, method: tree_sitter.Node) -> tuple[str | None, str]:
        """A method's receiver: its name (if any) and its type as written."""
        recv = method.child_by_field_name("receiver")
        for p in recv.named_children if recv is not None else ():
            if p.type == "parameter_declaration":
                name = p.child_by_field_name("name")
                type_text = self.text(p.child_by_field_name("type"))
                return (self.text(name) if name is not None else None, type_text)
        return None, ""


def _type_name(type_text: str) -> str:
    """``*Point[T]`` → ``Point``."""
    return type_text.lstrip("*").split("[", 1)[0]
