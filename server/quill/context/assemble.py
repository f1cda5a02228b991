"""What the next line needs: one ranking and one renderer of cross-file context.

:func:`assemble_context` gathers candidates for a cursor position, ranks them, and renders as
many as fit a token budget as comment lines in the file's language::

    # Definitions from other files:
    # app/geometry/layout.py:
    #   class Layout(BaseLayout):
    #     def update_dimensions(self, width: int, height: int) -> None:
    # app/utils.py:
    #   def clamp(value: float, low: float, high: float) -> float:

Candidates, by source label:

* ``type:<var>`` — the class of a value in scope (``type:self.layout``, ``type:page``,
  ``type:self`` for the workspace bases of the enclosing class), as its header line and the
  signature lines of its members (no bodies);
* ``import`` — names the file imports from the workspace (classes with their members);
* ``module`` — top-level definitions (helpers) of modules imported whole;
* ``nearby`` — identifiers written near the cursor that are defined in other files;
* ``recent_edit`` — definitions of recently edited files that this file uses;
* ``repo_map`` — the personalized repo map (:meth:`WorkspaceIndex.repo_map`) fills the rest.

Ranking: the types the cursor's statement most likely uses come first (the receiver's
attributes, then parameters and locals, more when they are written near the cursor), with
imported names used near the cursor ranked alongside them; then other imports, module helpers,
nearby names, recent edits, and the repo map. The budget is spent in passes: the types of
values written near the cursor; one header line for each imported name and ``mod.x`` helper
used in the enclosing function; the other types in scope (leaving up to half the budget for
the next pass); one header line for every other imported name and module helper (those the
file uses first); then the rest by rank, an imported class shown by its header growing to its
members when there is room. Long member lists keep the members the file uses. Definitions of
the current file are never shown (the model sees the file). Every item shows its path and the
header lines as written in the source (:attr:`Definition.signature`). The budget is never
exceeded, by the ``count_tokens`` given (default: :func:`quill.models.tokens.estimate_tokens`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from quill.context.imports import ImportResolver, ResolvedImport
from quill.context.scope import ScopeInfo, bases_from_signature, infer_scope
from quill.context.sections import ContextQuery, ContextSection
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.models.tokens import estimate_tokens

log = logging.getLogger(__name__)

__all__ = [
    "AssembledContext",
    "ContextItem",
    "assemble_context",
    "clear_caches",
    "comment_prefix",
    "context_source",
    "default_count_tokens",
    "identifiers_near",
]

CountTokens = Callable[[str], int]

TITLE = "Definitions from other files:"
LINE_COMMENT = {
    "python": "#",
    "go": "//",
    "rust": "//",
    "java": "//",
    "c": "//",
    "cpp": "//",
    "javascript": "//",
    "typescript": "//",
    "tsx": "//",
}
CLASS_KINDS = frozenset({"class", "interface"})
MAX_MEMBERS = 40  # member lines of one class, at most
MAX_MODULE_HELPERS = 30  # helpers listed per module imported whole
MAX_MODULE_HEADERS = 200  # helpers' header lines offered per module imported whole
MAX_NEARBY = 16
NEAR_LINES = 12  # lines above the cursor that count as "near"
MIN_CLASS_TOKENS = 96  # a class item may always take this much (if the budget has it)
MIN_REPO_MAP_TOKENS = 24  # below this, the repo map is not asked
CACHE_SIZE = 16

# Ranks (higher first); see the module docstring.
RANK_ATTRIBUTE = 90.0
RANK_PARAMETER = 88.0
RANK_LOCAL = 86.0
RANK_SELF_BASE = 84.0
RANK_IMPORT = 80.0
RANK_IMPORTED_CLASS = 78.0
RANK_NEARBY = 70.0
RANK_MODULE = 60.0
RANK_RECENT = 55.0
RANK_STAR = 40.0
RANK_REPO_MAP = 10.0
RANK_PRIORITY = RANK_SELF_BASE - 3.0  # types in scope: rendered before the imports' headers
RANK_NEAR_TYPE = RANK_LOCAL + 20.0  # types of values written near the cursor: first
BONUS_NEAR = 20.0
BONUS_FUNCTION = 10.0
BONUS_FILE = 3.0

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_ATTRIBUTE = re.compile(r"\.([A-Za-z_$][\w$]*)")
_COMMON = frozenset(
    "self cls this return import from None True False def class function const let var "
    "async await for while with else elif try except finally raise pass break continue "
    "and not print len str int float bool dict list set tuple range new null undefined "
    "public private static void func package struct impl pub use mut lambda yield in is "
    "if or of type interface export default extends implements super nil true false".split()
)


def default_count_tokens(text: str) -> int:
    return estimate_tokens(text)


def comment_prefix(language: str | None) -> str:
    return LINE_COMMENT.get(language or "", "#")


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One rendered piece of context: where it came from (``source``), the definition's
    workspace path and name, the tokens its lines cost, its rank (higher is better), and
    the lines shown (header first, then member headers indented), without comment marks."""

    source: str
    path: str
    name: str
    tokens: int
    rank: float
    kind: str = ""
    line: int = 0
    lines: tuple[str, ...] = ()


