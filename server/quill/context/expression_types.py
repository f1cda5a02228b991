"""Types of the expressions of the current text: names, calls, attribute chains, ``new``,
literals and casts, through the classes of the text or the workspace.

:class:`ExpressionTypes` is the base of :class:`quill.context.inference.Inference`: it holds
the parsed text and what is known of it, and types expressions; ``Inference`` adds the walk
that binds names. Language modules override the hooks of both.
"""

from __future__ import annotations

from collections.abc import Sequence

import tree_sitter

from quill.context.annotations import SELF_TYPES, element_annotation
from quill.context.imports import ImportResolver, ResolvedImport
from quill.context.type_resolution import CLASS_KINDS, MAX_CHAIN, Env, TypeRef, WorkspaceTypes
from quill.index.trees import TreeCache

__all__ = ["ExpressionTypes"]

#: attribute access (Python, JavaScript, Go)
MEMBER_ACCESS = ("attribute", "member_expression", "selector_expression")


class ExpressionTypes:
    """One parsed text (``source``, ``tree`` of file ``rel_path``) and the types of its
    expressions."""

    WALK: frozenset[str] = frozenset()  # statement containers the walk descends into

    def __init__(
        self,
        resolver: ImportResolver,
        rel_path: str,
        language: str,
        source: bytes,
        tree: tree_sitter.Tree,
        imports: Sequence[ResolvedImport],
        trees: TreeCache,
    ) -> None:
        self.resolver = resolver
        self.rel = rel_path
        self.lang = language
        self.src = source
        self.root = tree.root_node
        self.trees = trees
        self.imports: dict[str, ResolvedImport] = {}
        for imp in imports:
            self.imports.setdefault(imp.local_name, imp)
        self.local_classes: dict[str, tree_sitter.Node] = {}
        self.local_funcs: dict[str, tree_sitter.Node] = {}
        self.scope_root: tree_sitter.Node | None = None
        self._raw_cache: dict[str, str] | None = None
        self._class_attrs: dict[int, Env] = {}
        self.types = WorkspaceTypes(resolver, rel_path, language, self.imports, self.local_class)

    # ---------------------------------------------------------------- language hooks

    def class_bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        return ()

    def raw_annotations_of(self, node: tree_sitter.Node, out: dict[str, str]) -> None:
        """The annotations written at ``node`` (parameters, annotated locals and fields)."""

    def find_method(self, cls: tree_sitter.Node, name: str) -> tree_sitter.Node | None:
        body = cls.child_by_field_name("body")
        if body is None:
            return None
        for member in body.named_children:
            fn = member
            if member.type == "decorated_definition":
                fn = member.child_by_field_name("definition") or member
            if fn.type in ("function_definition", "method_definition"):
                if self.text(fn.child_by_field_name("name")) == name:
                    return fn
        return None

    def class_attributes(self, node: tree_sitter.Node) -> Env:
        """Attribute name → types, for a class of the current text (see ``Inference``)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- helpers

    def text(self, node: tree_sitter.Node | None) -> str:
        if node is None:
            return ""
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def type_text(self, node: tree_sitter.Node) -> str:
        """An annotation node's text without the leading ``:`` of TypeScript's."""
        return self.text(node).lstrip(":").strip()

    def types_at(self, node: tree_sitter.Node) -> list[TypeRef]:
        """The types named by an annotation node of the current text."""
        return self.types.types_of_annotation(self.type_text(node), self.rel)

    def local_class(self, name: str) -> TypeRef | None:
        node = self.local_classes.get(name)
        return self.local_type(node) if node is not None else None

    def local_type(self, node: tree_sitter.Node) -> TypeRef:
        name = self.text(node.child_by_field_name("name"))
        defs = tuple(
            d
            for d in self.resolver.definitions_in(self.rel)
            if d.name == name and d.kind in CLASS_KINDS
        )
        return TypeRef(name, defs, node)

    # ---------------------------------------------------------------- expressions

    def type_of(self, expr: tree_sitter.Node, env: Env, depth: int = 0) -> list[TypeRef]:
        """The types of an expression, as far as cheaply known."""
        if depth > MAX_CHAIN:
            return []
        kind = expr.type
        if kind in ("parenthesized_expression", "await", "await_expression", "non_null_expression"):
            inner = expr.named_children
            return self.type_of(inner[0], env, depth + 1) if inner else []
        if kind in ("identifier", "this", "self"):
            return list(env.get(self.text(expr), ()))
        if kind == "new_expression":
            ctor = expr.child_by_field_name("constructor")
            return self.types.class_types(self.text(ctor)) if ctor is not None else []
        if kind == "composite_literal":
            return self.types.types_of_annotation(
                self.text(expr.child_by_field_name("type")), self.rel
            )
        if kind in ("as_expression", "satisfies_expression") and len(expr.named_children) > 1:
            return self.types.types_of_annotation(self.text(expr.named_children[-1]), self.rel)
        if kind in MEMBER_ACCESS:
            full = self.text(expr)
            if full in env:
                return list(env[full])
            obj, attr = _object_and_attr(expr)
            if obj is None or not attr:
                return []
            return self.attribute_types(obj, attr, env, depth, call=False)
        if kind in ("call", "call_expression"):
            fn = expr.child_by_field_name("function")
            if fn is None:
                return []
            if fn.type in ("await_expression", "await") and fn.named_children:
                fn = fn.named_children[0]  # `await f<T>(x)` parses as a call of `await f`
            if fn.type == "identifier":
                return self.call_types(self.text(fn))
            if fn.type in MEMBER_ACCESS:
                obj, attr = _object_and_attr(fn)
                if obj is None or not attr:
                    return []
                return self.attribute_types(obj, attr, env, depth, call=True)
        return []

    def element_of(self, expr: tree_sitter.Node, env: Env) -> list[TypeRef]:
        """The element types of an iterable expression, from its annotation (in the current
        text: parameters, annotated locals, annotated attributes of the receiver's class)."""
        annotation = self._raw_annotations().get(self.text(expr))
        if annotation is None:
            return []
        element = element_annotation(annotation, self.lang)
        return self.types.types_of_annotation(element, self.rel) if element else []

    def _raw_annotations(self) -> dict[str, str]:
        if self._raw_cache is not None:
            return self._raw_cache
        out: dict[str, str] = {}
        # Only where the cursor is: the outermost enclosing class or function, or the
        # module's own statements.
        if self.scope_root is not None:
            stack = [self.scope_root]
        else:
            stack = [c for c in self.root.named_children if c.type in self.WALK]
        while stack:
            node = stack.pop()
            self.raw_annotations_of(node, out)
            stack.extend(node.named_children)
        self._raw_cache = out
        return out

    def call_types(self, name: str) -> list[TypeRef]:
        """Types of ``name(...)`` in the current text: a class's instance, or a function's
        return annotation."""
        node = self.local_classes.get(name)
        if node is not None:
            return [self.local_type(node)]
        fn = self.local_funcs.get(name)
        if fn is not None:
            ret = _return_type_node(fn)
            return self.types_at(ret) if ret is not None else []
        defs = self.types.resolve_name(name, self.rel)
        if defs:
            return self.types.types_from_defs(defs, call=True)
        if name[:1].isupper() and self.lang == "python":
            return [TypeRef(name)]  # a class from outside the workspace
        return []

    def attribute_types(
        self, obj: tree_sitter.Node, attr: str, env: Env, depth: int, *, call: bool
    ) -> list[TypeRef]:
        """Types of ``obj.attr`` (``call``: of ``obj.attr(...)``)."""
        obj_text = self.text(obj)
        # A module imported whole: `mod.Foo(...)`, `mod.make()`, `pkg.NewFoo()`.
        imp = self.imports.get(obj_text)
        if imp is not None and imp.kind == "module" and obj_text not in env:
            defs = [d for d in imp.definitions if d.name == attr]
            if imp.module_path and not defs and self.lang == "python":
                kind, _p, found = self.resolver.python_member(imp.module_path, attr, set())
                defs = found if kind == "name" else []
            return self.types.types_from_defs(defs, call)
        local = self.local_classes.get(obj_text)
        if local is not None and obj_text not in env:
            return self._local_member_types(self.local_type(local), attr, call, depth)
        out: list[TypeRef] = []
        for t in self.type_of(obj, env, depth + 1):
            out.extend(self.member_types(t, attr, call, depth + 1))
        return out

    def member_types(self, owner: TypeRef, attr: str, call: bool, depth: int) -> list[TypeRef]:
        if depth > MAX_CHAIN:
            return []
        if owner.node is not None:
            return self._local_member_types(owner, attr, call, depth)
        return self.types.member_types(owner, attr, call, depth)

    def _local_member_types(
        self, owner: TypeRef, attr: str, call: bool, depth: int
    ) -> list[TypeRef]:
        node = owner.node
        if node is None:
            return []
        if not call:
            attrs = self.class_attributes(node)
            if attr in attrs:
                return attrs[attr]
        method = self.find_method(node, attr)
        if method is not None:
            ret = _return_type_node(method)
            if ret is None:
                return []
            text = self.type_text(ret)
            if text.strip("\"'") in SELF_TYPES or text.strip("\"'") == owner.name:
                return [owner]
            return self.types.types_of_annotation(text, self.rel)
        # Inherited: the bases of a local class.
        for base in self.class_bases(node):
            base_node = self.local_classes.get(base)
            if base_node is not None and base_node is not node:
                types = self._local_member_types(self.local_type(base_node), attr, call, depth + 1)
            else:
                types = []
                for d in self.types.resolve_name(base, self.rel, classes_only=True):
                    types = self.member_types(TypeRef(d.name, (d,)), attr, call, depth + 1)
                    if types:
                        break
            if types:
                return types
        return []


def _return_type_node(fn: tree_sitter.Node) -> tree_sitter.Node | None:
    return fn.child_by_field_name("return_type") or fn.child_by_field_name("result")


def _object_and_attr(node: tree_sitter.Node) -> tuple[tree_sitter.Node | None, str]:
    obj = node.child_by_field_name("object") or node.child_by_field_name("operand")
    attr_node = (
        node.child_by_field_name("attribute")
        or node.child_by_field_name("property")
        or node.child_by_field_name("field")
    )
    attr = (
        attr_node.text.decode("utf-8", "replace")
        if attr_node is not None and attr_node.text
        else ""
    )
    return obj, attr
