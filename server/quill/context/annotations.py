"""Type annotations read as text: the type names in an annotation, a container's element
type, a definition header's return annotation, a class header's bases, a field's type.

These read the header lines the index stores (:attr:`quill.index.records.Definition.signature`)
as well as annotations cut out of the current text, so they work on strings, not trees.
Python, JavaScript/TypeScript and Go spellings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "IGNORED_TYPES",
    "JS_FAMILY",
    "SELF_TYPES",
    "annotation_types",
    "bases_from_signature",
    "element_annotation",
    "field_type",
    "header_end",
    "return_annotation",
    "split_top",
]

JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
#: annotations meaning "the class itself"
SELF_TYPES = frozenset({"Self", "this"})

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

#: per language, a field's header line: a pattern whose group 1 is its annotation, and one
#: whose group 1 is the class it is constructed from (``x = Foo()``, ``= new Foo(...)``)
_FIELDS: Mapping[str, tuple[re.Pattern[str], re.Pattern[str] | None]] = MappingProxyType(
    {
        "python": (_PY_FIELD, _PY_FIELD_VALUE),
        "javascript": (_TS_FIELD, _TS_FIELD_NEW),
        "typescript": (_TS_FIELD, _TS_FIELD_NEW),
        "tsx": (_TS_FIELD, _TS_FIELD_NEW),
        "go": (_GO_FIELD, None),
    }
)


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
    parts = [p.strip() for p in split_top(text, "|")]
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
            return split_top(match.group(2), ",")[0].strip()
        return None
    match = re.match(r"^([\w.]+)\s*\[(.*)\]$", text)
    if match and match.group(1).rsplit(".", 1)[-1] in _PY_CONTAINERS:
        return split_top(match.group(2), ",")[0].strip()
    return None


def split_top(text: str, sep: str) -> list[str]:
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
            result = split_top(result[1:-1], ",")[0].strip()
            result = result.split()[-1] if result.split() else ""
        return result or None
    return None


def header_end(text: str, end: str) -> int:
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
        bases = [b.strip() for b in split_top(match.group(1), ",")]
        return [b.split("[", 1)[0] for b in bases if b and "=" not in b]
    if language in JS_FAMILY:
        match = re.search(r"\bextends\s+([\w$.]+)", signature)
        out = [match.group(1)] if match else []
        impl = re.search(r"\bimplements\s+([^{]+)", signature)
        if impl:
            out.extend(p.strip().split("<", 1)[0] for p in impl.group(1).split(",") if p.strip())
        return out
    return []


def field_type(signature: str, language: str) -> tuple[str, str] | None:
    """What a field's header line says of its type: ``("annotation", text)`` (``x: Foo =
    ...``, ``private x: Foo;``, ``x Foo``), ``("class", name)`` (``x = Foo()``, ``x = new
    Foo()``), or ``None``."""
    patterns = _FIELDS.get(language)
    if patterns is None:
        return None
    annotated, constructed = patterns
    match = annotated.search(signature)
    if match:
        return "annotation", match.group(1)
    match = constructed.search(signature) if constructed is not None else None
    return ("class", match.group(1)) if match else None