@dataclass(slots=True)
class AssembledContext:
    """The rendered context (``text``, empty when nothing fits or nothing is known), the items
    in it (best rank first), and how it was made."""

    text: str
    items: list[ContextItem]
    tokens: int
    budget_tokens: int
    scope: ScopeInfo = field(default_factory=ScopeInfo)
    candidates: int = 0
    elapsed_ms: float = 0.0


@dataclass(slots=True)
class _Candidate:
    source: str
    definition: Definition
    rank: float
    members: list[Definition] = field(default_factory=list)
    wanted: frozenset[str] = frozenset()  # member names used near the cursor: kept first
    tier: int = 0  # header pass: 0 used near the cursor / in the function, 1 in the file, 2 not
    order: float = 0.0  # header pass: lower first within a tier

    @property
    def key(self) -> tuple[str, str, int]:
        d = self.definition
        return (d.path, d.name, d.start_line)


# ---------------------------------------------------------------------- caching
#
# What other files define changes only when they are edited (then they are the current file,
# whose data is always read afresh) or change on disk; what is read about them is kept for a
# few seconds and shared between calls. The repo map (a PageRank over the whole workspace)
# is kept per file for a little longer: it only fills what the ranked candidates leave.

RESOLVER_TTL_S = 5.0
REPO_MAP_TTL_S = 15.0

_cache_lock = threading.Lock()
_resolvers: dict[int, tuple[float, WorkspaceIndex, ImportResolver]] = {}
_repo_maps: OrderedDict[tuple, tuple[float, list[_Candidate]]] = OrderedDict()


def _resolver_for(index: WorkspaceIndex, rel_path: str) -> ImportResolver:
    now = time.monotonic()
    with _cache_lock:
        entry = _resolvers.get(id(index))
        if entry is None or entry[1] is not index or now - entry[0] > RESOLVER_TTL_S:
            for key in [k for k, v in _resolvers.items() if now - v[0] > RESOLVER_TTL_S]:
                del _resolvers[key]
            entry = (now, index, ImportResolver(index))
            _resolvers[id(index)] = entry
        resolver = entry[2]
    resolver.forget(rel_path)
    return resolver


def clear_caches() -> None:
    """Forget everything shared between calls (tests, or after a re-index)."""
    with _cache_lock:
        _resolvers.clear()
        _repo_maps.clear()


# ---------------------------------------------------------------------- entry points


