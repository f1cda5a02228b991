"""Scope inference for JavaScript, TypeScript and TSX: ``this`` in a class (fields,
constructor parameter properties, ``this.x = ...`` in the methods), annotated parameters,
and the locals of ``let``/``const``/``var`` declarations, plain assignments and ``for (const
x of xs)``, block-scoped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import tree_sitter

from quill.context.inference import Inference, known_bases
from quill.context.type_resolution import Env, TypeRef

if TYPE_CHECKING:
    from quill.context.scope import ScopeInfo

__all__ = ["JavaScriptInference"]

_FUNCS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
_CLASSES = frozenset({"class_declaration", "class", "abstract_class_declaration"})
_FIELDS = ("public_field_definition", "field_definition")
_PARAMETERS = ("required_parameter", "optional_parameter")


class JavaScriptInference(Inference):
    FUNCS = _FUNCS
    CLASSES = _CLASSES
    WALK = frozenset(
        {
            "statement_block",
            "if_statement",
            "else_clause",
            "for_statement",
            "for_in_statement",
            "while_statement",
            "do_statement",
            "try_statement",
            "catch_clause",
            "finally_clause",
            "switch_statement",
            "switch_body",
            "switch_case",
            "switch_default",
            "lexical_declaration",
            "variable_declaration",
            "expression_statement",
            "labeled_statement",
            "program",
        }
    )
    ATTRIBUTE_QUERY = """(assignment_expression left: (member_expression object: (this) @obj
                          property: (property_identifier) @attr)) @assign"""

    def receiver(
        self,
        info: ScopeInfo,
        funcs: list[tree_sitter.Node],
        classes: list[tree_sitter.Node],
        env: Env,
        origins: dict[str, str],
    ) -> str | None:
        if not classes:
            return None
        self.enter_class(info, classes[-1], "this", env, origins)
        return "this"

    def class_bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        out: list[str] = []
        for child in node.named_children:
            if child.type != "class_heritage":
                continue
            for clause in child.named_children:
                for item in clause.named_children:
                    if item.type in ("identifier", "type_identifier", "member_expression"):
                        out.append(self.text(item))
                    elif item.type == "generic_type":
                        out.append(self.text(item.child_by_field_name("name")))
            if child.named_children and child.named_children[0].type not in (
                "extends_clause",
                "implements_clause",
            ):  # JavaScript: `class A extends B` has no clause node
                out.extend(
                    self.text(c)
                    for c in child.named_children
                    if c.type in ("identifier", "member_expression")
                )
        return known_bases(out)

    def own_attributes(self, node: tree_sitter.Node, attrs: Env) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        class_type = TypeRef(self.text(node.child_by_field_name("name")), (), node)
        for member in body.named_children:
            if member.type in _FIELDS:
                name = self.text(
                    member.child_by_field_name("name") or member.child_by_field_name("property")
                )
                ann = member.child_by_field_name("type")
                value = member.child_by_field_name("value")
                types: list[TypeRef] = []
                if ann is not None:
                    types = self.types_at(ann)
                if not types and value is not None:
                    types = self.type_of(value, {"this": [class_type]})
                if name and types:
                    attrs.setdefault(name, types)
            elif (
                member.type == "method_definition"
                and self.text(member.child_by_field_name("name")) == "constructor"
            ):
                self._parameter_properties(member, attrs)
        self.receiver_assignments(node, attrs, "constructor")

    def _parameter_properties(self, ctor: tree_sitter.Node, attrs: Env) -> None:
        """``constructor(private x: Foo)``: ``x`` is a field."""
        params = ctor.child_by_field_name("parameters")
        for p in params.named_children if params is not None else ():
            if any(
                c.type in ("accessibility_modifier", "readonly") or self.text(c) == "readonly"
                for c in p.children
            ):
                pname = self.text(p.child_by_field_name("pattern"))
                ann = p.child_by_field_name("type")
                if pname and ann is not None:
                    types = self.types_at(ann)
                    if types:
                        attrs.setdefault(pname, types)

    def binds_receiver(self, fn: tree_sitter.Node) -> bool | None:
        if fn.type == "method_definition":
            return True
        return None if fn.type == "arrow_function" else False  # `function () {}` rebinds `this`

    def method_env(self, fn: tree_sitter.Node, class_type: TypeRef) -> Env | None:
        env: Env = {"this": [class_type]}
        for name, types in self.parameters(fn):
            env[name] = types
        return env

    def parameters(
        self, fn: tree_sitter.Node, skip_first: bool = False
    ) -> Iterator[tuple[str, list[TypeRef]]]:
        params = fn.child_by_field_name("parameters")
        for p in params.named_children if params is not None else ():
            if p.type not in _PARAMETERS:
                continue
            pattern = p.child_by_field_name("pattern")
            ann_node = p.child_by_field_name("type")
            if pattern is not None and pattern.type == "identifier" and ann_node is not None:
                types = self.types_at(ann_node)
                if types:
                    yield self.text(pattern), types

    def binding(self, node: tree_sitter.Node, env: Env, origins: dict[str, str], stop: int) -> bool:
        kind = node.type
        if kind == "variable_declarator":
            name = node.child_by_field_name("name")
            if name is None or name.type != "identifier":
                return True
            ann = node.child_by_field_name("type")
            types = self.types_at(ann) if ann is not None else []
            value = node.child_by_field_name("value")
            if not types and value is not None and value.end_byte <= stop:
                types = self.type_of(value, env)
            self.bind(env, origins, self.text(name), types, "local")
            return True
        if kind == "assignment_expression" or (
            kind == "expression_statement"
            and node.named_children
            and node.named_children[0].type == "assignment_expression"
        ):
            assign = node if kind == "assignment_expression" else node.named_children[0]
            left = assign.child_by_field_name("left")
            right = assign.child_by_field_name("right")
            if left is None or right is None or assign.end_byte > stop:
                return True
            if left.type == "identifier" and self.text(left) not in env:
                self.bind(env, origins, self.text(left), self.type_of(right, env), "local")
            return True
        if kind == "for_in_statement":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            is_of = any(c.type == "of" for c in node.children)
            if (
                is_of
                and node.end_byte > stop
                and left is not None
                and right is not None
                and left.type == "identifier"
            ):
                self.bind(env, origins, self.text(left), self.element_of(right, env), "local")
            return False
        return kind in _FUNCS or kind in _CLASSES  # a nested scope

    def raw_annotations_of(self, node: tree_sitter.Node, out: dict[str, str]) -> None:
        kind = node.type
        if kind in (*_PARAMETERS, "variable_declarator"):
            target = node.child_by_field_name("pattern") or node.child_by_field_name("name")
            prefix = ""
        elif kind in _FIELDS:
            target = node.child_by_field_name("name")
            prefix = "this."
        else:
            return
        ann_node = node.child_by_field_name("type")
        if target is not None and ann_node is not None:
            out.setdefault(prefix + self.text(target), self.type_text(ann_node))
