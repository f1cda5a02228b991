"""Candidates for the context of one cursor position, and their ranking.

See :mod:`quill.context.assemble` for the sources and the order in which the budget is spent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from quill.context.imports import ImportResolver, ResolvedImport
from quill.context.scope import ScopeInfo, bases_from_signature
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex

CLASS_KINDS = frozenset({"class", "interface"})
MAX_MEMBERS = 40  # member lines of one class, at most
MAX_MODULE_HELPERS = 30  # helpers listed per module imported whole
MAX_MODULE_HEADERS = 200  # helpers' header lines offered per module imported whole
MAX_NEARBY = 16
BASE_SHARE = 1 / 8  # of the budget, for the members of a base class of a type in scope
MAX_UNUSED_IMPORTS = 16  # imported names not used yet: shown first when there are no more
NEAR_LINES = 12  # lines above the cursor that count as "near"

# Ranks (higher first); see the module docstring.
RANK_ATTRIBUTE = 90.0
RANK_PARAMETER = 88.0
RANK_LOCAL = 86.0
RANK_SELF_BASE = 84.0
RANK_GUESS = 82.0  # a receiver typed by its name only
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


@dataclass(slots=True)
class Candidate:
    source: str
    definition: Definition
    rank: float
    members: list[Definition] = field(default_factory=list)
    wanted: frozenset[str] = frozenset()  # member names used near the cursor: kept first
    tier: int = 0  # header pass: 0 used near the cursor / in the function, 1 in the file, 2 not
    order: float = 0.0  # header pass: lower first within a tier
    #: member name -> files of the workspace that use the name: of members not used near the
    #: cursor or in the file, the most used are kept when a class is cut
    popular: Mapping[str, int] = field(default_factory=dict)
    #: the part of the budget its members may take (0: the renderer's default)
    share: float = 0.0

    @property
    def key(self) -> tuple[str, str, int]:
        d = self.definition
        return (d.path, d.name, d.start_line)


class Usage:
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


#: name -> how many files of the workspace use it
Popularity = Callable[[str], int]


def _no_popularity(name: str) -> int:
    return 0


class Gatherer:
    def __init__(
        self,
        index: WorkspaceIndex,
        resolver: ImportResolver,
        rel_path: str,
        usage: Usage,
        popularity: Popularity = _no_popularity,
    ) -> None:
        self.index = index
        self.popularity = popularity
        self.resolver = resolver
        self.rel = rel_path
        self.usage = usage
        self.members_cache: dict[str, list[Definition]] = {}
        self.by_key: dict[tuple[str, str, int], Candidate] = {}
        self.seen: set[tuple[str, str, int]] = set()
        self.headers: dict[tuple[str, str, int], Candidate] = {}

    def header(self, candidate: Candidate) -> None:
        """A candidate for the header pass (one line each, best tier and order kept)."""
        d = candidate.definition
        if d.path == self.rel or not d.signature:
            return
        old = self.headers.get(candidate.key)
        if old is None or (candidate.tier, candidate.order) < (old.tier, old.order):
            self.headers[candidate.key] = candidate

    def header_candidates(self) -> list[Candidate]:
        return sorted(
            self.headers.values(), key=lambda c: (c.tier, c.order, -c.rank, c.definition.path)
        )

    def _tier(self, bonus: float, used_in_file: bool) -> int:
        if bonus >= BONUS_FUNCTION:
            return 0
        return 1 if used_in_file else 2

    def add(self, candidate: Candidate) -> None:
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
            if old.share and candidate.share:
                candidate.share = max(old.share, candidate.share)
            elif not old.share:
                candidate.share = 0.0
            self.by_key[key] = candidate
        else:
            old.wanted = old.wanted | candidate.wanted
            if old.share and (not candidate.share or candidate.share > old.share):
                old.share = candidate.share

    def ranked(self) -> list[Candidate]:
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
    ) -> Candidate:
        members = self.members(d) if d.kind in CLASS_KINDS else []
        wanted = frozenset(wanted)
        popular = {m.name: self.popularity(m.name) for m in members}
        if len(members) > MAX_MEMBERS:
            # The ones this file uses first, then those most used in the workspace.
            used = self.usage.file_attributes
            keep = sorted(
                members,
                key=lambda m: (m.name not in wanted and m.name not in used, -popular[m.name]),
            )
            chosen = {id(m) for m in keep[:MAX_MEMBERS]}
            members = [m for m in members if id(m) in chosen]
        return Candidate(source, d, rank, members, wanted, popular=popular)

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
            elif origin == "guess":
                rank = RANK_GUESS
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
                candidate = self.class_candidate(source, bd, rank)
                candidate.share = BASE_SHARE  # its members are the subclass's, less often used
                self.add(candidate)
                self._bases(source, bd, rank - 1, depth + 1)

    # -- imports

    def imported(self, imports: Sequence[ResolvedImport]) -> None:
        # A name imported and not used yet is what the code being written is about to use
        # (imports are rarely left unused): its header goes with those used near the cursor,
        # unless the file has so many that they say nothing.
        unused = [
            imp
            for imp in imports
            if imp.kind != "module"
            and not imp.star
            and imp.definitions
            and self.usage.file_counts.get(imp.local_name, 0) <= 1
        ]
        unused_tier = 0 if len(unused) <= MAX_UNUSED_IMPORTS else 1
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
                if not in_file:
                    tier = unused_tier
                for d in imp.definitions[:1]:
                    self.header(Candidate("import", d, base + bonus, tier=tier, order=-bonus))
            for d in _first_of_each(imp.definitions)[:3]:
                if d.kind in CLASS_KINDS:
                    rank = (RANK_IMPORTED_CLASS if not imp.star else RANK_STAR) + bonus
                    self.add(self.class_candidate("import", d, rank))
                else:
                    self.add(Candidate("import", d, base + bonus))

    def _module(self, imp: ResolvedImport) -> None:
        prefix = imp.local_name + "."
        for i, d in enumerate(_first_of_each(imp.definitions)):
            if d.name.startswith("_"):
                continue
            bonus = self.usage.bonus_for_text(prefix + d.name)
            if bonus or i < MAX_MODULE_HEADERS:
                tier = self._tier(bonus, bool(bonus))
                # Of the names the file does not use yet, those most used in the workspace
                # first (a module of 200 node classes does not fit; its popular ones do).
                order = float(i) if tier < 2 else i / 1000 - self.popularity(d.name)
                self.header(Candidate("module", d, RANK_MODULE + bonus, tier=tier, order=order))
            if i >= MAX_MODULE_HELPERS * 2:
                continue
            if not bonus and i >= MAX_MODULE_HELPERS:
                continue
            rank = RANK_MODULE + bonus - 0.01 * i
            if d.kind in CLASS_KINDS:
                self.add(self.class_candidate("module", d, rank - 1))
            else:
                self.add(Candidate("module", d, rank))

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
                    self.add(Candidate("nearby", d, rank))

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
                        self.add(Candidate("recent_edit", d, rank))


def _first_of_each(defs: Sequence[Definition]) -> list[Definition]:
    """One definition per name and file: of overloads (``@overload`` stubs, then the
    implementation) the first says enough."""
    seen: set[tuple[str, str]] = set()
    out: list[Definition] = []
    for d in defs:
        key = (d.path, d.name)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


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
