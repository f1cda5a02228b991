"""The plain results of the static rules: findings, their quick fixes and the rule catalogue's
entries. No transport types: a front door converts these to LSP diagnostics and code actions.

Positions are ``(line, column)``, both 0-based; a column is a Python string index into the
line (the front door converts it with the negotiated position encoding)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from quill.actions.replacements import Position, TextReplacement

__all__ = ["Finding", "Fix", "Position", "RuleInfo", "Severity", "TextReplacement"]

Severity = Literal["error", "warning", "information", "hint"]


@dataclass(frozen=True, slots=True)
class Fix:
    """A mechanical quick fix: edits to apply together, none overlapping another."""

    title: str
    edits: list[TextReplacement]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a rule found, at ``[start, end)``."""

    rule: str
    message: str
    severity: Severity
    start: Position
    end: Position
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule, for settings and documentation: its id, the languages it checks, what it
    means, whether its findings (may) carry a quick fix, and its severity."""

    id: str
    languages: tuple[str, ...]
    message: str
    has_fix: bool
    severity: Severity = "warning"
