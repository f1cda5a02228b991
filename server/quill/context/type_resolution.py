"""From type names to workspace definitions, as seen from one file.

A name written in a file is resolved through that file's own top-level definitions, its
imports (``mod.Name`` through a module import) and, failing those, a name defined in few
enough files of the index (nearest first). Members of workspace classes are read from the
index: a method's return annotation (from its header line, or the file when the header is
broken over lines), a field's annotation, inherited members through the class's bases.

Classes of the text being edited are not in the index yet (or are stale there): the caller
supplies them (``local_class``) and :mod:`quill.context.inference` reads their members from
the syntax tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import tree_sitter

from quill.context.annotations import (
    JS_FAMILY,
    SELF_TYPES,
    annotation_types,
    bases_from_signature,
    field_type,
    header_end,
    return_annotation,
)
from quill.context.imports import ImportResolver, ResolvedImport
from quill.index.languages import language_for_path
from quill.index.records import Definition

__all__ = ["CLASS_KINDS", "MAX_CHAIN", "Env", "TypeRef", "WorkspaceTypes"]

CLASS_KINDS = frozenset({"class", "interface"})
MAX_CHAIN = 4  # attribute/call chains followed, at most
MAX_GLOBAL_MATCHES = 4  # a type name defined in more files than this is not guessed
HEADER_LINES = 30  # lines read for a definition header broken over lines


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type: its name, its workspace definitions, and its class node when it is a class of
    the current text."""

    name: str
    defs: tuple[Definition, ...] = ()
    node: tree_sitter.Node | None = None


#: names in scope → their types
Env = dict[str, list[TypeRef]]


