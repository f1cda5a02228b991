"""The reference graph between files and its personalized PageRank.

Nodes are files (by file id). File ``r`` has an edge to file ``d`` for every identifier ``i``
that ``r`` references and ``d`` defines, weighted

    w(r, d, i) = m(i) * sqrt(refs of i in r) / k(i)

where ``k(i)`` is the number of files defining ``i`` (a reference to a name defined in many
places says little about each of them) and ``m(i)`` depends on the name's shape: long
snake_case / camelCase names x10 (distinctive), names starting with ``_`` x0.1 (private or
dunder), names of one or two characters x0.1, and, per request, identifiers mentioned near the
cursor x10. A file that defines ``i`` itself is assumed to use its own definition (no edges
for ``i``), and names defined in more than :data:`MAX_DEFINERS` files are not linked at all.

The edges are kept in memory and updated incrementally: when one file changes, only its own
out-edges and the edges of identifiers whose set of defining files changed are recomputed,
so re-ranking never rescans the workspace. PageRank (:mod:`quill.index.pagerank`) is a plain
power iteration with the personalization vector used for teleports and for dangling nodes; it
starts from the previous solution, which makes re-ranking after a small change converge in a
few steps.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from quill.index.pagerank import personalized_pagerank

__all__ = [
    "MAX_DEFINERS",
    "RankedDefinition",
    "RefGraph",
    "ident_multiplier",
    "top_definitions",
]

MAX_DEFINERS = 40
MENTION_BOOST = 10.0
DAMPING = 0.85
FILE_SHARE = 0.05  # part of a file's rank spread evenly over all its definitions
FOCUS_FLOW_BOOST = 10.0  # what the focus file references directly comes before the rest


def ident_multiplier(name: str) -> float:
    """The shape part ``m(i)`` of an identifier's weight (see the module docstring)."""
    m = 1.0
    if len(name) >= 8 and (
        "_" in name.strip("_") or (not name.isupper() and not name.islower() and name.isalnum())
    ):
        m *= 10.0
    if name.startswith("_"):
        m *= 0.1
    if len(name) <= 2:
        m *= 0.1
    return m


@dataclass(frozen=True, slots=True)
class RankedDefinition:
    file_id: int
    name: str
    rank: float


