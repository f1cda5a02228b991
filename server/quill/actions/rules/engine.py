"""``check``: one parse, one query per file, then each language's rules on the captures.

The queries are data (``grammars/<lang>/rules.scm``, compiled once per process); the Python
side of each rule looks only at the nodes its captures name, so a file costs one parse, one
query run and work proportional to the captured nodes.

Each finding's line may carry ``# quill: ignore[rule-id, ...]`` (or ``// ...``: the language's
line comment) to silence those rules there, or a bare ``quill: ignore`` for all of them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from types import MappingProxyType

import tree_sitter

from quill.actions.rules import python_rules
from quill.actions.rules.catalog import RULES, rules_for
from quill.actions.rules.findings import Finding, Fix, Position, TextReplacement
from quill.actions.rules.go_rules import CHECKS as GO_CHECKS
from quill.actions.rules.javascript_rules import CHECKS as JS_CHECKS
from quill.actions.rules.report import Point, RawFinding, Report
from quill.index.languages import (
    comment_syntax,
    get_language,
    get_parser,
    grammars_dir,
    language_for_language_id,
)

log = logging.getLogger(__name__)

__all__ = ["QUERY_FILES", "check", "rules_language", "rules_query"]

Captures = dict[str, list[tree_sitter.Node]]
Check = Callable[[Report, Captures], None]

#: the rules query of each language, relative to ``grammars/`` (TypeScript and TSX share the
#: JavaScript one: every node type it names exists in their grammars too)
QUERY_FILES: Mapping[str, str] = MappingProxyType(
    {
        "python": "python/rules.scm",
        "javascript": "javascript/rules.scm",
        "typescript": "javascript/rules.scm",
        "tsx": "javascript/rules.scm",
        "go": "go/rules.scm",
    }
)


def _checks(language: str) -> Sequence[Check]:
    if language == "python":
        return python_rules.CHECKS
    if language == "go":
        return GO_CHECKS
    return JS_CHECKS


def rules_language(language: str) -> str | None:
    """The language name the rules know ``language`` (a name or an LSP language id) by."""
    name = language_for_language_id(language) or language.strip().lower()
    return name if name in QUERY_FILES else None


@cache
def rules_query(language: str) -> tree_sitter.Query | None:
    """The compiled rules query of ``language``; ``None`` (logged once) when it cannot load."""
    lang = get_language(language)
    rel = QUERY_FILES.get(language)
    if lang is None or rel is None:
        return None
    path = grammars_dir() / rel
    try:
        return tree_sitter.Query(lang, path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        log.error("cannot read the rules query %s: %s", path, exc)
    except (tree_sitter.QueryError, ValueError, TypeError) as exc:
        log.error("the rules query %s does not compile for %s: %s", path, language, exc)
    return None


def check(
    text: str,
    language: str,
    *,
    disabled: Collection[str] = (),
    tree: tree_sitter.Tree | None = None,
) -> list[Finding]:
    """Every finding of the enabled rules in ``text``, sorted by position.

    ``language`` is a language name or an LSP language id; an unsupported one (or a text
    that cannot be parsed) gives ``[]``. ``tree`` may pass the tree of ``text`` already
    parsed for that language (an editor buffer's cached tree)."""
    name = rules_language(language)
    if name is None:
        return []
    enabled = frozenset(rules_for(name)).difference(disabled)
    query = rules_query(name) if enabled else None
    if query is None:
        return []
    source = text.encode("utf-8", "surrogatepass")
    if tree is None:
        parser = get_parser(name)
        if parser is None:
            return []
        try:
            tree = parser.parse(source)
        except ValueError:
            log.exception("cannot parse a %s text of %d bytes", name, len(source))
            return []
    root = tree.root_node
    captures = tree_sitter.QueryCursor(query).captures(root)
    report = Report(source, root, enabled)
    for rule_check in _checks(name):
        try:
            rule_check(report, captures)
        except Exception:  # one broken rule must not cost the others' findings; logged
            log.exception("rule check %s failed on a %s text", rule_check.__name__, name)
    found = [f for f in report.findings if f.rule in enabled]
    if found and "quill:" in text:
        found = _without_ignored(found, text, root, comment_syntax(name).line)
    columns = _Columns(source)
    findings = [_finding(raw, columns) for raw in found]
    findings.sort(key=lambda f: (f.start, f.end, f.rule))
    return findings


def _finding(raw: RawFinding, columns: _Columns) -> Finding:
    fix = None
    if raw.fix_title is not None and raw.edits:
        edits = [TextReplacement(columns(e.start), columns(e.end), e.new_text) for e in raw.edits]
        fix = Fix(raw.fix_title, edits)
    return Finding(
        rule=raw.rule,
        message=raw.message,
        severity=RULES[raw.rule].severity,
        start=columns(raw.start),
        end=columns(raw.end),
        fix=fix,
    )


class _Columns:
    """Tree-sitter points (byte columns) to positions (string columns)."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._ascii = source.isascii()
        self._lines: list[bytes] | None = None

    def __call__(self, point: Point) -> Position:
        row, col = point
        if self._ascii or col == 0:
            return (row, col)
        if self._lines is None:
            self._lines = self._source.split(b"\n")
        if row >= len(self._lines):
            return (row, col)
        return (row, len(self._lines[row][:col].decode("utf-8", "replace")))


@cache
def _ignore_pattern(marker: str) -> re.Pattern[str]:
    return re.compile(re.escape(marker) + r"\s*quill:\s*ignore(?:\[([^\]]*)\]|(?![\w-]))")


def _without_ignored(
    found: list[RawFinding], text: str, root: tree_sitter.Node, marker: str | None
) -> list[RawFinding]:
    """``found`` less the findings a ``quill: ignore`` comment on their line silences."""
    if marker is None:
        return found
    pattern = _ignore_pattern(marker)
    rows = {f.start[0] for f in found}
    ignored: dict[int, frozenset[str] | None] = {}
    for row, line in enumerate(text.split("\n")):
        if row not in rows or "quill:" not in line:
            continue
        for match in pattern.finditer(line):
            col = len(line[: match.start()].encode("utf-8", "surrogatepass"))
            node = root.descendant_for_point_range((row, col), (row, col + len(marker)))
            if node is None or "comment" not in node.type:
                continue  # the words are in a string, not a comment
            ids = match.group(1)
            if ids is None:
                ignored[row] = None
            elif row not in ignored or ignored[row] is not None:
                names = frozenset(i.strip() for i in ids.split(",") if i.strip())
                ignored[row] = names | (ignored.get(row) or frozenset())
    if not ignored:
        return found
    return [
        f
        for f in found
        if f.start[0] not in ignored
        or ((silenced := ignored[f.start[0]]) is not None and f.rule not in silenced)
    ]