def assemble_context(
    index: WorkspaceIndex,
    rel_path: str,
    text: str,
    line: int,
    column: int,
    budget_tokens: int,
    *,
    count_tokens: CountTokens | None = None,
    recent_files: Sequence[str] = (),
    open_files: Sequence[str] = (),
    language: str | None = None,
) -> AssembledContext:
    """The context a completion at (``line``, ``column``) of ``rel_path`` should get.

    ``rel_path`` is workspace-relative (``/``-separated); ``text`` the file's current text;
    ``line`` and ``column`` are 0-based, the column counting characters. ``recent_files``
    (most recent first) and ``open_files`` are workspace-relative paths. Never raises for
    bad input; never returns more than ``budget_tokens`` tokens by ``count_tokens``."""
    started = time.perf_counter()
    count = count_tokens or default_count_tokens
    language = language or language_for_path(rel_path)
    empty = AssembledContext("", [], 0, budget_tokens)
    if budget_tokens <= 0:
        return empty
    resolver = _resolver_for(index, rel_path)
    try:
        imports = resolver.resolve_file(rel_path, text=text)
    except (OSError, ValueError, RecursionError) as exc:
        log.debug("%s: import resolution failed: %s", rel_path, exc)
        imports = []
    scope = infer_scope(
        index, rel_path, text, language, line, column, imports=imports, resolver=resolver
    )
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1)) if lines else 0
    usage = _Usage(lines, line, scope, rel_path)
    gatherer = _Gatherer(index, resolver, rel_path, usage)
    gatherer.types_in_scope(scope)
    gatherer.imported(imports)
    gatherer.nearby()
    gatherer.recent(recent_files, text)
    candidates = gatherer.ranked()
    renderer = _Renderer(comment_prefix(language), count, budget_tokens, usage.file_attributes)
    # Passes: first the types of the values written near the cursor, with their members; one
    # header line for each imported name (and module helper) used near the cursor or in the
    # enclosing function; the other types in scope; the header lines of the other imported
    # names and helpers; then everything else.
    for candidate in candidates:
        if candidate.rank >= RANK_NEAR_TYPE:
            renderer.add(candidate)
    headers = gatherer.header_candidates()
    for candidate in headers:
        if candidate.tier == 0:
            renderer.add(candidate, header_only=True)
    # The types in scope may not take what the other headers need (up to half the budget).
    reserve = min(renderer.header_cost(c for c in headers if c.tier > 0), budget_tokens // 2)
    renderer.budget -= reserve
    for candidate in candidates:
        if candidate.rank >= RANK_PRIORITY:
            renderer.add(candidate)
    renderer.budget += reserve
    for candidate in headers:
        if candidate.tier > 0:
            renderer.add(candidate, header_only=True)
    for candidate in candidates:
        if candidate.rank < RANK_PRIORITY:
            renderer.add(candidate)
    remaining = budget_tokens - renderer.used
    if remaining >= MIN_REPO_MAP_TOKENS:
        for candidate in _repo_map_candidates(
            index, rel_path, budget_tokens, usage, recent_files, open_files, count
        ):
            if candidate.key not in gatherer.seen and candidate.key not in renderer.covered:
                renderer.add(candidate)
    result = renderer.finish()
    result.scope = scope
    result.candidates = len(candidates)
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


def context_source(
    index: Callable[[], WorkspaceIndex | None],
    open_files: Callable[[], Sequence[str]] = lambda: (),
    recent_files: Callable[[], Sequence[str]] = lambda: (),
    count_tokens: CountTokens | None = None,
) -> Callable[[ContextQuery], Sequence[ContextSection]]:
    """:func:`assemble_context` as a completion context source (one ``"context"``
    section). The cursor column is the length of the prefix's last line."""

    def source(query: ContextQuery) -> Sequence[ContextSection]:
        idx = index()
        if idx is None or not query.path:
            return []
        column = len(query.prefix) - query.prefix.rfind("\n") - 1
        result = assemble_context(
            idx,
            query.path,
            query.text,
            query.line,
            column,
            query.budget_tokens,
            count_tokens=query.count_tokens or count_tokens,
            recent_files=recent_files(),
            open_files=open_files(),
            language=query.language,
        )
        if not result.text:
            return []
        items = tuple(
            {"source": i.source, "path": i.path, "name": i.name, "tokens": i.tokens}
            for i in result.items
        )
        return [ContextSection("context", result.text, priority=2.0, items=items)]

    return source


# ---------------------------------------------------------------------- usage near the cursor


class _Usage:
    """Which names are written near the cursor, in the enclosing function, in the file."""

    def __init__(self, lines: list[str], line: int, scope: ScopeInfo, rel_path: str) -> None:
        self.rel_path = rel_path
        start = max(0, line - NEAR_LINES)
        if scope.function_lines is not None:
            start = max(start, scope.function_lines[0])
        near_text = "\n".join(lines[start : line + 1])
        self.near_order = identifiers_near(lines[start : line + 1])
        self.near_words = set(_IDENT.findall(near_text))
        self.near_text = near_text
        if scope.function_lines is not None:
            lo, hi = scope.function_lines
            self.function_text = "\n".join(lines[lo : hi + 1])
        else:
            self.function_text = near_text
        self.function_words = set(_IDENT.findall(self.function_text))
        self.file_text = "\n".join(lines)
        self.file_counts = Counter(_IDENT.findall(self.file_text))
        self.file_words = set(self.file_counts)
        self.file_attributes = frozenset(_ATTRIBUTE.findall(self.file_text))
        self.line = line

    def bonus_for_text(self, needle: str) -> float:
        if needle in self.near_text:
            return BONUS_NEAR
        if needle in self.function_text:
            return BONUS_FUNCTION
        if needle in self.file_text:
            return BONUS_FILE
        return 0.0

    def bonus_for_word(self, word: str) -> float:
        if word in self.near_words:
            return BONUS_NEAR
        if word in self.function_words:
            return BONUS_FUNCTION
        return 0.0


def identifiers_near(lines: Sequence[str], limit: int = MAX_NEARBY) -> list[str]:
    """Identifiers in ``lines`` (the lines above the cursor), nearest first, unique, with
    keywords and very short names left out."""
    seen: list[str] = []
    for text in reversed(lines):
        for word in reversed(_IDENT.findall(text)):
            if len(word) < 3 or word in _COMMON or word in seen:
                continue
            seen.append(word)
            if len(seen) >= limit:
                return seen
    return seen


# ---------------------------------------------------------------------- candidates


class _Gatherer:
    def __init__(
        self, index: WorkspaceIndex, resolver: ImportResolver, rel_path: str, usage: _Usage
    ) -> None:
        self.index = index
        self.resolver = resolver
        self.rel = rel_path
        self.usage = usage
        self.members_cache: dict[str, list[Definition]] = {}
        self.by_key: dict[tuple[str, str, int], _Candidate] = {}
        self.seen: set[tuple[str, str, int]] = set()
        self.headers: dict[tuple[str, str, int], _Candidate] = {}

    def header(self, candidate: _Candidate) -> None:
        """A candidate for the header pass (one line each, best tier and order kept)."""
        d = candidate.definition
        if d.path == self.rel or not d.signature:
            return
        old = self.headers.get(candidate.key)
        if old is None or (candidate.tier, candidate.order) < (old.tier, old.order):
            self.headers[candidate.key] = candidate

    def header_candidates(self) -> list[_Candidate]:
        return sorted(
            self.headers.values(), key=lambda c: (c.tier, c.order, -c.rank, c.definition.path)
        )

    def _tier(self, bonus: float, used_in_file: bool) -> int:
        if bonus >= BONUS_FUNCTION:
            return 0
        return 1 if used_in_file else 2

    def add(self, candidate: _Candidate) -> None:
        d = candidate.definition
        if d.path == self.rel or not d.signature:
            return
        key = candidate.key
        self.seen.add(key)
        old = self.by_key.get(key)
        if old is None:
            self.by_key[key] = candidate
            return
        if candidate.rank > old.rank:
            candidate.wanted = candidate.wanted | old.wanted
            if not candidate.members:
                candidate.members = old.members
            self.by_key[key] = candidate
        else:
            old.wanted = old.wanted | candidate.wanted

    def ranked(self) -> list[_Candidate]:
        return sorted(
            self.by_key.values(),
            key=lambda c: (-c.rank, c.definition.path, c.definition.start_line),
        )

    def members(self, d: Definition) -> list[Definition]:
        key = f"{d.path}\0{d.qualified_name}"
        found = self.members_cache.get(key)
        if found is None:
            if d.language == "go":
                directory = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
                found = [
                    m
                    for m in self.index.members_of(d.name)
                    if (m.path.rsplit("/", 1)[0] if "/" in m.path else "") == directory
                ]
            else:
                found = self.resolver.members_of(d.path, d.qualified_name)
            found = [m for m in found if m.signature and _member_shown(m)]
            found.sort(key=lambda m: (m.path, m.start_line))
            names: set[str] = set()
            unique = []
            for m in found:  # a property's setter, overloads: the first one says enough
                if m.name not in names:
                    names.add(m.name)
                    unique.append(m)
            found = unique
            self.members_cache[key] = found
        return found

    def class_candidate(
        self, source: str, d: Definition, rank: float, wanted: Iterable[str] = ()
    ) -> _Candidate:
        members = self.members(d) if d.kind in CLASS_KINDS else []
        wanted = frozenset(wanted)
        if len(members) > MAX_MEMBERS:  # the ones this file uses first, in source order
            used = self.usage.file_attributes
            keep = sorted(members, key=lambda m: m.name not in wanted and m.name not in used)
            chosen = {id(m) for m in keep[:MAX_MEMBERS]}
            members = [m for m in members if id(m) in chosen]
        return _Candidate(source, d, rank, members, wanted)

    # -- types in scope

    def types_in_scope(self, scope: ScopeInfo) -> None:
        variables = list(scope.variables.items())
        n_locals = sum(1 for name, _ in variables if scope.origins.get(name) == "local")
        local_index = 0
        for var, type_names in variables:
            origin = scope.origins.get(var, "local")
            if origin == "self":
                rank = RANK_SELF_BASE
                for base in scope.class_bases:
                    for d in scope.types.get(base, ()):
                        self.add(self.class_candidate(f"type:{var}", d, rank))
                        self._bases(f"type:{var}", d, rank - 2, depth=1)
                continue
            if origin == "attribute":
                rank = RANK_ATTRIBUTE
            elif origin == "parameter":
                rank = RANK_PARAMETER
            else:
                local_index += 1
                rank = RANK_LOCAL + 2.0 * local_index / max(1, n_locals)
            rank += self.usage.bonus_for_text(var + ".") or self.usage.bonus_for_word(var) / 2
            wanted = _members_used(var, self.usage.near_text + "\n" + self.usage.function_text)
            for type_name in type_names:
                for d in scope.types.get(type_name, ())[:2]:
                    if d.kind not in CLASS_KINDS:
                        continue
                    self.add(self.class_candidate(f"type:{var}", d, rank, wanted))
                    self._bases(f"type:{var}", d, rank - 3, depth=1)

    def _bases(self, source: str, d: Definition, rank: float, depth: int) -> None:
        if depth > 2 or not d.signature:
            return
        directory = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        for base in _bases_of(d):
            found = [
                bd
                for bd in self.resolver.definitions_named(base)
                if bd.kind in CLASS_KINDS
                and bd.scope is None
                and (bd.path, bd.start_line) != (d.path, d.start_line)
            ]
            if len({bd.path for bd in found}) > 3:
                continue  # too common a name to guess
            found.sort(key=lambda bd: (bd.path != d.path, not bd.path.startswith(directory)))
            for bd in found[:2]:
                self.add(self.class_candidate(source, bd, rank))
                self._bases(source, bd, rank - 1, depth + 1)

    # -- imports

    def imported(self, imports: Sequence[ResolvedImport]) -> None:
        for imp in imports:
            if not imp.definitions:
                continue
            if imp.kind == "module":
                self._module(imp)
                continue
            base = RANK_STAR if imp.star else RANK_IMPORT
            bonus = self.usage.bonus_for_word(imp.local_name)
            in_file = self.usage.file_counts.get(imp.local_name, 0) > 1  # besides the import
            if not bonus and imp.local_name in self.usage.file_words:
                bonus = BONUS_FILE
            if not imp.star:
                tier = self._tier(bonus, in_file)
                for d in imp.definitions[:1]:
                    self.header(_Candidate("import", d, base + bonus, tier=tier, order=-bonus))
            for d in imp.definitions[:3]:
                if d.kind in CLASS_KINDS:
                    rank = (RANK_IMPORTED_CLASS if not imp.star else RANK_STAR) + bonus
                    self.add(self.class_candidate("import", d, rank))
                else:
                    self.add(_Candidate("import", d, base + bonus))

    def _module(self, imp: ResolvedImport) -> None:
        prefix = imp.local_name + "."
        for i, d in enumerate(imp.definitions):
            if d.name.startswith("_"):
                continue
            bonus = self.usage.bonus_for_text(prefix + d.name)
            if bonus or i < MAX_MODULE_HEADERS:
                tier = self._tier(bonus, bool(bonus))
                self.header(_Candidate("module", d, RANK_MODULE + bonus, tier=tier, order=i))
            if i >= MAX_MODULE_HELPERS * 2:
                continue
            if not bonus and i >= MAX_MODULE_HELPERS:
                continue
            rank = RANK_MODULE + bonus - 0.01 * i
            if d.kind in CLASS_KINDS:
                self.add(self.class_candidate("module", d, rank - 1))
            else:
                self.add(_Candidate("module", d, rank))

    # -- identifiers near the cursor

    def nearby(self) -> None:
        for i, word in enumerate(self.usage.near_order):
            defs = [
                d
                for d in self.resolver.definitions_named(word)
                if d.path != self.rel and d.signature and d.kind != "variable" and d.scope is None
            ]
            if not defs or len({d.path for d in defs}) > 3:
                continue
            for d in defs[:2]:
                rank = RANK_NEARBY - 0.1 * i
                if d.kind in CLASS_KINDS:
                    self.add(self.class_candidate("nearby", d, rank))
                else:
                    self.add(_Candidate("nearby", d, rank))

    # -- recent edits

    def recent(self, recent_files: Sequence[str], text: str) -> None:
        words = self.usage.file_words
        for i, path in enumerate(recent_files[:5]):
            if path == self.rel:
                continue
            for d in self.index.definitions_in_file(self.index.root / path):
                if d.name in words and d.name not in _COMMON and len(d.name) > 2 and d.signature:
                    rank = RANK_RECENT - i
                    if d.kind in CLASS_KINDS:
                        self.add(self.class_candidate("recent_edit", d, rank))
                    elif d.kind != "variable":
                        self.add(_Candidate("recent_edit", d, rank))


def _member_shown(m: Definition) -> bool:
    name = m.name
    if name.startswith("__") and name.endswith("__"):
        return name in ("__init__", "__call__", "__enter__", "__iter__", "__getitem__")
    return not name.startswith("_") and not name.startswith("#")


def _members_used(var: str, text: str) -> set[str]:
    return set(re.findall(rf"(?<![\w$.]){re.escape(var)}\.([A-Za-z_$][\w$]*)", text))


def _bases_of(d: Definition) -> list[str]:
    language = d.language or language_for_path(d.path) or ""
    bases = bases_from_signature(d.signature or "", language)
    ignored = ("object", "ABC", "Generic", "Protocol")
    return [b.rsplit(".", 1)[-1] for b in bases if b.rsplit(".", 1)[-1] not in ignored]


def _repo_map_candidates(
    index: WorkspaceIndex,
    rel_path: str,
    budget: int,
    usage: _Usage,
    recent_files: Sequence[str],
    open_files: Sequence[str],
    count: CountTokens,
) -> list[_Candidate]:
    key = (id(index), rel_path, budget, tuple(open_files), tuple(recent_files[:5]))
    now = time.monotonic()
    with _cache_lock:
        entry = _repo_maps.get(key)
        if entry is not None and now - entry[0] <= REPO_MAP_TTL_S:
            _repo_maps.move_to_end(key)
            return entry[1]
    candidates = _compute_repo_map(index, rel_path, budget, usage, recent_files, open_files, count)
    with _cache_lock:
        _repo_maps[key] = (now, candidates)
        while len(_repo_maps) > CACHE_SIZE:
            _repo_maps.popitem(last=False)
    return candidates


def _compute_repo_map(
    index: WorkspaceIndex,
    rel_path: str,
    budget: int,
    usage: _Usage,
    recent_files: Sequence[str],
    open_files: Sequence[str],
    count: CountTokens,
) -> list[_Candidate]:
    root = index.root
    try:
        result = index.repo_map(
            budget_tokens=budget,
            focus_files=[root / rel_path],
            open_files=[root / p for p in open_files],
            recent_files=[root / p for p in recent_files],
            mentioned_idents=usage.near_order,
            count_tokens=count,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        log.debug("repo map failed: %s", exc)
        return []
    out: list[_Candidate] = []
    for i, item in enumerate(result.items):
        if item.path == rel_path or not item.signature or item.kind == "module":
            continue
        d = Definition(
            item.path,
            item.name,
            item.kind,
            item.line,
            0,
            item.line,
            0,
            None,
            item.signature,
            (item.line, 0, item.line, 0),
        )
        out.append(_Candidate("repo_map", d, RANK_REPO_MAP + item.rank - 0.001 * i))
    return out


# ---------------------------------------------------------------------- rendering


class _Renderer:
    """Greedy fit by rank, rendered grouped by path; never over the budget."""

    def __init__(
        self, mark: str, count: CountTokens, budget: int, used: frozenset[str] = frozenset()
    ) -> None:
        self.mark = mark
        self.used_names = used  # attribute names the file uses: members kept second
        self.count = count
        self.budget = budget
        self.full_budget = budget  # ``budget`` is lowered while a pass reserves some
        self.items: list[ContextItem] = []
        self.paths: set[str] = set()
        self.used = 0
        self.covered: set[tuple[str, str, int]] = set()  # definitions shown (members too)
        self.shown: dict[tuple[str, str, int], int] = {}  # key -> index in items
        self.title_tokens = count(f"{mark} {TITLE}\n")

    def add(self, candidate: _Candidate, header_only: bool = False) -> bool:
        """Render ``candidate`` if it fits (only its header line when ``header_only``). A
        definition already shown by its header alone may grow to its members here."""
        d = candidate.definition
        previous = self.shown.get(candidate.key)
        if previous is not None:
            old = self.items[previous]
            if header_only or not candidate.members or len(old.lines) > 1:
                return False
            overhead = 0
            room = self.budget - self.used + old.tokens
        else:
            overhead = 0 if self.items else self.title_tokens
            if d.path not in self.paths:
                overhead += self.count(f"{self.mark} {d.path}:\n")
            room = self.budget - self.used - overhead
        if room <= 0:
            return False
        if header_only and candidate.members:
            candidate = _Candidate(candidate.source, d, candidate.rank)
        if candidate.members:
            # One big class must not crowd out everything else: the first item may take half
            # the budget, later ones a third (its members are cut, the used ones kept).
            share = self.full_budget // 2 if not self.items else self.full_budget // 3
            room = min(room, max(share, MIN_CLASS_TOKENS))
        lines = self._lines(candidate, len(candidate.members))
        tokens = self.count(self._render_lines(lines))
        if tokens > room and candidate.members:
            # Keep the members used near the cursor first, then as many as fit.
            order = _member_order(candidate, self.used_names)
            lo, hi = 0, len(order)
            best: tuple[str, ...] | None = None
            while lo <= hi:
                mid = (lo + hi) // 2
                trial = self._lines(candidate, mid, order)
                cost = self.count(self._render_lines(trial))
                if cost <= room:
                    best, tokens = trial, cost
                    lo = mid + 1
                else:
                    hi = mid - 1
            if best is None:
                return False
            lines = best
        elif tokens > room:
            return False
        if previous is not None:
            if len(lines) <= 1:
                return False
            self.used -= self.items[previous].tokens
            self.items[previous] = ContextItem(
                candidate.source,
                d.path,
                d.name,
                tokens,
                round(max(candidate.rank, self.items[previous].rank), 3),
                d.kind,
                d.start_line,
                lines,
            )
            self.used += tokens
            self._cover(candidate, lines)
            return True
        self.shown[candidate.key] = len(self.items)
        self.items.append(
            ContextItem(
                candidate.source,
                d.path,
                d.name,
                tokens,
                round(candidate.rank, 3),
                d.kind,
                d.start_line,
                lines,
            )
        )
        self.paths.add(d.path)
        self.used += tokens + overhead
        self._cover(candidate, lines)
        return True

    def header_cost(self, candidates: Iterable[_Candidate]) -> int:
        """About what the header lines of ``candidates`` cost, with their paths."""
        paths = set(self.paths)
        total = 0
        for c in candidates:
            d = c.definition
            if c.key in self.shown:
                continue
            if d.path not in paths:
                paths.add(d.path)
                total += self.count(f"{self.mark} {d.path}:\n")
            total += self.count(self._render_lines((d.signature or d.name,)))
        return total

    def _cover(self, candidate: _Candidate, lines: tuple[str, ...]) -> None:
        self.covered.add(candidate.key)
        shown = set(lines[1:])
        for m in candidate.members:
            if "  " + (m.signature or m.name) in shown:
                self.covered.add((m.path, m.name, m.start_line))

    def _lines(
        self, candidate: _Candidate, n: int, order: list[Definition] | None = None
    ) -> tuple[str, ...]:
        d = candidate.definition
        header = d.signature or d.name
        members = candidate.members if order is None else order
        chosen = sorted(members[:n], key=lambda m: (m.start_line, m.start_col))
        return (header, *("  " + (m.signature or m.name) for m in chosen))

    def _render_lines(self, lines: Iterable[str]) -> str:
        return "".join(f"{self.mark}   {line}\n" for line in lines)

    def render(self, items: Sequence[ContextItem]) -> str:
        if not items:
            return ""
        best: dict[str, int] = {}
        for i, item in enumerate(items):
            best.setdefault(item.path, i)
        groups: dict[str, list[ContextItem]] = {}
        for item in items:
            groups.setdefault(item.path, []).append(item)
        out = [f"{self.mark} {TITLE}\n"]
        for path in sorted(groups, key=lambda p: best[p]):
            out.append(f"{self.mark} {path}:\n")
            for item in sorted(groups[path], key=lambda i: i.line):
                out.append(self._render_lines(item.lines))
        return "".join(out)

    def finish(self) -> AssembledContext:
        items = sorted(self.items, key=lambda i: -i.rank)
        text = self.render(items)
        tokens = self.count(text) if text else 0
        # Tokenizers need not be additive: drop the lowest ranked until the whole fits.
        while items and tokens > self.budget:
            items.pop()
            text = self.render(items)
            tokens = self.count(text) if text else 0
        return AssembledContext(text, items, tokens, self.budget)


def _member_order(candidate: _Candidate, used: frozenset[str] = frozenset()) -> list[Definition]:
    wanted = candidate.wanted
    members = candidate.members

    def key(m: Definition) -> tuple[int, int]:
        if m.name in wanted:
            return (0, 0)
        if m.name in ("__init__", "constructor"):
            return (1, 0)
        if m.name in used:
            return (2, 0)
        if m.kind in ("method", "function"):
            return (3, 0)
        return (4, 0)

    return sorted(members, key=key)
