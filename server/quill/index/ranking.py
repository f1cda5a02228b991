"""Choosing what goes into a repo map: the personalization of the PageRank, the ranked
definitions, and the candidates handed to the budget fit.

Personalization: focus files 1.0 each, open files 0.3, recently edited files
0.5 / (1 + position), files defining a mentioned identifier 0.5 shared among them, files
named after one 0.3. The focus files' own definitions are left out of the map (the caller
shows those files anyway). The graph and its ranking are in :mod:`quill.index.graph`; the
rendering and the fit to the token budget in :mod:`quill.index.repomap`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from quill.index.graph import MAX_DEFINERS, RankedDefinition, RefGraph, top_definitions
from quill.index.records import RepoMap
from quill.index.repomap import Candidate, fit_to_budget
from quill.index.state import IndexState

__all__ = ["RepoMapRanker"]

FOCUS_WEIGHT = 1.0
OPEN_WEIGHT = 0.3
RECENT_WEIGHT = 0.5  # divided by 1 + the file's position among the recent ones
MENTION_DEFINER_WEIGHT = 0.5  # shared among the files defining the identifier
MENTION_STEM_WEIGHT = 0.3  # a file named after a mentioned identifier

_RowCache = dict[tuple[int, str], list[tuple]]


class RepoMapRanker:
    """Repo maps from one :class:`~quill.index.state.IndexState`."""

    def __init__(self, state: IndexState) -> None:
        self._state = state

    def repo_map(
        self,
        *,
        budget_tokens: int,
        focus_files: Sequence[Path] = (),
        open_files: Sequence[Path] = (),
        recent_files: Sequence[Path] = (),
        mentioned_idents: Sequence[str] = (),
        count_tokens: Callable[[str], int] | None = None,
    ) -> RepoMap:
        """See :meth:`quill.index.service.WorkspaceIndex.repo_map`."""
        state = self._state
        with state.reader():
            graph = state.graph_locked()
            focus_ids = state.ids_locked(focus_files)
            mentioned = [m for m in dict.fromkeys(mentioned_idents) if m]
            pers = self._personalization_locked(
                graph, focus_ids, open_files, recent_files, mentioned
            )
            ranks = graph.pagerank(pers, mentioned)
            scores = graph.definition_scores(
                ranks, mentioned, exclude_files=focus_ids, focus_files=focus_ids
            )
        # Galloping on how many ranked definitions to fetch: the fit's binary search needs
        # only a few more than end up in the map.
        want = min(len(scores), max(32, budget_tokens // 8))
        rows: _RowCache = {}
        while True:
            top = top_definitions(scores, want)
            with state.reader():
                candidates = self._candidates_locked(top, rows)
            result = fit_to_budget(candidates, budget_tokens, count_tokens)
            if len(result.items) < len(candidates) or want >= len(scores):
                return result
            want = min(len(scores), want * 4)

    def _personalization_locked(
        self,
        graph: RefGraph,
        focus_ids: list[int],
        open_files: Sequence[Path],
        recent_files: Sequence[Path],
        mentioned: list[str],
    ) -> dict[int, float]:
        state = self._state
        pers: dict[int, float] = {}

        def add(fid: int, weight: float) -> None:
            pers[fid] = pers.get(fid, 0.0) + weight

        for fid in focus_ids:
            add(fid, FOCUS_WEIGHT)
        for fid in state.ids_locked(open_files):
            add(fid, OPEN_WEIGHT)
        for i, fid in enumerate(state.ids_locked(recent_files)):
            add(fid, RECENT_WEIGHT / (1 + i))
        if mentioned:
            wanted = set(mentioned)
            for ident in mentioned:
                definers = graph.definers.get(ident, {})
                if 0 < len(definers) <= MAX_DEFINERS:
                    for fid in definers:
                        add(fid, MENTION_DEFINER_WEIGHT / len(definers))
            for fid, rel in state.paths.items():
                stem = rel.rsplit("/", 1)[-1].split(".", 1)[0]
                if stem in wanted:
                    add(fid, MENTION_STEM_WEIGHT)
        return pers

    def _candidates_locked(
        self, ranked: Sequence[RankedDefinition], cache: _RowCache
    ) -> list[Candidate]:
        """The stored definitions behind ``ranked``, each with its enclosing definitions; a
        (file, name) pair defined several times shares its rank among them."""
        store = self._state.store
        paths = self._state.paths

        def rows_for(fid: int, name: str) -> list[tuple]:
            key = (fid, name)
            found = cache.get(key)
            if found is None:
                found = cache[key] = store.defs_named_in_file(fid, name)
            return found

        out: list[Candidate] = []
        for item in ranked:
            path = paths.get(item.file_id)
            matching = rows_for(item.file_id, item.name) if path is not None else []
            if not matching:
                continue
            share = item.rank / len(matching)
            for r in matching:
                name, kind, line, col, _el, _ec, scope, signature = r[:8]
                ancestors = []
                if scope:
                    parts = scope.split(".")
                    for depth, part in enumerate(parts):
                        parent_scope = ".".join(parts[:depth]) or None
                        anc = next(
                            (a for a in rows_for(item.file_id, part) if a[6] == parent_scope),
                            None,
                        )
                        if anc is not None:
                            ancestors.append((anc[2], anc[3], depth, anc[7] or anc[0]))
                depth = scope.count(".") + 1 if scope else 0
                out.append(
                    Candidate(
                        path or "",
                        name,
                        kind,
                        signature or name,
                        line,
                        col,
                        depth,
                        share,
                        tuple(ancestors),
                    )
                )
        out.sort(key=lambda c: (-c.rank, c.path, c.line))
        return out
