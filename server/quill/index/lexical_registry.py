"""Lexical facts of languages: their comment and string syntax, read from data.

The facts come from the lexical keys of ``grammars/languages.toml`` (documented there and in
``grammars/README.md``): on a language's own table, over those of the ``[lexical.<family>]``
table it names with ``lexical = "<family>"`` (families may name families in turn). A family
may also answer for editor language ids that have no grammar (``language_ids``), and
``[lexical.generic]`` answers for every language nothing else names.

This module only interprets the parsed tables; :mod:`quill.index.languages` reads the file,
caches the result and answers ``lexical_syntax`` / ``comment_syntax`` through a
:class:`LexicalTable`. A malformed table is logged and reads as "no syntax", never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "LEXICAL_TABLE",
    "UNKNOWN_COMMENTS",
    "CommentSyntax",
    "LexicalSyntax",
    "LexicalTable",
    "build_lexical_table",
    "lexical_families",
    "parse_lexical",
]


@dataclass(frozen=True, slots=True)
class LexicalSyntax:
    """What the lexical scanner knows of a language: its comments and its strings.

    Read from the lexical keys of ``languages.toml`` (documented there and in
    ``grammars/README.md``); the defaults are "none"."""

    line_comments: tuple[str, ...] = ()
    block_comment: tuple[str, str] | None = None
    nested_block_comments: bool = False
    quotes: str = ""
    """One-character string delimiters."""
    multiline_quotes: str = ""
    """Those of ``quotes`` whose strings may span lines."""
    raw_quotes: str = ""
    """Those of ``quotes`` in which a backslash escapes nothing."""
    triple_quotes: bool = False
    char_literals: bool = False
    """``'`` opens a string only as a whole character literal (else: a Rust lifetime)."""
    hash_attribute: bool = False
    """``#[`` and ``#!`` do not start a ``#`` line comment."""


@dataclass(frozen=True, slots=True)
class CommentSyntax:
    """A language's comment markers: its (first) line comment and its block comment."""

    line: str | None
    block: tuple[str, str] | None


UNKNOWN_COMMENTS = CommentSyntax(line="#", block=None)
"""The comment markers assumed for a language nothing names."""

LEXICAL_TABLE = "lexical"
"""The top-level table of ``languages.toml`` holding the lexical families (not a language)."""

_LEXICAL_KEYS = frozenset(
    {
        "line_comment",
        "block_comment",
        "nested_block_comments",
        "quotes",
        "multiline_quotes",
        "raw_quotes",
        "triple_quotes",
        "char_literals",
        "hash_attribute",
    }
)

Families = Mapping[str, Mapping[str, Any]]


def lexical_families(registry: Mapping[str, Any]) -> Families:
    """The ``[lexical.*]`` tables of a parsed ``languages.toml``, by family name."""
    families = registry.get(LEXICAL_TABLE, {})
    if not isinstance(families, Mapping):
        return {}
    return {name: table for name, table in families.items() if isinstance(table, Mapping)}


def _lexical_keys(
    where: str, entry: Mapping[str, object], families: Families, seen: tuple[str, ...] = ()
) -> dict[str, object]:
    """The lexical keys of ``entry``, over those of the family it names (recursively)."""
    merged: dict[str, object] = {}
    base = entry.get("lexical")
    if base is not None:
        family = families.get(str(base))
        if family is None or base in seen:
            log.error(
                "languages.toml: %s names an unknown or circular lexical family %r", where, base
            )
        else:
            merged = _lexical_keys(where, family, families, (*seen, str(base)))
    merged.update((key, value) for key, value in entry.items() if key in _LEXICAL_KEYS)
    return merged


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError("expected a string or a list of strings")
    return tuple(value)


def _chars(value: object) -> str:
    chars = _strings(value)
    if any(len(c) != 1 for c in chars):
        raise TypeError("expected one-character strings")
    return "".join(chars)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def parse_lexical(where: str, entry: Mapping[str, object], families: Families) -> LexicalSyntax:
    """The ``LexicalSyntax`` of one table (``where`` names it in log lines); a malformed one is
    logged and reads as "none"."""
    keys = _lexical_keys(where, entry, families)
    try:
        block = _strings(keys.get("block_comment", []))
        if len(block) not in (0, 2):
            raise TypeError("block_comment: expected [open, close]")
        quotes = _chars(keys.get("quotes", []))
        multiline = _chars(keys.get("multiline_quotes", []))
        raw = _chars(keys.get("raw_quotes", []))
        if not set(multiline + raw) <= set(quotes):
            raise TypeError("multiline_quotes and raw_quotes must be among quotes")
        return LexicalSyntax(
            line_comments=_strings(keys.get("line_comment", [])),
            block_comment=(block[0], block[1]) if block else None,
            nested_block_comments=_flag(keys.get("nested_block_comments", False)),
            quotes=quotes,
            multiline_quotes=multiline,
            raw_quotes=raw,
            triple_quotes=_flag(keys.get("triple_quotes", False)),
            char_literals=_flag(keys.get("char_literals", False)),
            hash_attribute=_flag(keys.get("hash_attribute", False)),
        )
    except TypeError as exc:
        log.error("languages.toml: malformed lexical keys for %s (%s), ignored", where, exc)
        return LexicalSyntax()


@dataclass(frozen=True, slots=True)
class LexicalTable:
    """Lexical syntax by lower-case key (language name, LSP language id, file extension
    without its dot), and the syntax for any other language."""

    by_key: Mapping[str, LexicalSyntax]
    generic: LexicalSyntax

    def find(self, language: str | None) -> LexicalSyntax | None:
        """The syntax named by ``language``; ``None`` when nothing names it."""
        if not language:
            return None
        return self.by_key.get(language.strip().lower())

    def syntax(self, language: str | None) -> LexicalSyntax:
        """The syntax of ``language``; the generic one when nothing names it."""
        found = self.find(language)
        return found if found is not None else self.generic

    def comments(self, language: str | None) -> CommentSyntax:
        """The comment markers of ``language``; :data:`UNKNOWN_COMMENTS` when nothing names it
        (not the generic syntax's)."""
        found = self.find(language)
        if found is None:
            return UNKNOWN_COMMENTS
        return CommentSyntax(
            line=found.line_comments[0] if found.line_comments else None,
            block=found.block_comment,
        )


def build_lexical_table(by_key: Mapping[str, LexicalSyntax], families: Families) -> LexicalTable:
    """The table of the languages' own syntax (``by_key``: lower-case names, language ids and
    extensions), extended by the families' ``language_ids``; ``[lexical.generic]`` (if any)
    answers for the rest. Keys already in ``by_key`` win."""
    mapping = dict(by_key)
    generic = LexicalSyntax()
    for family, table in families.items():
        where = f"[lexical.{family}]"
        syntax = parse_lexical(where, table, families)
        if family == "generic":
            generic = syntax
        try:
            language_ids = _strings(table.get("language_ids", []))
        except TypeError:
            log.error("languages.toml: %s: language_ids must be a list of strings", where)
            continue
        for language_id in language_ids:
            mapping.setdefault(language_id.lower(), syntax)
    return LexicalTable(mapping, generic)