class RefGraph:
    """Which files define and reference which identifiers, plus the derived file graph."""

    def __init__(self) -> None:
        self.file_defs: dict[int, dict[str, int]] = {}
        self.file_refs: dict[int, dict[str, int]] = {}
        self.definers: dict[str, dict[int, int]] = {}
        self.referencers: dict[str, dict[int, int]] = {}
        self.version = 0
        self._out: dict[int, dict[int, float]] | None = None
        self._out_weight: dict[int, float] = {}
        self._mult: dict[str, float] = {}
        self._last_rank: dict[int, float] = {}
        self._ignore: dict[int, frozenset[str]] = {}
        self._rank_cache: tuple[object, dict[int, float]] | None = None

    # ---------------------------------------------------------------- updates

    def set_file(
        self,
        fid: int,
        defs: Mapping[str, int],
        refs: Mapping[str, int],
        ignore: frozenset[str] = frozenset(),
    ) -> None:
        """Replace what file ``fid`` defines and references (name -> occurrence count).
        References to names in ``ignore`` (the file language's built-ins) are kept for
        :attr:`referencers` but make no edges."""
        old_defs = self.file_defs.get(fid, {})
        old_refs = self.file_refs.get(fid, {})
        if ignore:
            self._ignore[fid] = ignore
        else:
            self._ignore.pop(fid, None)
        if old_defs == defs and old_refs == refs:
            return
        changed = [n for n in old_defs if n not in defs]
        changed.extend(n for n in defs if n not in old_defs)
        if self._out is not None:
            for name in changed:
                self._apply_ident(name, -1.0, skip=fid)
        _replace_counts(self.definers, self.file_defs, fid, old_defs, defs)
        _replace_counts(self.referencers, self.file_refs, fid, old_refs, refs)
        if self._out is not None:
            for name in changed:
                self._apply_ident(name, 1.0, skip=fid)
            if changed or old_refs != refs:
                self._rebuild_out(fid)
        self.version += 1
        self._rank_cache = None

    def remove_file(self, fid: int) -> None:
        if fid in self.file_defs or fid in self.file_refs:
            self.set_file(fid, {}, {})
        if self._out is not None:
            self._out.pop(fid, None)
            self._out_weight.pop(fid, None)
        self._last_rank.pop(fid, None)
        self._ignore.pop(fid, None)

    def nodes(self) -> set[int]:
        return set(self.file_defs) | set(self.file_refs)

    # ---------------------------------------------------------------- edges

    def multiplier(self, name: str) -> float:
        m = self._mult.get(name)
        if m is None:
            m = self._mult[name] = ident_multiplier(name)
        return m

    def _contributions(self, name: str) -> tuple[dict[int, int], float] | None:
        """(definers, m(i)/k(i)) when ``name`` links files, else ``None``."""
        definers = self.definers.get(name)
        if not definers or len(definers) > MAX_DEFINERS:
            return None
        return definers, self.multiplier(name) / len(definers)

    def _links_through(
        self, name: str
    ) -> tuple[dict[int, int], float, list[tuple[int, int]]] | None:
        """When ``name`` links files: its definers, m(i)/k(i), and the (file, reference count)
        of every referencer that gets edges through it (it does not define ``name`` itself
        and does not count it among its language's built-ins)."""
        contrib = self._contributions(name)
        referencers = self.referencers.get(name)
        if contrib is None or not referencers:
            return None
        definers, per = contrib
        ignore = self._ignore
        users = [
            (r, n)
            for r, n in referencers.items()
            if r not in definers and name not in ignore.get(r, ())
        ]
        return definers, per, users

    def _links_from(self, fid: int) -> Iterator[tuple[str, int, dict[int, int], float]]:
        """(identifier, reference count, its definers, m(i)/k(i)) for every reference of file
        ``fid`` that makes edges: the out-edges of ``fid`` before weighting."""
        # The hot loop of graph building and of definition scores: what
        # :meth:`_contributions` does, inlined.
        definers_of = self.definers.get
        mult = self._mult
        ignore = self._ignore.get(fid, frozenset())
        for name, n in self.file_refs.get(fid, {}).items():
            if name in ignore:
                continue
            definers = definers_of(name)
            if not definers or fid in definers or len(definers) > MAX_DEFINERS:
                continue
            m = mult.get(name)
            if m is None:
                m = self.multiplier(name)
            yield name, n, definers, m / len(definers)

    def _weight(self, fid: int, extra: Mapping[int, Mapping[int, float]]) -> float:
        """The total weight of file ``fid``'s out-edges, mention edges included."""
        w = self._out_weight.get(fid, 0.0)
        e = extra.get(fid)
        if e:
            w += sum(e.values())
        return w

    def _apply_ident(self, name: str, sign: float, skip: int) -> None:
        """Add (sign=1) or remove (sign=-1) identifier ``name``'s edges from its referencers,
        except ``skip`` (whose out-edges are rebuilt separately)."""
        assert self._out is not None
        links = self._links_through(name)
        if links is None:
            return
        definers, per, users = links
        for r, n in users:
            if r == skip:
                continue
            w = sign * per * math.sqrt(n)
            out = self._out.setdefault(r, {})
            for d in definers:
                v = out.get(d, 0.0) + w
                if v > 1e-12:
                    out[d] = v
                else:
                    out.pop(d, None)
            if out:
                self._out_weight[r] = sum(out.values())
            else:
                del self._out[r]
                self._out_weight.pop(r, None)

    def _rebuild_out(self, fid: int) -> None:
        assert self._out is not None
        out: dict[int, float] = {}
        for _name, n, definers, per in self._links_from(fid):
            w = per * math.sqrt(n)
            for d in definers:
                out[d] = out.get(d, 0.0) + w
        if out:
            self._out[fid] = out
            self._out_weight[fid] = sum(out.values())
        else:
            self._out.pop(fid, None)
            self._out_weight.pop(fid, None)

    def ensure_edges(self) -> None:
        """Build the file graph once; later updates keep it current."""
        if self._out is not None:
            return
        self._out = {}
        self._out_weight = {}
        for fid in self.file_refs:
            self._rebuild_out(fid)

    def edge_count(self) -> int:
        self.ensure_edges()
        assert self._out is not None
        return sum(len(v) for v in self._out.values())

    # ---------------------------------------------------------------- ranking

    def _mention_edges(self, mentioned: Iterable[str]) -> dict[int, dict[int, float]]:
        """Extra weight (xMENTION_BOOST in total) for edges through mentioned identifiers."""
        extra: dict[int, dict[int, float]] = {}
        for name in mentioned:
            links = self._links_through(name)
            if links is None:
                continue
            definers, per, users = links
            for r, n in users:
                w = (MENTION_BOOST - 1.0) * per * math.sqrt(n)
                out = extra.setdefault(r, {})
                for d in definers:
                    out[d] = out.get(d, 0.0) + w
        return extra

    def pagerank(
        self,
        personalization: Mapping[int, float],
        mentioned: Iterable[str] = (),
        *,
        tol: float = 1e-6,
        max_iter: int = 200,
    ) -> dict[int, float]:
        """Personalized PageRank over files; uniform when ``personalization`` is empty."""
        mentioned_set = frozenset(mentioned)
        key = (self.version, tuple(sorted(personalization.items())), mentioned_set)
        if self._rank_cache is not None and self._rank_cache[0] == key:
            return self._rank_cache[1]
        self.ensure_edges()
        assert self._out is not None
        nodes = self.nodes()
        if not nodes:
            return {}
        extra = self._mention_edges(mentioned_set)
        rank = personalized_pagerank(
            nodes,
            self._out,
            extra,
            {r: self._weight(r, extra) for r in nodes},
            personalization,
            self._last_rank,
            damping=DAMPING,
            tol=tol,
            max_iter=max_iter,
        )
        self._last_rank = rank
        self._rank_cache = (key, rank)
        return rank

    def definition_scores(
        self,
        ranks: Mapping[int, float],
        mentioned: Iterable[str] = (),
        exclude_files: Iterable[int] = (),
        focus_files: Iterable[int] = (),
    ) -> dict[tuple[int, str], float]:
        """Spread each file's rank over the definitions it points at: a score per
        (defining file, identifier).

        A file's rank flows along its out-edges (as in the PageRank step) and lands on the
        (defining file, identifier) pairs of those edges; flows out of ``focus_files`` count
        :data:`FOCUS_FLOW_BOOST` times, so the focus file's direct dependencies come before
        its dependencies' dependencies. On top, :data:`FILE_SHARE` of every file's own rank
        is spread evenly over its own definitions, so definitions of highly ranked files that
        nothing references yet still place. Files whose rank is below 1% of the uniform
        rank contribute nothing (their share could not place anyway).
        """
        self.ensure_edges()
        mentioned_set = frozenset(mentioned)
        excluded = set(exclude_files)
        focus = set(focus_files)
        floor = 0.01 / max(1, len(ranks))
        extra = self._mention_edges(mentioned_set) if mentioned_set else {}
        sqrt = math.sqrt
        # Identifier flow: sum over referencers first (independent of the definer).
        flow: dict[str, float] = {}
        for r, rr in ranks.items():
            if rr <= floor:
                continue
            w = self._weight(r, extra)
            if w <= 0.0:
                continue
            f = rr / w
            if r in focus:
                f *= FOCUS_FLOW_BOOST
            for name, n, _definers, per in self._links_from(r):
                if name in mentioned_set:
                    per *= MENTION_BOOST
                flow[name] = flow.get(name, 0.0) + f * per * sqrt(n)
        scores: dict[tuple[int, str], float] = {}
        for name, value in flow.items():
            for d in self.definers.get(name, ()):
                if d not in excluded:
                    key = (d, name)
                    scores[key] = scores.get(key, 0.0) + value
        for d, rd in ranks.items():
            if rd <= floor or d in excluded:
                continue
            defs = self.file_defs.get(d)
            if not defs:
                continue
            share = FILE_SHARE * rd / len(defs)
            for name in defs:
                key = (d, name)
                boost = MENTION_BOOST if name in mentioned_set else 1.0
                scores[key] = scores.get(key, 0.0) + share * boost
        return scores


