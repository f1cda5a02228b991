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

Modules: :mod:`quill.context.candidates` (what may be shown, and its rank),
:mod:`quill.context.render` (what fits, as comment lines), and here the passes and the
:class:`ContextAssembler` that keeps what is shared between calls for one index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from quill.context.candidates import (
    RANK_NEAR_TYPE,
    RANK_PRIORITY,
    RANK_REPO_MAP,
    Candidate,
    Gatherer,
    Usage,
    identifiers_near,
)
from quill.context.imports import ImportResolver
from quill.context.render import (
    AssembledContext,
    ContextItem,
    ContextRenderer,
    CountTokens,
    comment_prefix,
)
from quill.context.scope import infer_scope
from quill.context.sections import ContextQuery, ContextSection
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.models.tokens import estimate_tokens

log = logging.getLogger(__name__)

__all__ = [
    "AssembledContext",
    "ContextAssembler",
    "ContextItem",
    "assemble_context",
    "comment_prefix",
    "context_source",
    "default_count_tokens",
    "identifiers_near",
]

MIN_REPO_MAP_TOKENS = 24  # below this, the repo map is not asked
#: What other files define changes only when they are edited (then they are the current file,
#: whose data is always read afresh) or change on disk; what is read about them is kept for
#: a few seconds and shared between calls. The repo map (a PageRank over the whole
#: workspace) is kept per file for a little longer: it only fills what the ranked candidates
#: leave.
RESOLVER_TTL_S = 5.0
REPO_MAP_TTL_S = 15.0
REPO_MAP_CACHE_SIZE = 16
#: how many files use a name: the order in which the members of a class that is cut are kept
POPULARITY_TTL_S = 60.0


def default_count_tokens(text: str) -> int:
    return estimate_tokens(text)


