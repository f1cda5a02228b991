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

Languages: Python, JavaScript, TypeScript/TSX and Go; every other language gets an empty
:class:`ScopeInfo`. Never raises for bad input.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import tree_sitter

from quill.context.imports import ImportResolver, ResolvedImport
from quill.index.languages import get_language, get_parser, language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex

log = logging.getLogger(__name__)

__all__ = [
    "ScopeInfo",
    "annotation_types",
    "bases_from_signature",
    "element_annotation",
    "infer_scope",
    "return_annotation",
]

CLASS_KINDS = frozenset({"class", "interface"})
SUPPORTED = frozenset({"python", "javascript", "typescript", "tsx", "go"})
JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
MAX_CHAIN = 4  # attribute/call chains followed, at most
MAX_GLOBAL_MATCHES = 4  # a type name defined in more files than this is not guessed

#: names that are not worth looking up as workspace types (builtins, wrappers, primitives)
IGNORED_TYPES = frozenset(
    """
    None NoneType Optional Union Any object type Type str int float bool bytes bytearray complex
    list List dict Dict set Set frozenset FrozenSet tuple Tuple Sequence MutableSequence
    Mapping MutableMapping Iterable Iterator Generator AsyncIterator AsyncIterable
    AsyncGenerator Awaitable Coroutine Callable Collection Container Literal Final ClassVar
    Annotated Self TypeVar Generic Protocol ABC NoReturn Never typing collections abc deque
    Deque DefaultDict defaultdict OrderedDict Counter ChainMap KeysView ValuesView ItemsView
    AbstractSet TypeAlias TypeGuard Required NotRequired Unpack
    string number boolean void undefined null unknown never any symbol bigint this
    Array ReadonlyArray Promise PromiseLike Record Partial Readonly Pick Omit Exclude Extract
    NonNullable ReturnType InstanceType Parameters Awaited Map WeakMap WeakSet Date RegExp
    Error Function Object String Number Boolean Symbol keyof typeof readonly unique infer
    int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr float32 float64
    complex64 complex128 byte rune error interface struct chan func map
    """.split()
)
_PY_CONTAINERS = frozenset(
    """list List Sequence MutableSequence Iterable Iterator set Set frozenset FrozenSet
    Collection AbstractSet deque Deque Generator AsyncIterator AsyncIterable AsyncGenerator
    tuple Tuple KeysView ValuesView Reversible dict Dict Mapping MutableMapping DefaultDict
    defaultdict OrderedDict Counter""".split()
)
_TS_CONTAINERS = frozenset("Array ReadonlyArray Set ReadonlySet Iterable Iterator".split())
_TYPE_WORD = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_STRING = re.compile(r"'[^']*'|`[^`]*`")
_PY_FIELD = re.compile(r"^\s*[A-Za-z_]\w*\s*:\s*([^=]+?)\s*(?:=.*)?$")
_PY_FIELD_VALUE = re.compile(r"^\s*[A-Za-z_]\w*\s*=\s*([A-Za-z_][\w.]*)\s*\(")
_TS_FIELD = re.compile(
    r"^\s*(?:(?:public|private|protected|readonly|static|declare|override)\s+)*"
    r"#?[A-Za-z_$][\w$]*[?!]?\s*:\s*([^=;]+?)\s*(?:[=;].*)?$"
)
_TS_FIELD_NEW = re.compile(r"=\s*new\s+([A-Za-z_$][\w$.]*)")
_GO_FIELD = re.compile(r"^\s*[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*\s+([^`/]+?)\s*(?:`.*)?(?://.*)?$")
_SELF_TYPES = frozenset({"Self", "this"})


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
) -> ScopeInfo:
    """Scope and types at (``line``, ``column``) of ``text`` (0-based; the column counts
    characters of the line). ``imports`` are the file's resolved imports when the caller
    already has them. Never raises: a language without support, or a failure, gives an
    empty (or partial) :class:`ScopeInfo`."""
    language = language or language_for_path(rel_path)
    info = ScopeInfo(language=language)
    if language not in SUPPORTED:
        return info
    parser = get_parser(language)
    if parser is None:
        return info
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = _trees.parse(parser, language, rel_path, source)
    except (ValueError, RuntimeError, MemoryError) as exc:
        log.debug("%s: cannot parse for scope inference: %s", rel_path, exc)
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
    inference = _Inference(index, resolver, rel_path, language, source, tree, imports)
    try:
        inference.run(info, (line, byte_col), lines)
    except (ValueError, RecursionError, IndexError, KeyError, AttributeError, TypeError) as exc:
        log.debug("%s:%d: scope inference stopped: %s", rel_path, line, exc, exc_info=True)
    return info


# ---------------------------------------------------------------------- parsing


