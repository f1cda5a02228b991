"""The walk behind :func:`quill.context.scope.infer_scope`, language by language.

:class:`Inference` holds what is the same in every language: find the functions and classes
enclosing the cursor, bind the receiver and its attributes (read from the class: its fields
and the ``self.x = ...`` assignments of its methods), the parameters, then walk the
statements before the cursor binding locals. Expressions are typed by its base,
:class:`quill.context.expression_types.ExpressionTypes`. A subclass per language
(:mod:`quill.context.infer_python`, :mod:`~quill.context.infer_javascript`,
:mod:`~quill.context.infer_go`) says, through the hooks, how that language spells them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import tree_sitter

from quill.context.annotations import IGNORED_TYPES
from quill.context.expression_types import ExpressionTypes
from quill.context.infer_names import guess_by_name
from quill.context.type_resolution import Env, TypeRef

if TYPE_CHECKING:
    from quill.context.scope import ScopeInfo

__all__ = ["Inference"]

MAX_DEPTH = 200  # syntax levels descended looking for the cursor
NEAR_ROWS = 12  # module-level code: the rows around the cursor whose receivers are guessed


class Inference(ExpressionTypes):
    """Scope inference over one parsed text (a subclass per language)."""

    FUNCS: frozenset[str] = frozenset()  # function node types
    CLASSES: frozenset[str] = frozenset()  # class node types
    ATTRIBUTE_QUERY: str | None = None  # `self.x = ...` assignments: @obj, @attr, @assign

    # ---------------------------------------------------------------- language hooks

    def dedented_child(
        self, children: list[tree_sitter.Node], pos: tuple[int, int]
    ) -> tree_sitter.Node | None:
        """The child holding a cursor that lies after all of them (Python's indentation)."""
        return None

    def receiver(
        self,
        info: ScopeInfo,
        funcs: list[tree_sitter.Node],
        classes: list[tree_sitter.Node],
        env: Env,
        origins: dict[str, str],
    ) -> str | None:
        """Bind the receiver (``self``, ``this``, a Go receiver) and its attributes; its name."""
        return None

    def skips_first_parameter(self, fn: tree_sitter.Node) -> bool:
        return False

    def own_attributes(self, node: tree_sitter.Node, attrs: Env) -> None:
        """Fill ``attrs`` with the attributes of a class of the current text."""

    def binds_receiver(self, fn: tree_sitter.Node) -> bool | None:
        """For a function inside a class: is it the method whose receiver the class's is
        (``True``), one binding its own (``False``), or transparent (``None``)?"""
        return True

    def method_env(self, fn: tree_sitter.Node, class_type: TypeRef) -> Env | None:
        """The receiver and parameters of a method, or ``None`` when it has no receiver."""
        return None

    def parameters(
        self, fn: tree_sitter.Node, skip_first: bool = False
    ) -> Iterator[tuple[str, list[TypeRef]]]:
        return iter(())

    def binding(self, node: tree_sitter.Node, env: Env, origins: dict[str, str], stop: int) -> bool:
        """Bind what the statement ``node`` binds; whether the walk should not descend."""
        return False

    # ---------------------------------------------------------------- helpers

    def bind(
        self, env: Env, origins: dict[str, str], name: str, types: list[TypeRef], origin: str
    ) -> None:
        if not name or not types:
            return
        env[name] = types
        origins[name] = origin

    def _collect_top_level(self) -> None:
        stack = [self.root]
        while stack:
            node = stack.pop()
            for child in node.named_children:
                kind = child.type
                if kind in self.CLASSES:
                    name = self.text(child.child_by_field_name("name"))
                    if name:
                        self.local_classes.setdefault(name, child)
                elif kind in ("function_definition", "function_declaration"):
                    name = self.text(child.child_by_field_name("name"))
                    if name:
                        self.local_funcs.setdefault(name, child)
                elif kind == "type_declaration":  # go
                    for spec in child.named_children:
                        if spec.type == "type_spec":
                            name = self.text(spec.child_by_field_name("name"))
                            if name:
                                self.local_classes.setdefault(name, spec)
                elif kind in ("decorated_definition", "export_statement"):
                    stack.append(child)

    # ---------------------------------------------------------------- the cursor

    def _chain(self, pos: tuple[int, int]) -> list[tree_sitter.Node]:
        """Function and class nodes enclosing ``pos``, outermost first."""
        chain: list[tree_sitter.Node] = []
        node = self.root
        for _ in range(MAX_DEPTH):
            nxt = None
            children = node.named_children
            for child in children:
                if child.start_point <= pos < child.end_point:
                    nxt = child
                    break
            if nxt is None:
                nxt = self.dedented_child(children, pos)
            if nxt is None:
                break
            node = nxt
            if node.type in self.FUNCS or node.type in self.CLASSES:
                chain.append(node)
        return chain

    def run(self, info: ScopeInfo, pos: tuple[int, int], lines: list[str]) -> None:
        self._collect_top_level()
        chain = self._chain(pos)
        self.scope_root = chain[0] if chain else None
        funcs = [n for n in chain if n.type in self.FUNCS]
        classes = [n for n in chain if n.type in self.CLASSES]
        cursor_byte = _byte_at(pos, lines)
        env: Env = {}
        origins: dict[str, str] = {}
        if funcs:
            info.enclosing_function = self.text(funcs[-1].child_by_field_name("name")) or None
            info.function_lines = (funcs[-1].start_point[0], funcs[-1].end_point[0])
        self_name = self.receiver(info, funcs, classes, env, origins)
        info.self_name = self_name
        # Module-level code: the module's assignments before the cursor are its locals.
        if not funcs:
            self.walk(self.root, env, origins, cursor_byte)
        for fn in funcs:
            for name, types in self.parameters(fn, skip_first=self.skips_first_parameter(fn)):
                if name == self_name:
                    continue
                env[name] = types
                origins[name] = "parameter"
            body = fn.child_by_field_name("body")
            if body is not None:
                self.walk(body, env, origins, cursor_byte)
        self._guess_by_name(info, funcs, env, origins, cursor_byte, lines)
        for name, types in env.items():
            names = tuple(dict.fromkeys(t.name for t in types if t.name))
            if not names:
                continue
            info.variables[name] = names
            info.origins[name] = origins.get(name, "local")
            for t in types:
                if t.defs and t.name not in info.types:
                    info.types[t.name] = list(t.defs)
        for base in info.class_bases:
            if base not in info.types:
                defs = self.types.resolve_name(base, self.rel, classes_only=True)
                if defs:
                    info.types[base] = list(defs)

    def _guess_by_name(
        self,
        info: ScopeInfo,
        funcs: list[tree_sitter.Node],
        env: Env,
        origins: dict[str, str],
        cursor_byte: int,
        lines: list[str],
    ) -> None:
        """Receivers left untyped, typed by their names (:mod:`quill.context.infer_names`)."""
        if funcs:
            start, end = funcs[-1].start_byte, funcs[-1].end_byte
        else:
            row = min(len(lines), _row_of(cursor_byte, self.src))
            start = len("\n".join(lines[: max(0, row - NEAR_ROWS)]).encode("utf-8", "replace"))
            end = len("\n".join(lines[: row + NEAR_ROWS]).encode("utf-8", "replace"))
        cut = max(start, min(cursor_byte, end))
        class_text = ""
        if info.class_lines is not None:
            lo, hi = info.class_lines
            class_text = "\n".join(lines[lo : hi + 1])

        def resolve(name: str) -> list[TypeRef]:
            local = self.local_class(name)
            if local is not None:
                return [local]
            defs = self.types.resolve_name(name, self.rel, classes_only=True)
            exact = tuple(d for d in defs if d.name == name)
            return [TypeRef(name, exact)] if exact else []

        guess_by_name(
            env,
            origins,
            before=self.src[start:cut].decode("utf-8", "replace"),
            after=self.src[cut:end].decode("utf-8", "replace"),
            class_text=class_text,
            self_name=info.self_name,
            skip=set(self.imports) | set(self.local_funcs) | set(self.local_classes),
            resolve=resolve,
        )

    def enter_class(
        self,
        info: ScopeInfo,
        cls_node: tree_sitter.Node,
        self_name: str | None,
        env: Env,
        origins: dict[str, str],
    ) -> None:
        """The enclosing class of the cursor, and its receiver with its attributes."""
        info.enclosing_class = self.text(cls_node.child_by_field_name("name")) or None
        info.class_lines = (cls_node.start_point[0], cls_node.end_point[0])
        info.class_bases = self.class_bases(cls_node)
        if self_name:
            env[self_name] = [self.local_type(cls_node)]
            origins[self_name] = "self"
            self.bind_attributes(cls_node, self_name, env, origins)

    def bind_attributes(
        self, cls_node: tree_sitter.Node, self_name: str, env: Env, origins: dict[str, str]
    ) -> None:
        for attr, types in self.class_attributes(cls_node).items():
            key = f"{self_name}.{attr}"
            env[key] = types
            origins[key] = "attribute"

    # ---------------------------------------------------------------- classes

    def class_attributes(self, node: tree_sitter.Node) -> Env:
        """Attribute name → types, for a class of the current text."""
        key = node.start_byte
        cached = self._class_attrs.get(key)
        if cached is not None:
            return cached
        attrs: Env = {}
        self._class_attrs[key] = attrs  # cycles (a method typing self.x via self) see this
        self.own_attributes(node, attrs)
        return attrs

    def receiver_assignments(self, cls: tree_sitter.Node, attrs: Env, first: str) -> None:
        """``self.x = ...`` / ``this.x = ...`` in the methods of ``cls`` (found by a query, not
        a walk: classes can be long). Assignments in the method named ``first`` win."""
        query = self.trees.query(self.lang, self.ATTRIBUTE_QUERY) if self.ATTRIBUTE_QUERY else None
        if query is None:
            return
        class_type = TypeRef(self.text(cls.child_by_field_name("name")), (), cls)
        found: list[tuple[bool, int, tree_sitter.Node, str, str, tree_sitter.Node]] = []
        for _pattern, caps in tree_sitter.QueryCursor(query).matches(cls):
            node = caps["assign"][0]
            fn = self._method_of(node, cls)
            if fn is None:
                continue
            is_later = self.text(fn.child_by_field_name("name")) != first
            obj, attr = self.text(caps["obj"][0]), self.text(caps["attr"][0])
            found.append((is_later, node.start_byte, fn, obj, attr, node))
        found.sort(key=lambda f: (f[0], f[1]))
        envs: dict[int, Env | None] = {}
        for _later, _start, fn, obj, attr, assign in found:
            if attr in attrs:
                continue
            if fn.start_byte not in envs:
                envs[fn.start_byte] = self.method_env(fn, class_type)
            env = envs[fn.start_byte]
            if env is None or obj not in env:
                continue
            types = self.assigned_types(assign, env)
            right = assign.child_by_field_name("right")
            if not types and right is not None and right.type == "identifier":
                # `x = Foo(); self.x = x`: the method's locals up to here.
                body = fn.child_by_field_name("body")
                if body is not None:
                    local_env = dict(env)
                    self.walk(body, local_env, {}, assign.start_byte)
                    types = self.type_of(right, local_env)
            if types:
                attrs[attr] = types

    def _method_of(self, node: tree_sitter.Node, cls: tree_sitter.Node) -> tree_sitter.Node | None:
        """The function directly enclosing ``node`` inside ``cls``, or ``None`` when a nested
        class (or a function with a receiver of its own) comes first."""
        current = node.parent
        while current is not None and current != cls:
            if current.type in self.FUNCS:
                binds = self.binds_receiver(current)
                if binds is not None:
                    return current if binds else None
            if current.type in self.CLASSES:
                return None
            current = current.parent
        return None

    # ---------------------------------------------------------------- statements

    def walk(self, node: tree_sitter.Node, env: Env, origins: dict[str, str], stop: int) -> None:
        """Record the bindings of the statements under ``node`` that start before ``stop``,
        in order, into ``env``."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.start_byte >= stop:
                continue
            kind = current.type
            handled = self.binding(current, env, origins, stop)
            if handled or (kind not in self.WALK and current is not node):
                continue
            if kind == "statement_block" and current is not node and current.end_byte <= stop:
                continue  # a closed JavaScript block: its `let`/`const` are out of scope
            children = [c for c in current.named_children if c.start_byte < stop]
            stack.extend(reversed(children))

    def assigned_types(self, assign: tree_sitter.Node, env: Env) -> list[TypeRef]:
        """Types of an assignment's target: its annotation, else its value."""
        ann = assign.child_by_field_name("type")
        if ann is not None:
            types = self.types.types_of_annotation(self.text(ann), self.rel)
            if types:
                return types
        right = assign.child_by_field_name("right")
        return self.type_of(right, env) if right is not None else []


def known_bases(names: list[str]) -> tuple[str, ...]:
    """Base class names worth resolving, once each, in order."""
    return tuple(b for b in dict.fromkeys(names) if b and b.rsplit(".", 1)[-1] not in IGNORED_TYPES)


def _row_of(byte: int, source: bytes) -> int:
    return source.count(b"\n", 0, byte)


def _byte_at(pos: tuple[int, int], lines: list[str]) -> int:
    row = min(pos[0], len(lines))
    offset = len("\n".join(lines[:row]).encode("utf-8", "surrogatepass")) + (1 if row else 0)
    width = len(lines[pos[0]].encode("utf-8", "surrogatepass")) if pos[0] < len(lines) else 0
    return offset + min(pos[1], width)  # a virtual column past the end stays on the line
