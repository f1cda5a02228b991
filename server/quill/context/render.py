"""The renderer of context items: greedy by rank, grouped by path, as comment lines of the
file's language, never over the budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from quill.context.candidates import Candidate
from quill.context.scope import ScopeInfo
from quill.index.languages import comment_syntax
from quill.index.records import Definition
from quill.prompts import read_prompt

CountTokens = Callable[[str], int]

MIN_CLASS_TOKENS = 96  # a class item may always take this much (if the budget has it)


def comment_prefix(language: str | None) -> str:
    """The line-comment marker context lines are written with (``#`` where none is known)."""
    return comment_syntax(language).line or "#"


def context_title() -> str:
    """The first line of rendered context (a data file, like every prompt text)."""
    return read_prompt("context/title.md").strip()


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


class ContextRenderer:
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
        self.title = context_title()
        self.title_tokens = count(f"{mark} {self.title}\n")

    def add(self, candidate: Candidate, header_only: bool = False) -> bool:
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
            candidate = Candidate(
                candidate.source,
                d,
                candidate.rank,
                popular=candidate.popular,
                share=candidate.share,
            )
        if candidate.members:
            # One big class must not crowd out everything else: the first item may take a
            # third of the budget, later ones a quarter, a base class of a type in scope an
            # eighth (its members are cut, the used and the popular ones kept).
            share = self.full_budget // 3 if not self.items else self.full_budget // 4
            if candidate.share:
                share = int(self.full_budget * candidate.share)
            room = min(room, max(share, MIN_CLASS_TOKENS))
        lines = self._lines(candidate, len(candidate.members))
        tokens = self.count(self._render_lines(lines))
        if tokens > room and candidate.members:
            # Keep the members used near the cursor first, then as many as fit.
            order = member_order(candidate, self.used_names)
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

    def header_cost(self, candidates: Iterable[Candidate]) -> int:
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

    def _cover(self, candidate: Candidate, lines: tuple[str, ...]) -> None:
        self.covered.add(candidate.key)
        shown = set(lines[1:])
        for m in candidate.members:
            if "  " + (m.signature or m.name) in shown:
                self.covered.add((m.path, m.name, m.start_line))

    def _lines(
        self, candidate: Candidate, n: int, order: list[Definition] | None = None
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
        out = [f"{self.mark} {self.title}\n"]
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


def member_order(candidate: Candidate, used: frozenset[str] = frozenset()) -> list[Definition]:
    """The members of a class in the order they are kept when not all fit: those used near
    the cursor, the constructor, those the file uses, then the most used in the workspace
    (methods before fields), then source order."""
    wanted = candidate.wanted
    members = candidate.members
    popular = candidate.popular

    def key(m: Definition) -> tuple[int, int, int]:
        if m.name in wanted:
            return (0, 0, 0)
        if m.name in ("__init__", "constructor"):
            return (1, 0, 0)
        if m.name in used:
            return (2, 0, 0)
        return (3, -popular.get(m.name, 0), 0 if m.kind in ("method", "function") else 1)

    return sorted(members, key=key)
