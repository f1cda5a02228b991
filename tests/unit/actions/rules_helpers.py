"""Helpers for the rule tests: findings as tuples, ranges from the text, fixes applied."""

from __future__ import annotations

from collections.abc import Collection

from quill.actions.rules import Finding, Position, check

Range = tuple[Position, Position]


def span(text: str, needle: str, occurrence: int = 1) -> Range:
    """The range of the ``occurrence``-th ``needle`` in ``text`` (1-based)."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return position(text, at), position(text, at + len(needle))


def position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def offset(text: str, pos: Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: pos[0]]) + pos[1]


def found(text: str, language: str, rule: str | None = None) -> list[tuple[str, Range]]:
    return [
        (f.rule, (f.start, f.end)) for f in check(text, language) if rule is None or f.rule == rule
    ]


def only(text: str, language: str, rule: str) -> Finding:
    """The one finding of ``rule`` in ``text``."""
    findings = [f for f in check(text, language) if f.rule == rule]
    assert len(findings) == 1, findings
    return findings[0]


def none_of(text: str, language: str, rules: Collection[str]) -> None:
    hits = [f for f in check(text, language) if f.rule in rules]
    assert not hits, hits


def apply_fix(text: str, finding: Finding) -> str:
    """``text`` with ``finding``'s fix applied (its edits do not overlap)."""
    assert finding.fix is not None, finding
    edits = sorted(finding.fix.edits, key=lambda e: offset(text, e.start), reverse=True)
    for edit in edits:
        start, end = offset(text, edit.start), offset(text, edit.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def word(text: str, name: str, occurrence: int = 1) -> Range:
    """The range of the ``occurrence``-th ``name`` standing as a whole word in ``text``."""
    import re

    matches = list(re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text))
    match = matches[occurrence - 1]
    return position(text, match.start()), position(text, match.end())
