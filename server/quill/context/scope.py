"""Light scope and type inference at a cursor: which values are in scope and of which types.

No type checker: the current text is parsed with tree-sitter and a handful of patterns are
read, the ones that decide what the next statement most likely uses:

* the enclosing function, method and class; ``self`` / ``this`` / a Go receiver is the
  enclosing class, whose bases are read from its header;
* ``self.x`` / ``this.x``: annotated or assigned anywhere in the class (``self.x = Foo()``,
  ``self.x = param`` with an annotated parameter, ``self.x: Foo``, ``x: Foo`` in the class
  body, TypeScript fields and constructor parameter properties, Go struct fields);
* parameters, by their annotations (Python, TypeScript, Go);
* locals assigned before the cursor: ``x = Foo(...)``, ``x = make_foo()`` where ``make_foo``'s
  header has a return annotation (in this file or, via the index, anywhere in the workspace),
  ``x = obj.method()`` likewise, ``with Foo() as x``, ``for x in xs`` where ``xs`` is a
  ``list[Foo]`` / ``Sequence[Foo]`` / ``Foo[]`` / ``[]Foo``, ``let x: Foo``, ``x := NewFoo()``.

Type names found are resolved to workspace definitions through the file's imports (see
:mod:`quill.context.imports`) or, failing that, by a unique enough name in the index, so a
:class:`ScopeInfo` says both what a variable's type is called and where it is defined.

Where the pieces live: the walk shared by all languages in :mod:`quill.context.inference`,
one module per language (:mod:`~quill.context.infer_python`,
:mod:`~quill.context.infer_javascript`, :mod:`~quill.context.infer_go`), names to workspace
definitions in :mod:`quill.context.type_resolution`, annotations read as text in
:mod:`quill.context.annotations` (re-exported here). Trees come from the one tree cache,
:class:`quill.index.trees.TreeCache`, so the buffer being edited is parsed incrementally.

Languages: Python, JavaScript, TypeScript/TSX and Go; every other language gets an empty
:class:`ScopeInfo`. Never raises for bad input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from quill.context.annotations import (
    annotation_types,
    bases_from_signature,
    element_annotation,
    return_annotation,
)
from quill.context.imports import ImportResolver, ResolvedImport
from quill.context.infer_go import GoInference
from quill.context.infer_javascript import JavaScriptInference
from quill.context.infer_python import PythonInference
from quill.context.inference import Inference
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.index.trees import TreeCache

log = logging.getLogger(__name__)

__all__ = [
    "ScopeInfo",
    "annotation_types",
    "bases_from_signature",
    "element_annotation",
    "infer_scope",
    "return_annotation",
    "trees_of",
]

_INFERENCE: Mapping[str, type[Inference]] = MappingProxyType(
    {
        "python": PythonInference,
        "javascript": JavaScriptInference,
        "typescript": JavaScriptInference,
        "tsx": JavaScriptInference,
        "go": GoInference,
    }
)
SUPPORTED = frozenset(_INFERENCE)


@dataclass(slots=True)
class ScopeInfo:
    """What is in scope at a position.

    ``variables`` maps names as written (``self``, ``self.layout``, ``this.layout``,
    ``layout``, ``s.origin``) to the names of their types, in this order: the receiver, its
    attributes, parameters (innermost function last), locals in the order they were assigned.
    ``origins`` says for each variable where it came from (``"self"``, ``"attribute"``,
    ``"parameter"``, ``"local"``). ``types`` maps each type name found to its workspace
    definitions (empty when the type is not defined in the workspace, or only in this file).
    Positions are 0-based lines.
    """

    language: str | None = None
    enclosing_class: str | None = None
    class_bases: tuple[str, ...] = ()
    enclosing_function: str | None = None
    self_name: str | None = None
    function_lines: tuple[int, int] | None = None
    class_lines: tuple[int, int] | None = None
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    types: dict[str, list[Definition]] = field(default_factory=dict)

    def definitions_of(self, variable: str) -> list[Definition]:
        """The workspace class definitions of a variable's types."""
        out: list[Definition] = []
        for name in self.variables.get(variable, ()):
            out.extend(self.types.get(name, ()))
        return out


def infer_scope(
    index: WorkspaceIndex,
    rel_path: str,
    text: str,
    language: str | None,
    line: int,
    column: int,
    *,
    imports: Sequence[ResolvedImport] | None = None,
    resolver: ImportResolver | None = None,
    trees: TreeCache | None = None,
) -> ScopeInfo:
    """Scope and types at (``line``, ``column``) of ``text`` (0-based; the column counts
    characters of the line). ``imports`` are the file's resolved imports when the caller
    already has them. ``trees`` is the tree cache to parse through (keyed by ``rel_path``);
    by default the index's. Never raises: a language without support, or a failure, gives
    an empty (or partial) :class:`ScopeInfo`."""
    language = language or language_for_path(rel_path)
    info = ScopeInfo(language=language)
    inference_type = _INFERENCE.get(language) if language is not None else None
    if language is None or inference_type is None:
        return info
    trees = trees if trees is not None else trees_of(index)
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = trees.parse(rel_path, language, source)
    except (ValueError, RuntimeError, MemoryError) as exc:
        log.debug("%s: cannot parse for scope inference: %s", rel_path, exc)
        return info
    if tree is None:
        return info
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1)) if lines else 0
    row_text = lines[line] if lines else ""
    column = max(0, column)
    # Past the end of the line (an editor's virtual indentation) the column is kept as is.
    byte_col = len(row_text[:column].encode("utf-8", "surrogatepass"))
    byte_col += max(0, column - len(row_text))
    resolver = resolver or ImportResolver(index)
    if imports is None:
        try:
            imports = resolver.resolve_file(rel_path, text=text)
        except (OSError, ValueError, RecursionError) as exc:
            log.debug("%s: import resolution failed: %s", rel_path, exc)
            imports = []
    inference = inference_type(resolver, rel_path, language, source, tree, imports, trees)
    try:
        inference.run(info, (line, byte_col), lines)
    except (ValueError, RecursionError, IndexError, KeyError, AttributeError, TypeError) as exc:
        log.debug("%s:%d: scope inference stopped: %s", rel_path, line, exc, exc_info=True)
    return info


def trees_of(index: WorkspaceIndex) -> TreeCache:
    """The index's tree cache, the one its live documents use (a fresh one for a stand-in
    index that has none: every parse is then a full one)."""
    trees = getattr(index, "trees", None)
    return trees if isinstance(trees, TreeCache) else TreeCache()