class ContextAssembler:
    """Context for cursor positions in one workspace index, with what calls share (the
    import resolver, recent repo maps) kept on this object, never in module globals."""

    def __init__(
        self, index: WorkspaceIndex, *, read_text: Callable[[str], str | None] | None = None
    ) -> None:
        self.index = index
        self._read_text = read_text
        self._lock = threading.Lock()
        self._resolver: tuple[float, ImportResolver] | None = None
        self._repo_maps: OrderedDict[tuple[object, ...], tuple[float, list[Candidate]]] = (
            OrderedDict()
        )
        self._popularity: tuple[float, dict[str, int]] = (time.monotonic(), {})

    def clear(self) -> None:
        """Forget everything shared between calls (after a re-index, or in tests)."""
        with self._lock:
            self._resolver = None
            self._repo_maps.clear()
            self._popularity = (time.monotonic(), {})

    def _resolver_for(self, rel_path: str) -> ImportResolver:
        now = time.monotonic()
        with self._lock:
            entry = self._resolver
            if entry is None or now - entry[0] > RESOLVER_TTL_S:
                entry = (now, self._new_resolver())
                self._resolver = entry
            resolver = entry[1]
        resolver.forget(rel_path)
        return resolver

    def _new_resolver(self) -> ImportResolver:
        return ImportResolver(self.index, read_text=self._read_text)

    def _popularity_table(self) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            if now - self._popularity[0] > POPULARITY_TTL_S:
                self._popularity = (now, {})
            return self._popularity[1]

    def popularity(self, name: str) -> int:
        """How many files of the workspace use ``name`` (kept a while: it changes slowly)."""
        table = self._popularity_table()
        found = table.get(name)
        if found is None:
            try:
                found = len({r.path for r in self.index.references(name)})
            except (OSError, ValueError, RuntimeError) as exc:
                log.debug("references of %s: %s", name, exc)
                found = 0
            table[name] = found
        return found

    def assemble(
        self,
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

        ``rel_path`` is workspace-relative (``/``-separated); ``text`` the file's current
        text; ``line`` and ``column`` are 0-based, the column counting characters.
        ``recent_files`` (most recent first) and ``open_files`` are workspace-relative paths.
        Never raises for bad input; never returns more than ``budget_tokens`` tokens by
        ``count_tokens``."""
        started = time.perf_counter()
        index = self.index
        count = count_tokens or default_count_tokens
        language = language or language_for_path(rel_path)
        empty = AssembledContext("", [], 0, budget_tokens)
        if budget_tokens <= 0:
            return empty
        resolver = self._resolver_for(rel_path)
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
        usage = Usage(lines, line, scope, rel_path)
        gatherer = Gatherer(index, resolver, rel_path, usage, self.popularity)
        gatherer.types_in_scope(scope)
        gatherer.imported(imports)
        gatherer.nearby()
        gatherer.recent(recent_files, text)
        candidates = gatherer.ranked()
        renderer = ContextRenderer(
            comment_prefix(language), count, budget_tokens, usage.file_attributes
        )
        # Passes: first the types of the values written near the cursor, with their members;
        # one header line for each imported name (and module helper) used near the cursor or
        # in the enclosing function; the other types in scope; the header lines of the other
        # imported names and helpers; then everything else.
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
            # A name of a file already shown is not shown again (overloads, redefinitions).
            named = {(item.path, item.name) for item in renderer.items}
            for candidate in self._repo_map_candidates(
                rel_path, budget_tokens, usage, recent_files, open_files, count
            ):
                d = candidate.definition
                if (
                    candidate.key not in gatherer.seen
                    and candidate.key not in renderer.covered
                    and (d.path, d.name) not in named
                    and renderer.add(candidate)
                ):
                    named.add((d.path, d.name))
        result = renderer.finish()
        result.scope = scope
        result.candidates = len(candidates)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    def _repo_map_candidates(
        self,
        rel_path: str,
        budget: int,
        usage: Usage,
        recent_files: Sequence[str],
        open_files: Sequence[str],
        count: CountTokens,
    ) -> list[Candidate]:
        key = (rel_path, budget, tuple(open_files), tuple(recent_files[:5]))
        now = time.monotonic()
        with self._lock:
            entry = self._repo_maps.get(key)
            if entry is not None and now - entry[0] <= REPO_MAP_TTL_S:
                self._repo_maps.move_to_end(key)
                return entry[1]
        candidates = repo_map_candidates(
            self.index, rel_path, budget, usage, recent_files, open_files, count
        )
        with self._lock:
            self._repo_maps[key] = (now, candidates)
            while len(self._repo_maps) > REPO_MAP_CACHE_SIZE:
                self._repo_maps.popitem(last=False)
        return candidates


def repo_map_candidates(
    index: WorkspaceIndex,
    rel_path: str,
    budget: int,
    usage: Usage,
    recent_files: Sequence[str],
    open_files: Sequence[str],
    count: CountTokens,
) -> list[Candidate]:
    """The personalized repo map for ``rel_path`` as candidates (ranked below the others)."""
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
    out: list[Candidate] = []
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
        out.append(Candidate("repo_map", d, RANK_REPO_MAP + item.rank - 0.001 * i))
    return out


def assemble_context(
    index: WorkspaceIndex,
    rel_path: str,
    text: str,
    line: int,
    column: int,
    budget_tokens: int,
    **options: object,
) -> AssembledContext:
    """One assembly with nothing kept for later (commands, tests); a long-lived caller holds
    a :class:`ContextAssembler` instead. Options as for :meth:`ContextAssembler.assemble`."""
    return ContextAssembler(index).assemble(
        rel_path,
        text,
        line,
        column,
        budget_tokens,
        **options,  # type: ignore[arg-type]
    )


def context_source(
    assembler: Callable[[], ContextAssembler | None],
    open_files: Callable[[], Sequence[str]] = lambda: (),
    recent_files: Callable[[], Sequence[str]] = lambda: (),
    count_tokens: CountTokens | None = None,
) -> Callable[[ContextQuery], Sequence[ContextSection]]:
    """The assembler as a completion context source (one ``"context"`` section). The
    cursor column is the length of the prefix's last line."""

    def source(query: ContextQuery) -> Sequence[ContextSection]:
        current = assembler()
        if current is None or not query.path:
            return []
        column = len(query.prefix) - query.prefix.rfind("\n") - 1
        result = current.assemble(
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