def top_definitions(
    scores: Mapping[tuple[int, str], float], limit: int | None = None
) -> list[RankedDefinition]:
    """The best ``limit`` scores (all when ``None``), best first; ties by file id and name."""
    items = scores.items()
    if limit is None:
        best = sorted(items, key=_score_order)
    else:
        best = heapq.nsmallest(limit, items, key=_score_order)
    return [RankedDefinition(fid, name, score) for (fid, name), score in best]


def _score_order(item: tuple[tuple[int, str], float]) -> tuple[float, int, str]:
    (fid, name), score = item
    return (-score, fid, name)


def _replace_counts(
    by_name: dict[str, dict[int, int]],
    by_file: dict[int, dict[str, int]],
    fid: int,
    old: Mapping[str, int],
    new: Mapping[str, int],
) -> None:
    """Make one side of the graph (definitions or references) say that file ``fid`` now has
    ``new`` (name -> count) where it had ``old``: both the per-name and the per-file index."""
    for name in old:
        if name not in new:
            files = by_name.get(name)
            if files is not None:
                files.pop(fid, None)
                if not files:
                    del by_name[name]
    for name, n in new.items():
        if old.get(name) != n:
            by_name.setdefault(name, {})[fid] = n
    if new:
        by_file[fid] = dict(new)
    else:
        by_file.pop(fid, None)