class _TreeCache:
    """The last syntax tree of a few files, so that the next version of a buffer is parsed
    incrementally (the edit is found by common prefix and suffix). Trees handed out are
    never edited afterwards: the cache edits a copy."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._trees: OrderedDict[tuple[str, str], tuple[bytes, tree_sitter.Tree]] = OrderedDict()

    def parse(
        self, parser: tree_sitter.Parser, language: str, key: str, source: bytes
    ) -> tree_sitter.Tree:
        with self._lock:
            entry = self._trees.pop((language, key), None)
        tree: tree_sitter.Tree | None = None
        if entry is not None:
            old, old_tree = entry
            if old == source:
                tree = old_tree
            else:
                start = _common_prefix(old, source)
                tail = _common_suffix(old, source, min(len(old), len(source)) - start)
                old_end, new_end = len(old) - tail, len(source) - tail
                edited = old_tree.copy()
                edited.edit(
                    start_byte=start,
                    old_end_byte=old_end,
                    new_end_byte=new_end,
                    start_point=_point(old, start),
                    old_end_point=_point(old, old_end),
                    new_end_point=_point(source, new_end),
                )
                tree = parser.parse(source, edited)
        if tree is None:
            tree = parser.parse(source)
        with self._lock:
            self._trees[(language, key)] = (source, tree)
            while len(self._trees) > self.size:
                self._trees.popitem(last=False)
        return tree


def _common_prefix(a: bytes, b: bytes) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    lo, hi = 0, max(0, limit)
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid :] == b[lb - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    return (row, offset - (source.rfind(b"\n", 0, offset) + 1))


_trees = _TreeCache()

_ATTRIBUTE_QUERIES: dict[str, str] = {
    "python": """(assignment left: (attribute object: (identifier) @obj
                  attribute: (identifier) @attr)) @assign""",
    "javascript": """(assignment_expression left: (member_expression object: (this) @obj
                      property: (property_identifier) @attr)) @assign""",
}
_ATTRIBUTE_QUERIES["typescript"] = _ATTRIBUTE_QUERIES["javascript"]
_ATTRIBUTE_QUERIES["tsx"] = _ATTRIBUTE_QUERIES["javascript"]
_compiled: dict[str, tree_sitter.Query | None] = {}


def _attribute_query(language: str) -> tree_sitter.Query | None:
    if language not in _compiled:
        source = _ATTRIBUTE_QUERIES.get(language)
        lang = get_language(language) if source else None
        query = None
        if lang is not None and source is not None:
            try:
                query = tree_sitter.Query(lang, source)
            except (tree_sitter.QueryError, ValueError) as exc:
                log.error("attribute query for %s does not compile: %s", language, exc)
        _compiled[language] = query
    return _compiled[language]


# ---------------------------------------------------------------------- annotations


def annotation_types(annotation: str, language: str | None = None) -> tuple[str, ...]:
    """Workspace-worthy type names in an annotation: ``Optional[Foo]`` → ``("Foo",)``,
    ``"Brush | None"`` → ``("Brush",)``, ``Promise<Res>`` → ``("Res",)``, ``*g.Point`` →
    ``("g.Point",)``. Builtins, primitives and wrappers are left out."""
    text = annotation.strip()
    if language == "python" or language is None:
        text = text.replace('"', " ").replace("'", " ")
    else:
        text = _STRING.sub(" ", text).replace('"', " ")
    out: list[str] = []
    for word in _TYPE_WORD.findall(text):
        last = word.rsplit(".", 1)[-1]
        if last in IGNORED_TYPES or word in IGNORED_TYPES or word.startswith("typing."):
            continue
        if len(last) == 1 and last.isupper():
            continue  # a type variable
        if word not in out:
            out.append(word)
    return tuple(out)


def element_annotation(annotation: str, language: str | None = None) -> str | None:
    """The element type of a container annotation (``list[Foo]``, ``Sequence["Foo"]``,
    ``Foo[]``, ``Array<Foo>``, ``[]*Foo``), or ``None`` when it is not a known container."""
    text = annotation.strip().strip("\"'").strip()
    if language == "go":
        match = re.match(r"^\[\d*\]\s*(.+)$", text)
        if match:
            return match.group(1)
        match = re.match(r"^map\[[^\]]+\]\s*(.+)$", text)
        return match.group(1) if match else None
    # Unwrap Optional[...] / X | None.
    parts = [p.strip() for p in _split_top(text, "|")]
    parts = [p for p in parts if p not in ("None", "null", "undefined")]
    if len(parts) == 1:
        text = parts[0]
    match = re.match(r"^(?:typing\.)?Optional\[(.*)\]$", text)
    if match:
        text = match.group(1).strip()
    if language in JS_FAMILY:
        if text.startswith("readonly "):
            text = text[9:].strip()
        if text.endswith("[]"):
            return text[:-2].strip("() ")
        match = re.match(r"^([\w.$]+)\s*<(.*)>$", text)
        if match and match.group(1).rsplit(".", 1)[-1] in _TS_CONTAINERS:
            return _split_top(match.group(2), ",")[0].strip()
        return None
    match = re.match(r"^([\w.]+)\s*\[(.*)\]$", text)
    if match and match.group(1).rsplit(".", 1)[-1] in _PY_CONTAINERS:
        return _split_top(match.group(2), ",")[0].strip()
    return None


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def return_annotation(header: str, name: str, language: str) -> str | None:
    """The return annotation written in a definition header (``def f(...) -> Foo:``,
    ``function f(...): Foo {``, ``func (r *T) F(...) *Foo {``), or ``None``; also ``None``
    when the header's parameter list does not close in ``header``."""
    match = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", header)
    start = match.end() if match else 0
    open_at = header.find("(", start)
    if open_at < 0:
        return None
    depth = 0
    close_at = -1
    for i in range(open_at, len(header)):
        ch = header[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                close_at = i
                break
    if close_at < 0:
        return None
    tail = header[close_at + 1 :].strip()
    if language == "python":
        m = re.match(r"^->\s*(.+?)\s*:\s*(?:#.*)?$", tail) or re.match(r"^->\s*(.+?)\s*:", tail)
        return m.group(1) if m else None
    if language in JS_FAMILY:
        m = re.match(r"^:\s*(.+?)\s*(?:\{.*|=>.*|;)?$", tail)
        return m.group(1) if m else None
    if language == "go":
        m = re.match(r"^(.+?)\s*\{?\s*$", tail)
        result = m.group(1).strip() if m else ""
        if result.startswith("(") and result.endswith(")"):
            result = _split_top(result[1:-1], ",")[0].strip()
            result = result.split()[-1] if result.split() else ""
        return result or None
    return None


# ---------------------------------------------------------------------- inference


@dataclass(frozen=True, slots=True)
class _Type:
    """A type: its name, its workspace definitions, and its class node when it is a class of
    the current text."""

    name: str
    defs: tuple[Definition, ...] = ()
    node: tree_sitter.Node | None = None


_Env = dict[str, list[_Type]]

_PY_FUNCS = frozenset({"function_definition"})
_PY_CLASSES = frozenset({"class_definition"})
_JS_FUNCS = frozenset(
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
_JS_CLASSES = frozenset({"class_declaration", "class", "abstract_class_declaration"})
_GO_FUNCS = frozenset({"function_declaration", "method_declaration", "func_literal"})
_PY_COMPOUND = frozenset(
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
_PY_WALK = frozenset(
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
_JS_WALK = frozenset(
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
_GO_WALK = frozenset(
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


class _Inference:
    def __init__(
        self,
        index: WorkspaceIndex,
        resolver: ImportResolver,
        rel_path: str,
        language: str,
        source: bytes,
        tree: tree_sitter.Tree,
        imports: Sequence[ResolvedImport],
    ) -> None:
        self.index = index
        self.resolver = resolver
        self.rel = rel_path
        self.lang = language
        self.src = source
        self.root = tree.root_node
        self.imports: dict[str, ResolvedImport] = {}
        for imp in imports:
            self.imports.setdefault(imp.local_name, imp)
        self.local_classes: dict[str, tree_sitter.Node] = {}
        self.scope_root: tree_sitter.Node | None = None
        self._raw_cache: dict[str, str] | None = None
        self.local_funcs: dict[str, tree_sitter.Node] = {}
        self._class_attrs: dict[int, _Env] = {}
        self._resolved: dict[tuple[str, str], tuple[Definition, ...]] = {}
        if language == "python":
            self.funcs, self.classes, self.walk_types = _PY_FUNCS, _PY_CLASSES, _PY_WALK
        elif language == "go":
            self.funcs, self.classes, self.walk_types = _GO_FUNCS, frozenset(), _GO_WALK
        else:
            self.funcs, self.classes, self.walk_types = _JS_FUNCS, _JS_CLASSES, _JS_WALK

    # ---------------------------------------------------------------- helpers

    def text(self, node: tree_sitter.Node | None) -> str:
        if node is None:
            return ""
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def _collect_top_level(self) -> None:
        stack = [self.root]
        while stack:
            node = stack.pop()
            for child in node.named_children:
                kind = child.type
                if kind in self.classes:
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

    # ---------------------------------------------------------------- cursor

    def _chain(self, pos: tuple[int, int]) -> list[tree_sitter.Node]:
        """Function and class nodes enclosing ``pos``, outermost first."""
        chain: list[tree_sitter.Node] = []
        node = self.root
        for _ in range(200):
            nxt = None
            children = node.named_children
            for child in children:
                if child.start_point <= pos < child.end_point:
                    nxt = child
                    break
            if nxt is None and self.lang == "python":
                before = [c for c in children if c.end_point <= pos]
                if before:
                    last = before[-1]
                    if last.type == "block":
                        if pos[1] >= last.start_point[1] or last.start_point[0] == pos[0]:
                            nxt = last
                    elif last.type in _PY_COMPOUND and pos[1] > last.start_point[1]:
                        nxt = last
            if nxt is None:
                break
            node = nxt
            if node.type in self.funcs or node.type in self.classes:
                chain.append(node)
        return chain

    def run(self, info: ScopeInfo, pos: tuple[int, int], lines: list[str]) -> None:
        self._collect_top_level()
        chain = self._chain(pos)
        self.scope_root = chain[0] if chain else None
        funcs = [n for n in chain if n.type in self.funcs]
        classes = [n for n in chain if n.type in self.classes]
        cursor_byte = self._byte_at(pos, lines)
        env: _Env = {}
        origins: dict[str, str] = {}
        cls_node: tree_sitter.Node | None = None
        self_name: str | None = None
        if funcs:
            info.enclosing_function = self.text(funcs[-1].child_by_field_name("name")) or None
            info.function_lines = (funcs[-1].start_point[0], funcs[-1].end_point[0])
        # The receiver.
        if self.lang == "python":
            for fn in reversed(funcs):
                owner = _py_owner_class(fn)
                if owner is not None:
                    cls_node = owner
                    if not _py_is_static(fn):
                        self_name = _py_first_param(self, fn)
                    break
            if cls_node is None and classes:
                cls_node = classes[-1]
        elif self.lang in JS_FAMILY:
            if classes:
                cls_node = classes[-1]
                self_name = "this"
        elif self.lang == "go":
            for fn in reversed(funcs):
                if fn.type == "method_declaration":
                    recv = fn.child_by_field_name("receiver")
                    name, type_text = _go_receiver(self, recv)
                    if type_text:
                        base = type_text.lstrip("*").split("[", 1)[0]
                        cls_node = self.local_classes.get(base)
                        info.enclosing_class = base
                        self_name = name
                        if name:
                            env[name] = self.types_of_annotation(type_text, self.rel)
                            origins[name] = "self"
                        if cls_node is not None:
                            for attr, types in self.class_attributes(cls_node).items():
                                if name:
                                    env[f"{name}.{attr}"] = types
                                    origins[f"{name}.{attr}"] = "attribute"
                    break
        if cls_node is not None and self.lang != "go":
            info.enclosing_class = self.text(cls_node.child_by_field_name("name")) or None
            info.class_lines = (cls_node.start_point[0], cls_node.end_point[0])
            info.class_bases = self.class_bases(cls_node)
            if self_name:
                env[self_name] = [self.local_type(cls_node)]
                origins[self_name] = "self"
                for attr, types in self.class_attributes(cls_node).items():
                    key = f"{self_name}.{attr}"
                    env[key] = types
                    origins[key] = "attribute"
        info.self_name = self_name
        # Module-level code: the module's assignments before the cursor are its locals.
        if not funcs:
            self.walk(self.root, env, origins, cursor_byte)
        for fn in funcs:
            is_method = self.lang == "python" and _py_owner_class(fn) is not None
            for name, types in self.parameters(fn, skip_first=is_method and not _py_is_static(fn)):
                if name == self_name:
                    continue
                env[name] = types
                origins[name] = "parameter"
            body = fn.child_by_field_name("body")
            if body is not None:
                self.walk(body, env, origins, cursor_byte)
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
                defs = self.resolve_name(base, self.rel, classes_only=True)
                if defs:
                    info.types[base] = list(defs)

    def _byte_at(self, pos: tuple[int, int], lines: list[str]) -> int:
        row = min(pos[0], len(lines))
        offset = len("\n".join(lines[:row]).encode("utf-8", "surrogatepass")) + (1 if row else 0)
        width = len(lines[pos[0]].encode("utf-8", "surrogatepass")) if pos[0] < len(lines) else 0
        return offset + min(pos[1], width)  # a virtual column past the end stays on the line

    # ---------------------------------------------------------------- classes

    def local_type(self, node: tree_sitter.Node) -> _Type:
        name_node = node.child_by_field_name("name")
        name = self.text(name_node)
        defs = tuple(
            d
            for d in self.resolver.definitions_in(self.rel)
            if d.name == name and d.kind in CLASS_KINDS
        )
        return _Type(name, defs, node)

    def class_bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        out: list[str] = []
        if self.lang == "python":
            supers = node.child_by_field_name("superclasses")
            if supers is not None:
                for arg in supers.named_children:
                    if arg.type in ("identifier", "attribute"):
                        out.append(self.text(arg))
                    elif arg.type == "subscript":
                        out.append(self.text(arg.child_by_field_name("value")))
        else:
            for child in node.named_children:
                if child.type == "class_heritage":
                    for clause in child.named_children:
                        for item in clause.named_children:
                            if item.type in ("identifier", "type_identifier", "member_expression"):
                                out.append(self.text(item))
                            elif item.type == "generic_type":
                                out.append(self.text(item.child_by_field_name("name")))
                    if child.named_children and child.named_children[0].type not in (
                        "extends_clause",
                        "implements_clause",
                    ):
                        out.extend(
                            self.text(c)
                            for c in child.named_children
                            if c.type in ("identifier", "member_expression")
                        )
        return tuple(
            b for b in dict.fromkeys(out) if b and b.rsplit(".", 1)[-1] not in IGNORED_TYPES
        )

    def class_attributes(self, node: tree_sitter.Node) -> _Env:
        """Attribute name → types, for a class of the current text."""
        key = node.start_byte
        cached = self._class_attrs.get(key)
        if cached is not None:
            return cached
        attrs: _Env = {}
        self._class_attrs[key] = attrs  # cycles (a method typing self.x via self) see this
        if self.lang == "python":
            self._py_class_attributes(node, attrs)
        elif self.lang in JS_FAMILY:
            self._js_class_attributes(node, attrs)
        elif self.lang == "go":
            struct = node.child_by_field_name("type")
            if struct is not None and struct.type == "struct_type":
                for fl in struct.named_children:
                    for fd in fl.named_children:
                        if fd.type != "field_declaration":
                            continue
                        type_text = self.text(fd.child_by_field_name("type"))
                        types = self.types_of_annotation(type_text, self.rel)
                        for child in fd.named_children:
                            if child.type == "field_identifier" and types:
                                attrs.setdefault(self.text(child), types)
        return attrs

    def _py_class_attributes(self, node: tree_sitter.Node, attrs: _Env) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        for stmt in body.named_children:
            if stmt.type == "expression_statement" and stmt.named_children:
                assign = stmt.named_children[0]
                if assign.type == "assignment":
                    left = assign.child_by_field_name("left")
                    if left is not None and left.type == "identifier":
                        types = self._assigned_types(assign, {})
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
                            types = self.types_of_annotation(self.text(ret), self.rel, node)
                            if types:
                                attrs.setdefault(name, types)
        # `__init__` first: it is where attributes get their types.
        self._receiver_assignments(node, attrs, "__init__")

    def _js_class_attributes(self, node: tree_sitter.Node, attrs: _Env) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        class_type = _Type(self.text(node.child_by_field_name("name")), (), node)
        for member in body.named_children:
            if member.type in ("public_field_definition", "field_definition"):
                name = self.text(
                    member.child_by_field_name("name") or member.child_by_field_name("property")
                )
                ann = member.child_by_field_name("type")
                value = member.child_by_field_name("value")
                types: list[_Type] = []
                if ann is not None:
                    types = self.types_of_annotation(self.text(ann).lstrip(":"), self.rel, node)
                if not types and value is not None:
                    types = self.type_of(value, {"this": [class_type]})
                if name and types:
                    attrs.setdefault(name, types)
            elif member.type == "method_definition":
                if self.text(member.child_by_field_name("name")) == "constructor":
                    params = member.child_by_field_name("parameters")
                    for p in params.named_children if params is not None else ():
                        if any(
                            c.type in ("accessibility_modifier", "readonly")
                            or self.text(c) == "readonly"
                            for c in p.children
                        ):
                            pname = self.text(p.child_by_field_name("pattern"))
                            ann = p.child_by_field_name("type")
                            if pname and ann is not None:
                                types = self.types_of_annotation(
                                    self.text(ann).lstrip(":"), self.rel, node
                                )
                                if types:
                                    attrs.setdefault(pname, types)
        self._receiver_assignments(node, attrs, "constructor")

    def _receiver_assignments(self, cls: tree_sitter.Node, attrs: _Env, first: str) -> None:
        """``self.x = ...`` / ``this.x = ...`` in the methods of ``cls`` (found by a query, not
        a walk: classes can be long). Assignments in the method named ``first`` win."""
        query = _attribute_query(self.lang)
        if query is None:
            return
        class_type = _Type(self.text(cls.child_by_field_name("name")), (), cls)
        found: list[tuple[bool, int, tree_sitter.Node, str, str, tree_sitter.Node]] = []
        for _pattern, caps in tree_sitter.QueryCursor(query).matches(cls):
            node = caps["assign"][0]
            fn = self._method_of(node, cls)
            if fn is None:
                continue
            is_later = self.text(fn.child_by_field_name("name")) != first
            found.append(
                (
                    is_later,
                    node.start_byte,
                    fn,
                    self.text(caps["obj"][0]),
                    self.text(caps["attr"][0]),
                    node,
                )
            )
        found.sort(key=lambda f: (f[0], f[1]))
        envs: dict[int, _Env | None] = {}
        for _later, _start, fn, obj, attr, assign in found:
            if attr in attrs:
                continue
            if fn.start_byte not in envs:
                envs[fn.start_byte] = self._method_env(fn, class_type)
            env = envs[fn.start_byte]
            if env is None or obj not in env:
                continue
            if self.lang == "python":
                types = self._assigned_types(assign, env)
            else:
                right = assign.child_by_field_name("right")
                types = self.type_of(right, env) if right is not None else []
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
        class comes first."""
        current = node.parent
        while current is not None and current != cls:
            if current.type in self.funcs:
                if self.lang == "python" or current.type == "method_definition":
                    return current
                if current.type != "arrow_function":
                    return None  # `function () {}` rebinds `this`
            if current.type in self.classes:
                return None
            current = current.parent
        return None

    def _method_env(self, fn: tree_sitter.Node, class_type: _Type) -> _Env | None:
        if self.lang == "python":
            if _py_owner_class(fn) is None or _py_is_static(fn):
                return None
            self_name = _py_first_param(self, fn)
            if not self_name:
                return None
            env: _Env = {self_name: [class_type]}
            for name, types in self.parameters(fn, skip_first=True):
                env[name] = types
            return env
        env = {"this": [class_type]}
        for name, types in self.parameters(fn):
            env[name] = types
        return env

    # ---------------------------------------------------------------- parameters

    def parameters(
        self, fn: tree_sitter.Node, skip_first: bool = False
    ) -> Iterator[tuple[str, list[_Type]]]:
        params = fn.child_by_field_name("parameters")
        if params is None:
            return
        first = True
        for p in params.named_children:
            if self.lang == "python":
                name, ann = _py_param(self, p)
                if first:
                    first = False
                    if skip_first:
                        continue
                if name and ann:
                    types = self.types_of_annotation(ann, self.rel)
                    if types:
                        yield name, types
            elif self.lang in JS_FAMILY:
                if p.type not in ("required_parameter", "optional_parameter"):
                    continue
                pattern = p.child_by_field_name("pattern")
                ann_node = p.child_by_field_name("type")
                if pattern is not None and pattern.type == "identifier" and ann_node is not None:
                    types = self.types_of_annotation(self.text(ann_node).lstrip(":"), self.rel)
                    if types:
                        yield self.text(pattern), types
            elif self.lang == "go":
                if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                    continue
                type_text = self.text(p.child_by_field_name("type"))
                types = self.types_of_annotation(type_text, self.rel)
                if not types:
                    continue
                for child in p.named_children:
                    if child.type == "identifier":
                        yield self.text(child), types

    # ---------------------------------------------------------------- statements

    def walk(self, node: tree_sitter.Node, env: _Env, origins: dict[str, str], stop: int) -> None:
        """Record the bindings of the statements under ``node`` that start before ``stop``,
        in order, into ``env``."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.start_byte >= stop:
                continue
            kind = current.type
            handled = self._binding(current, env, origins, stop)
            if handled or (kind not in self.walk_types and current is not node):
                continue
            if (
                kind == "statement_block"
                and current is not node
                and current.end_byte <= stop
                and self.lang in JS_FAMILY
            ):
                continue  # a closed block: its `let`/`const` are out of scope
            children = [c for c in current.named_children if c.start_byte < stop]
            stack.extend(reversed(children))

    def _bind(
        self, env: _Env, origins: dict[str, str], name: str, types: list[_Type], origin: str
    ) -> None:
        if not name or not types:
            return
        env[name] = types
        origins[name] = origin

    def _binding(
        self, node: tree_sitter.Node, env: _Env, origins: dict[str, str], stop: int
    ) -> bool:
        kind = node.type
        if self.lang == "python":
            if kind == "assignment":
                left = node.child_by_field_name("left")
                if left is None:
                    return True
                if node.end_byte > stop:
                    return True  # the statement being typed: not bound yet
                if left.type == "identifier":
                    self._bind(
                        env, origins, self.text(left), self._assigned_types(node, env), "local"
                    )
                return True
            if kind == "with_item":
                value = node.child_by_field_name("value")
                if value is not None and value.type == "as_pattern":
                    target = value.child_by_field_name("alias")
                    expr = value.named_children[0] if value.named_children else None
                    if target is not None and expr is not None:
                        name_node = target.named_children[0] if target.named_children else target
                        if name_node.type == "identifier":
                            self._bind(
                                env, origins, self.text(name_node), self.type_of(expr, env), "local"
                            )
                return True
            if kind == "for_statement":
                left = node.child_by_field_name("left")
                right = node.child_by_field_name("right")
                if left is not None and right is not None and left.type == "identifier":
                    self._bind(env, origins, self.text(left), self.element_of(right, env), "local")
                return False  # its body may bind more
            if kind in ("function_definition", "class_definition", "decorated_definition"):
                return True  # a nested scope
            return False
        if self.lang in JS_FAMILY:
            if kind == "variable_declarator":
                name = node.child_by_field_name("name")
                if name is None or name.type != "identifier":
                    return True
                ann = node.child_by_field_name("type")
                types: list[_Type] = []
                if ann is not None:
                    types = self.types_of_annotation(self.text(ann).lstrip(":"), self.rel)
                value = node.child_by_field_name("value")
                if not types and value is not None and value.end_byte <= stop:
                    types = self.type_of(value, env)
                self._bind(env, origins, self.text(name), types, "local")
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
                    self._bind(env, origins, self.text(left), self.type_of(right, env), "local")
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
                    self._bind(env, origins, self.text(left), self.element_of(right, env), "local")
                return False
            if kind in _JS_FUNCS or kind in _JS_CLASSES:
                return True
            return False
        if self.lang == "go":
            if kind == "short_var_declaration" or kind == "assignment_statement":
                if node.end_byte > stop:
                    return True
                left = node.child_by_field_name("left")
                right = node.child_by_field_name("right")
                if left is None or right is None:
                    return True
                names = [c for c in left.named_children]
                values = [c for c in right.named_children]
                for i, target in enumerate(names):
                    if target.type != "identifier":
                        continue
                    if i < len(values) and len(values) == len(names):
                        types = self.type_of(values[i], env)
                    elif i == 0 and len(values) == 1:
                        types = self.type_of(values[0], env)
                    else:
                        types = []
                    if kind == "assignment_statement" and self.text(target) in env:
                        continue
                    self._bind(env, origins, self.text(target), types, "local")
                return True
            if kind == "var_spec":
                type_node = node.child_by_field_name("type")
                types = (
                    self.types_of_annotation(self.text(type_node), self.rel) if type_node else []
                )
                value = node.child_by_field_name("value")
                if not types and value is not None and value.named_children:
                    types = self.type_of(value.named_children[0], env)
                for child in node.named_children:
                    if child.type == "identifier":
                        self._bind(env, origins, self.text(child), types, "local")
                return True
            if kind == "for_statement":
                for child in node.named_children:
                    if child.type == "range_clause":
                        left = child.child_by_field_name("left")
                        right = child.child_by_field_name("right")
                        if left is not None and right is not None and len(left.named_children) > 1:
                            value = left.named_children[1]
                            if value.type == "identifier":
                                self._bind(
                                    env,
                                    origins,
                                    self.text(value),
                                    self.element_of(right, env),
                                    "local",
                                )
                return False
            if kind in _GO_FUNCS:
                return True
        return False

    def _assigned_types(self, assign: tree_sitter.Node, env: _Env) -> list[_Type]:
        ann = assign.child_by_field_name("type")
        if ann is not None:
            types = self.types_of_annotation(self.text(ann), self.rel)
            if types:
                return types
        right = assign.child_by_field_name("right")
        return self.type_of(right, env) if right is not None else []

    # ---------------------------------------------------------------- expressions

    def type_of(self, expr: tree_sitter.Node, env: _Env, depth: int = 0) -> list[_Type]:
        """The types of an expression, as far as cheaply known."""
        if depth > MAX_CHAIN:
            return []
        kind = expr.type
        if kind in ("parenthesized_expression", "await", "await_expression", "non_null_expression"):
            inner = expr.named_children
            return self.type_of(inner[0], env, depth + 1) if inner else []
        if kind == "unary_expression" and self.lang == "go":
            operand = expr.child_by_field_name("operand")
            return self.type_of(operand, env, depth + 1) if operand is not None else []
        if kind in ("identifier", "this", "self"):
            return list(env.get(self.text(expr), ()))
        if kind == "new_expression":
            ctor = expr.child_by_field_name("constructor")
            return self.class_types(self.text(ctor)) if ctor is not None else []
        if kind == "composite_literal":
            return self.types_of_annotation(self.text(expr.child_by_field_name("type")), self.rel)
        if kind in ("as_expression", "satisfies_expression") and len(expr.named_children) > 1:
            return self.types_of_annotation(self.text(expr.named_children[-1]), self.rel)
        if kind in ("attribute", "member_expression", "selector_expression"):
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
                return self.call_types(self.text(fn), self.rel)
            if fn.type in ("attribute", "member_expression", "selector_expression"):
                obj, attr = _object_and_attr(fn)
                if obj is None or not attr:
                    return []
                return self.attribute_types(obj, attr, env, depth, call=True)
        return []

    def element_of(self, expr: tree_sitter.Node, env: _Env) -> list[_Type]:
        """The element types of an iterable expression, from its annotation."""
        annotation = self._annotation_of(expr, env)
        if annotation is None:
            return []
        text, context = annotation
        element = element_annotation(text, self.lang)
        return self.types_of_annotation(element, context) if element else []

    def _annotation_of(self, expr: tree_sitter.Node, env: _Env) -> tuple[str, str] | None:
        """The annotation text of a variable or attribute expression (in the current text:
        parameters, annotated locals, annotated attributes of the receiver's class)."""
        name = self.text(expr)
        raw = self._raw_annotations().get(name)
        if raw is not None:
            return (raw, self.rel)
        return None

    def _raw_annotations(self) -> dict[str, str]:
        if self._raw_cache is not None:
            return self._raw_cache
        out: dict[str, str] = {}
        # Only where the cursor is: the outermost enclosing class or function, or the
        # module's own statements.
        if self.scope_root is not None:
            stack = [self.scope_root]
        else:
            stack = [c for c in self.root.named_children if c.type in self.walk_types]
        while stack:
            node = stack.pop()
            kind = node.type
            if self.lang == "python":
                if kind in ("typed_parameter", "typed_default_parameter"):
                    name, ann = _py_param(self, node)
                    if name and ann:
                        out.setdefault(name, ann)
                elif kind == "assignment":
                    ann_node = node.child_by_field_name("type")
                    left = node.child_by_field_name("left")
                    if ann_node is not None and left is not None:
                        out.setdefault(self.text(left), self.text(ann_node))
                        if left.type == "identifier":
                            out.setdefault("self." + self.text(left), self.text(ann_node))
            elif self.lang in JS_FAMILY:
                if kind in ("required_parameter", "optional_parameter", "variable_declarator"):
                    target = node.child_by_field_name("pattern") or node.child_by_field_name("name")
                    ann_node = node.child_by_field_name("type")
                    if target is not None and ann_node is not None:
                        out.setdefault(self.text(target), self.text(ann_node).lstrip(": "))
                elif kind in ("public_field_definition", "field_definition"):
                    target = node.child_by_field_name("name")
                    ann_node = node.child_by_field_name("type")
                    if target is not None and ann_node is not None:
                        out.setdefault(
                            "this." + self.text(target), self.text(ann_node).lstrip(": ")
                        )
            elif self.lang == "go":
                if kind in ("parameter_declaration", "field_declaration", "var_spec"):
                    type_node = node.child_by_field_name("type")
                    if type_node is not None:
                        for child in node.named_children:
                            if child.type in ("identifier", "field_identifier"):
                                out.setdefault(self.text(child), self.text(type_node))
            stack.extend(node.named_children)
        self._raw_cache = out
        return out

    def attribute_types(
        self, obj: tree_sitter.Node, attr: str, env: _Env, depth: int, *, call: bool
    ) -> list[_Type]:
        """Types of ``obj.attr`` (``call``: of ``obj.attr(...)``)."""
        obj_text = self.text(obj)
        # A module imported whole: `mod.Foo(...)`, `mod.make()`, `pkg.NewFoo()`.
        imp = self.imports.get(obj_text)
        if imp is not None and imp.kind == "module" and obj_text not in env:
            defs = [d for d in imp.definitions if d.name == attr]
            if imp.module_path and not defs and self.lang == "python":
                kind, _p, found = self.resolver.python_member(imp.module_path, attr, set())
                defs = found if kind == "name" else []
            return self._types_from_defs(attr, defs, call)
        local = self.local_classes.get(obj_text)
        if local is not None and obj_text not in env:
            return self._local_member_types(self.local_type(local), attr, call, depth)
        out: list[_Type] = []
        for t in self.type_of(obj, env, depth + 1):
            out.extend(self.member_types(t, attr, call, depth + 1))
        return out

    def member_types(self, owner: _Type, attr: str, call: bool, depth: int) -> list[_Type]:
        if depth > MAX_CHAIN:
            return []
        if owner.node is not None:
            return self._local_member_types(owner, attr, call, depth)
        for d in owner.defs:
            members = self._members_of(d)
            found = [m for m in members if m.name == attr]
            for m in found:
                types = self._member_def_types(m, owner, call)
                if types:
                    return types
            if not found:
                for base in bases_from_signature(d.signature or "", d.language or self.lang):
                    for base_def in self.resolve_name(base, d.path, classes_only=True):
                        types = self.member_types(
                            _Type(base_def.name, (base_def,)), attr, call, depth + 1
                        )
                        if types:
                            return types
        return []

    def _local_member_types(self, owner: _Type, attr: str, call: bool, depth: int) -> list[_Type]:
        node = owner.node
        if node is None:
            return []
        if not call:
            attrs = self.class_attributes(node)
            if attr in attrs:
                return attrs[attr]
        method = _find_method(self, node, attr)
        if method is not None:
            ret = method.child_by_field_name("return_type") or method.child_by_field_name("result")
            if ret is not None:
                text = self.text(ret).lstrip(":").strip()
                if text.strip("\"'") in _SELF_TYPES or text.strip("\"'") == owner.name:
                    return [owner]
                return self.types_of_annotation(text, self.rel, node)
            return []
        # Inherited: the bases of a local class.
        for base in self.class_bases(node):
            base_node = self.local_classes.get(base)
            if base_node is not None and base_node is not node:
                types = self._local_member_types(self.local_type(base_node), attr, call, depth + 1)
            else:
                types = []
                for d in self.resolve_name(base, self.rel, classes_only=True):
                    types = self.member_types(_Type(d.name, (d,)), attr, call, depth + 1)
                    if types:
                        break
            if types:
                return types
        return []

    def _members_of(self, d: Definition) -> list[Definition]:
        return self.resolver.members_of(d.path, d.qualified_name)

    def _member_def_types(self, m: Definition, owner: _Type, call: bool) -> list[_Type]:
        language = m.language or self.lang
        sig = m.signature or ""
        if m.kind in ("method", "function"):
            ann = self._return_annotation(m)
            if ann is None:
                return []
            if ann.strip("\"' ") in _SELF_TYPES or ann.strip("\"' ") == owner.name:
                return [owner]
            return self.types_of_annotation(ann, m.path)
        if call:
            return []
        # A field: `x: Foo = ...`, `private x: Foo;`, `x Foo`, `x = Foo()`.
        if language == "python":
            match = _PY_FIELD.match(sig)
            if match:
                return self.types_of_annotation(match.group(1), m.path)
            match = _PY_FIELD_VALUE.match(sig)
            if match:
                return self.class_types(match.group(1), m.path)
        elif language in JS_FAMILY:
            match = _TS_FIELD.match(sig)
            if match:
                return self.types_of_annotation(match.group(1), m.path)
            match = _TS_FIELD_NEW.search(sig)
            if match:
                return self.class_types(match.group(1), m.path)
        elif language == "go":
            match = _GO_FIELD.match(sig)
            if match:
                return self.types_of_annotation(match.group(1), m.path)
        return []

    def _return_annotation(self, d: Definition) -> str | None:
        language = d.language or language_for_path(d.path) or self.lang
        header = d.signature or ""
        ann = return_annotation(header, d.name, language)
        if ann is not None or header.count("(") <= header.count(")"):
            return ann
        # A header broken over lines: read it from the file.
        text = self.resolver.text_of(d.path)
        if text is None:
            return None
        lines = text.split("\n")[d.start_line : d.start_line + 30]
        joined = " ".join(line.strip() for line in lines)
        end = {"python": ":", "go": "{"}.get(language, "{")
        return return_annotation(joined[: _header_end(joined, end) + 1], d.name, language)

    def _types_from_defs(self, name: str, defs: Sequence[Definition], call: bool) -> list[_Type]:
        classes = [d for d in defs if d.kind in CLASS_KINDS]
        if classes:
            return [_Type(classes[0].name, tuple(classes))] if call or self.lang == "go" else []
        if not call:
            return []
        out: list[_Type] = []
        for d in defs:
            if d.kind in ("function", "method"):
                ann = self._return_annotation(d)
                if ann:
                    out.extend(self.types_of_annotation(ann, d.path))
                    break
        return out

    # ---------------------------------------------------------------- names

    def call_types(self, name: str, context: str) -> list[_Type]:
        """Types of ``name(...)``: a class's instance, or a function's return annotation."""
        if context == self.rel:
            node = self.local_classes.get(name)
            if node is not None:
                return [self.local_type(node)]
            fn = self.local_funcs.get(name)
            if fn is not None:
                ret = fn.child_by_field_name("return_type") or fn.child_by_field_name("result")
                if ret is None:
                    return []
                return self.types_of_annotation(self.text(ret).lstrip(":").strip(), self.rel)
        defs = self.resolve_name(name, context)
        if defs:
            return self._types_from_defs(name, defs, call=True)
        if name[:1].isupper() and self.lang == "python":
            return [_Type(name)]  # a class from outside the workspace
        return []

    def class_types(self, name: str, context: str | None = None) -> list[_Type]:
        """Types of ``new name(...)`` / a constructor call written as ``name``."""
        context = context or self.rel
        if "." not in name and context == self.rel:
            node = self.local_classes.get(name)
            if node is not None:
                return [self.local_type(node)]
        defs = self.resolve_name(name, context, classes_only=True)
        if defs:
            return [_Type(defs[0].name, tuple(defs))]
        return [_Type(name)] if name else []

    def types_of_annotation(
        self, annotation: str, context: str, owner: tree_sitter.Node | None = None
    ) -> list[_Type]:
        """The types named in an annotation written in file ``context``."""
        out: list[_Type] = []
        for name in annotation_types(annotation, self.lang if context == self.rel else None):
            if context == self.rel and "." not in name:
                node = self.local_classes.get(name)
                if node is not None:
                    out.append(self.local_type(node))
                    continue
            defs = self.resolve_name(name, context, classes_only=True)
            out.append(_Type(defs[0].name if defs else name, defs))
        return out

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
            own_found: list[Definition] = []
            if language == "python":
                kind, _p, found = self.resolver.python_member(context, name, set())
                if kind == "name":
                    own_found = list(found)
            elif language in JS_FAMILY:
                member = self.resolver._js_member(context, name, set())
                own_found = member[1] if member is not None else []
            else:
                directory = context.rsplit("/", 1)[0] if "/" in context else ""
                own_found = [
                    d
                    for d in self.resolver.definitions_named(name)
                    if d.scope is None
                    and (d.path.rsplit("/", 1)[0] if "/" in d.path else "") == directory
                ]
            if own_found:
                return tuple(own_found)
        everywhere = [d for d in self.resolver.definitions_named(name) if d.scope is None]
        if not everywhere or len({d.path for d in everywhere}) > MAX_GLOBAL_MATCHES:
            return ()
        everywhere.sort(key=lambda d: (d.path == self.rel, _distance(d.path, context), d.path))
        return tuple(everywhere)


# ---------------------------------------------------------------------- small helpers


def _distance(path: str, other: str) -> int:
    a = path.split("/")[:-1]
    b = other.split("/")[:-1]
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return len(a) + len(b) - 2 * common


def _header_end(text: str, end: str) -> int:
    """Index of the character ending a definition header (``:`` or ``{``) once its parameter
    list has closed, or the last index."""
    depth = 0
    opened = False
    for i, ch in enumerate(text):
        if depth == 0 and opened and ch == end:
            return i
        if ch in "([{":
            depth += 1
            opened = opened or ch == "("
        elif ch in ")]}":
            depth -= 1
    return len(text) - 1


def bases_from_signature(signature: str, language: str) -> list[str]:
    """Base classes written in a class header line (``class A(B, mod.C):``, ``class A
    extends B implements I {``), as written."""
    if language == "python":
        match = re.search(r"class\s+\w+\s*(?:\[[^\]]*\])?\s*\((.*)\)\s*:", signature)
        if not match:
            return []
        bases = [b.strip() for b in _split_top(match.group(1), ",")]
        return [b.split("[", 1)[0] for b in bases if b and "=" not in b]
    if language in JS_FAMILY:
        match = re.search(r"\bextends\s+([\w$.]+)", signature)
        out = [match.group(1)] if match else []
        impl = re.search(r"\bimplements\s+([^{]+)", signature)
        if impl:
            out.extend(p.strip().split("<", 1)[0] for p in impl.group(1).split(",") if p.strip())
        return out
    return []


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


def _py_owner_class(fn: tree_sitter.Node) -> tree_sitter.Node | None:
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    if parent is not None and parent.type == "block":
        owner = parent.parent
        if owner is not None and owner.type == "class_definition":
            return owner
    return None


def _py_is_static(fn: tree_sitter.Node) -> bool:
    parent = fn.parent
    if parent is None or parent.type != "decorated_definition":
        return False
    for child in parent.named_children:
        if child.type == "decorator" and child.text and b"staticmethod" in child.text:
            return True
    return False


def _py_first_param(inf: _Inference, fn: tree_sitter.Node) -> str | None:
    params = fn.child_by_field_name("parameters")
    if params is None or not params.named_children:
        return None
    name, _ann = _py_param(inf, params.named_children[0])
    return name


def _py_param(inf: _Inference, p: tree_sitter.Node) -> tuple[str | None, str | None]:
    kind = p.type
    if kind == "identifier":
        return inf.text(p), None
    if kind in ("typed_parameter", "typed_default_parameter", "default_parameter"):
        name_node = p.child_by_field_name("name")
        if name_node is None:
            first = p.named_children[0] if p.named_children else None
            if first is None or first.type != "identifier":
                return None, None  # *args: T / **kw: T
            name_node = first
        ann = p.child_by_field_name("type")
        return inf.text(name_node), inf.text(ann) if ann is not None else None
    return None, None


def _go_receiver(inf: _Inference, recv: tree_sitter.Node | None) -> tuple[str | None, str]:
    if recv is None:
        return None, ""
    for p in recv.named_children:
        if p.type == "parameter_declaration":
            name = p.child_by_field_name("name")
            type_node = p.child_by_field_name("type")
            return (inf.text(name) if name is not None else None, inf.text(type_node))
    return None, ""


def _find_method(inf: _Inference, cls: tree_sitter.Node, name: str) -> tree_sitter.Node | None:
    if inf.lang == "go":
        type_name = inf.text(cls.child_by_field_name("name"))
        for child in inf.root.named_children:
            if (
                child.type == "method_declaration"
                and inf.text(child.child_by_field_name("name")) == name
            ):
                _recv, recv_type = _go_receiver(inf, child.child_by_field_name("receiver"))
                if recv_type.lstrip("*").split("[", 1)[0] == type_name:
                    return child
        return None
    body = cls.child_by_field_name("body")
    if body is None:
        return None
    for member in body.named_children:
        fn = member
        if member.type == "decorated_definition":
            fn = member.child_by_field_name("definition") or member
        if fn.type in ("function_definition", "method_definition"):
            if inf.text(fn.child_by_field_name("name")) == name:
                return fn
    return None