class WorkspaceTypes:
    """Type names resolved from file ``rel`` (the one being edited, in ``language``) or from
    the files its types lead to. ``imports`` are ``rel``'s resolved imports by local name;
    ``local_class(name)`` is a class of the current text, or ``None``."""

    def __init__(
        self,
        resolver: ImportResolver,
        rel: str,
        language: str,
        imports: Mapping[str, ResolvedImport],
        local_class: Callable[[str], TypeRef | None],
    ) -> None:
        self.resolver = resolver
        self.rel = rel
        self.lang = language
        self.imports = imports
        self.local_class = local_class
        self._resolved: dict[tuple[str, str], tuple[Definition, ...]] = {}

    # ---------------------------------------------------------------- types of names

    def class_types(self, name: str, context: str | None = None) -> list[TypeRef]:
        """Types of ``new name(...)`` / a constructor call written as ``name``."""
        context = context or self.rel
        if "." not in name and context == self.rel:
            local = self.local_class(name)
            if local is not None:
                return [local]
        defs = self.resolve_name(name, context, classes_only=True)
        if defs:
            return [TypeRef(defs[0].name, tuple(defs))]
        return [TypeRef(name)] if name else []

    def types_of_annotation(self, annotation: str, context: str) -> list[TypeRef]:
        """The types named in an annotation written in file ``context``."""
        out: list[TypeRef] = []
        for name in annotation_types(annotation, self.lang if context == self.rel else None):
            if context == self.rel and "." not in name:
                local = self.local_class(name)
                if local is not None:
                    out.append(local)
                    continue
            defs = self.resolve_name(name, context, classes_only=True)
            out.append(TypeRef(defs[0].name if defs else name, defs))
        return out

    def types_from_defs(self, defs: Sequence[Definition], call: bool) -> list[TypeRef]:
        """Types of a name with these definitions: written alone (a class, in Go) or called
        (a class's instance, a function's return annotation)."""
        classes = [d for d in defs if d.kind in CLASS_KINDS]
        if classes:
            return [TypeRef(classes[0].name, tuple(classes))] if call or self.lang == "go" else []
        if not call:
            return []
        for d in defs:
            if d.kind in ("function", "method"):
                ann = self.return_annotation_of(d)
                if ann:
                    return self.types_of_annotation(ann, d.path)
        return []

    # ---------------------------------------------------------------- members

    def member_types(self, owner: TypeRef, attr: str, call: bool, depth: int) -> list[TypeRef]:
        """Types of ``owner.attr`` (``call``: of ``owner.attr(...)``) for a workspace class,
        its bases included."""
        if depth > MAX_CHAIN:
            return []
        for d in owner.defs:
            members = self.resolver.members_of(d.path, d.qualified_name)
            found = [m for m in members if m.name == attr]
            for m in found:
                types = self._member_def_types(m, owner, call)
                if types:
                    return types
            if not found:
                for base in bases_from_signature(d.signature or "", d.language or self.lang):
                    for base_def in self.resolve_name(base, d.path, classes_only=True):
                        types = self.member_types(
                            TypeRef(base_def.name, (base_def,)), attr, call, depth + 1
                        )
                        if types:
                            return types
        return []

    def _member_def_types(self, m: Definition, owner: TypeRef, call: bool) -> list[TypeRef]:
        if m.kind in ("method", "function"):
            ann = self.return_annotation_of(m)
            if ann is None:
                return []
            if ann.strip("\"' ") in SELF_TYPES or ann.strip("\"' ") == owner.name:
                return [owner]
            return self.types_of_annotation(ann, m.path)
        if call:
            return []
        found = field_type(m.signature or "", m.language or self.lang)
        if found is None:
            return []
        kind, text = found
        if kind == "annotation":
            return self.types_of_annotation(text, m.path)
        return self.class_types(text, m.path)

    def return_annotation_of(self, d: Definition) -> str | None:
        """The return annotation of a workspace function or method."""
        language = d.language or language_for_path(d.path) or self.lang
        header = d.signature or ""
        ann = return_annotation(header, d.name, language)
        if ann is not None or header.count("(") <= header.count(")"):
            return ann
        # A header broken over lines: read it from the file.
        text = self.resolver.text_of(d.path)
        if text is None:
            return None
        lines = text.split("\n")[d.start_line : d.start_line + HEADER_LINES]
        joined = " ".join(line.strip() for line in lines)
        end = ":" if language == "python" else "{"
        return return_annotation(joined[: header_end(joined, end) + 1], d.name, language)

    # ---------------------------------------------------------------- names

    def resolve_name(
        self, name: str, context: str, *, classes_only: bool = False
    ) -> tuple[Definition, ...]:
        """Definitions of a name as seen from file ``context``: its own top-level
        definitions, its imports (``mod.Name`` through a module import), then the index."""
        key = (context, name + ("#c" if classes_only else ""))
        cached = self._resolved.get(key)
        if cached is not None:
            return cached
        found = self._resolve_name(name, context)
        if classes_only:
            found = tuple(d for d in found if d.kind in CLASS_KINDS)
        self._resolved[key] = found
        return found

    def _resolve_name(self, name: str, context: str) -> tuple[Definition, ...]:
        language = language_for_path(context) or self.lang
        if "." in name:
            head, _, last = name.rpartition(".")
            imports = self.imports if context == self.rel else {}
            imp = imports.get(head)
            if imp is not None and imp.kind == "module":
                defs = tuple(d for d in imp.definitions if d.name == last)
                if defs:
                    return defs
                if imp.module_path and language == "python":
                    kind, _p, found = self.resolver.python_member(imp.module_path, last, set())
                    if kind == "name":
                        return tuple(found)
            if language == "go" and context != self.rel:
                # `pkg.Type` in another Go file: that file's imports.
                for other in self.resolver.resolve_file(context):
                    if other.local_name == head:
                        return tuple(d for d in other.definitions if d.name == last)
            name = last
        if context == self.rel:
            imp = self.imports.get(name)
            if imp is not None:
                return tuple(imp.definitions) if imp.kind == "name" else ()
            own = tuple(
                d
                for d in self.resolver.definitions_in(self.rel)
                if d.name == name and d.scope is None
            )
            if own:
                return own
        else:
            own_found = self._defined_in(name, context, language)
            if own_found:
                return tuple(own_found)
        everywhere = [d for d in self.resolver.definitions_named(name) if d.scope is None]
        if not everywhere or len({d.path for d in everywhere}) > MAX_GLOBAL_MATCHES:
            return ()
        everywhere.sort(key=lambda d: (d.path == self.rel, _distance(d.path, context), d.path))
        return tuple(everywhere)

    def _defined_in(self, name: str, context: str, language: str) -> list[Definition]:
        """``name`` as another file sees it: defined or imported there (Python, JavaScript),
        or defined in its package (Go: its folder)."""
        if language == "python":
            kind, _p, found = self.resolver.python_member(context, name, set())
            return list(found) if kind == "name" else []
        if language in JS_FAMILY:
            member = self.resolver.js_member(context, name, set())
            return member[1] if member is not None else []
        directory = _folder(context)
        return [
            d
            for d in self.resolver.definitions_named(name)
            if d.scope is None and _folder(d.path) == directory
        ]


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _distance(path: str, other: str) -> int:
    """Folders between two files (up to their common folder and down again)."""
    a = path.split("/")[:-1]
    b = other.split("/")[:-1]
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return len(a) + len(b) - 2 * common
