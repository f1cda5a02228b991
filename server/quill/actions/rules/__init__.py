"""Static bug rules on the tree-sitter tree: no model, no transport.

``check(text, language)`` parses once, runs one query (``grammars/<lang>/rules.scm``) and
each language's rules on what it captured, and returns plain :class:`Finding` objects with
string-index columns; :data:`RULES` lists every rule for settings and docs."""

from __future__ import annotations

from quill.actions.rules.catalog import RULES, rules_for
from quill.actions.rules.engine import check, rules_language
from quill.actions.rules.findings import (
    Finding,
    Fix,
    Position,
    RuleInfo,
    Severity,
    TextReplacement,
)

__all__ = [
    "RULES",
    "Finding",
    "Fix",
    "Position",
    "RuleInfo",
    "Severity",
    "TextReplacement",
    "check",
    "rules_for",
    "rules_language",
]
