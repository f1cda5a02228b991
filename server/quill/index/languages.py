"""Language registry: file extensions, grammar wheels, tags queries and lexical facts (comment
and string syntax), all read from data.

The registry lives in ``grammars/languages.toml``. In an installed wheel the ``grammars`` folder
ships as ``quill/grammars``; in a development checkout it sits at the repository root.

Parsers are cached per thread (a ``tree_sitter.Parser`` is not safe to share between threads);
languages and compiled queries are shared. A query that fails to compile is logged once and
its language is then reported as unsupported (``get_tags_query`` returns ``None``).

Lexical facts do not need a grammar: ``lexical_syntax`` and ``comment_syntax`` answer for every
indexed language (by name, LSP language id or file extension), for the languages the
``[lexical.*]`` tables name by ``language_ids``, and with defaults for any other.
"""

from __future__ import annotations

import importlib
import importlib.resources
import logging
import os
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter

import quill

log = logging.getLogger(__name__)

__all__ = [
    "CommentSyntax",
    "LanguageSpec",
    "LexicalSyntax",
    "builtin_names",
    "comment_syntax",
    "definition_kinds",
    "docstring_style",
    "get_language",
    "get_parser",
    "get_tags_query",
    "grammars_dir",
    "language_for_language_id",
    "language_for_path",
    "language_specs",
    "lexical_syntax",
    "supported_languages",
    "watched_files_glob",
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


_UNKNOWN_COMMENTS = CommentSyntax(line="#", block=None)


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """One entry of ``languages.toml``."""

    name: str
    extensions: tuple[str, ...]
    module: str
    function: str
    tags: tuple[str, ...]
    file_is_module: bool
    builtins: frozenset[str] = frozenset()
    language_ids: tuple[str, ...] = ()
    #: syntax node types of definitions (what code actions work on) -> what menus call them
    definitions: Mapping[str, str] = field(default_factory=dict)
    #: how the language documents a definition ("a PEP 257 docstring ...")
    docstring: str = "a documentation comment"
    lexical: LexicalSyntax = field(default_factory=LexicalSyntax)
    """Comment and string syntax, with the ``lexical`` family's keys applied."""


@cache
def grammars_dir() -> Path:
    """The folder holding ``languages.toml`` and the per-language queries."""
    try:
        packaged = importlib.resources.files("quill") / "grammars"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, OSError, TypeError):  # pragma: no cover - exotic loaders
        pass
    return Path(quill.__file__).resolve().parents[2] / "grammars"


_LEXICAL_TABLE = "lexical"  # the top-level table of lexical families, not a language
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


@cache
def _registry() -> Mapping[str, Any]:
    """The parsed ``languages.toml``; empty (logged) if it is unreadable."""
    path = grammars_dir() / "languages.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        log.exception("cannot read the language registry %s", path)
        return {}


def _lexical_families() -> Mapping[str, Mapping[str, Any]]:
    families = _registry().get(_LEXICAL_TABLE, {})
    if not isinstance(families, Mapping):
        return {}
    return {name: table for name, table in families.items() if isinstance(table, Mapping)}


def _lexical_keys(
    where: str, entry: Mapping[str, object], seen: tuple[str, ...] = ()
) -> dict[str, object]:
    """The lexical keys of ``entry``, over those of the family it names (recursively)."""
    merged: dict[str, object] = {}
    base = entry.get("lexical")
    if base is not None:
        family = _lexical_families().get(str(base))
        if family is None or base in seen:
            log.error(
                "languages.toml: %s names an unknown or circular lexical family %r", where, base
            )
        else:
            merged = _lexical_keys(where, family, (*seen, str(base)))
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


def _parse_lexical(where: str, entry: Mapping[str, object]) -> LexicalSyntax:
    """The ``LexicalSyntax`` of one table; a malformed one is logged and reads as "none"."""
    keys = _lexical_keys(where, entry)
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


@cache
def language_specs() -> Mapping[str, LanguageSpec]:
    """All languages declared in ``languages.toml``, keyed by name. Empty if it is unreadable."""
    specs: dict[str, LanguageSpec] = {}
    for name, entry in _registry().items():
        if name == _LEXICAL_TABLE:
            continue
        try:
            tags = entry["tags"]
            specs[name] = LanguageSpec(
                name=name,
                extensions=tuple(str(e).lower() for e in entry["extensions"]),
                module=str(entry["module"]),
                function=str(entry.get("function", "language")),
                tags=(tags,) if isinstance(tags, str) else tuple(str(t) for t in tags),
                file_is_module=bool(entry.get("file_is_module", False)),
                builtins=frozenset(str(n) for n in entry.get("builtins", ())),
                language_ids=tuple(str(i) for i in entry.get("language_ids", (name,))),
                definitions={str(k): str(v) for k, v in entry.get("definitions", {}).items()},
                docstring=str(entry.get("docstring", "a documentation comment")),
                lexical=_parse_lexical(repr(name), entry),
            )
        except (KeyError, TypeError, AttributeError):
            log.error("languages.toml: malformed entry for %r, skipped", name)
    return specs


@cache
def _extension_map() -> Mapping[str, str]:
    mapping: dict[str, str] = {}
    for spec in language_specs().values():
        for ext in spec.extensions:
            mapping.setdefault(ext, spec.name)
    return mapping


def language_for_path(path: str | Path) -> str | None:
    """The language name for a file path, by extension (case-insensitive), or ``None``.

    Cheap: grammars are not loaded here. A language whose grammar or query already failed to
    load in this process is reported as ``None``."""
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        return None
    lang = _extension_map().get(ext)
    if lang is None or (lang in _queries and _queries[lang] is None):
        return None
    return lang


@cache
def _language_id_map() -> Mapping[str, str]:
    mapping: dict[str, str] = {}
    for spec in language_specs().values():
        for language_id in (spec.name, *spec.language_ids):
            mapping.setdefault(language_id.lower(), spec.name)
    return mapping


def language_for_language_id(language_id: str | None) -> str | None:
    """The language name for an editor's LSP ``languageId`` (``typescriptreact`` → ``tsx``)."""
    if not language_id:
        return None
    lang = _language_id_map().get(language_id.lower())
    if lang is None or (lang in _queries and _queries[lang] is None):
        return None
    return lang


def watched_files_glob() -> str:
    """One glob pattern matching every indexed file extension (for the editor's watcher)."""
    extensions = sorted({ext.lstrip(".") for ext in _extension_map()})
    return "**/*.{" + ",".join(extensions) + "}"


@cache
def _lexical_map() -> tuple[Mapping[str, LexicalSyntax], LexicalSyntax]:
    """Lower-case names, language ids and extensions to syntax; and the syntax for the rest."""
    specs = language_specs()
    mapping = {key: specs[name].lexical for key, name in _language_id_map().items()}
    for ext, name in _extension_map().items():
        mapping.setdefault(ext.lstrip("."), specs[name].lexical)
    generic = LexicalSyntax()
    for family, table in _lexical_families().items():
        where = f"[lexical.{family}]"
        syntax = _parse_lexical(where, table)
        if family == "generic":
            generic = syntax
        try:
            language_ids = _strings(table.get("language_ids", []))
        except TypeError:
            log.error("languages.toml: %s: language_ids must be a list of strings", where)
            continue
        for language_id in language_ids:
            mapping.setdefault(language_id.lower(), syntax)
    return mapping, generic


def _find_lexical(language: str | None) -> LexicalSyntax | None:
    if not language:
        return None
    return _lexical_map()[0].get(language.strip().lower())


def lexical_syntax(language: str | None) -> LexicalSyntax:
    """Comment and string syntax of ``language``: a language name (``cpp``), an LSP language id
    (``typescriptreact``), a file extension without its dot (``rs``) or a language named only by
    a ``[lexical.*]`` table (``kotlin``); ``[lexical.generic]`` for any other or ``None``.

    Needs no grammar: a language whose grammar fails to load still has its syntax."""
    found = _find_lexical(language)
    return found if found is not None else _lexical_map()[1]


def comment_syntax(language: str | None) -> CommentSyntax:
    """The comment markers of ``language`` (named as for ``lexical_syntax``); for an unknown
    language (or ``None``) a ``#`` line comment and no block comment."""
    found = _find_lexical(language)
    if found is None:
        return _UNKNOWN_COMMENTS
    return CommentSyntax(
        line=found.line_comments[0] if found.line_comments else None,
        block=found.block_comment,
    )


_language_lock = threading.Lock()
_languages: dict[str, tree_sitter.Language | None] = {}
_queries: dict[str, tree_sitter.Query | None] = {}


def get_language(language: str) -> tree_sitter.Language | None:
    """The tree-sitter language object, or ``None`` if the grammar wheel cannot be loaded."""
    try:
        return _languages[language]
    except KeyError:
        pass
    with _language_lock:
        if language in _languages:
            return _languages[language]
        spec = language_specs().get(language)
        result: tree_sitter.Language | None = None
        if spec is not None:
            try:
                module = importlib.import_module(spec.module)
                result = tree_sitter.Language(getattr(module, spec.function)())
            except Exception:  # any failure of a third-party grammar disables only that language
                log.exception("cannot load the grammar for %s (%s)", language, spec.module)
        _languages[language] = result
        return result


def load_query_source(language: str) -> str | None:
    """The concatenated text of a language's tags query files."""
    spec = language_specs().get(language)
    if spec is None:
        return None
    parts = []
    for rel in spec.tags:
        try:
            parts.append((grammars_dir() / rel).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            log.error("cannot read tags query %s for %s", rel, language)
            return None
    return "\n".join(parts)


def get_tags_query(language: str) -> tree_sitter.Query | None:
    """The compiled tags query; ``None`` (logged once) when it is missing or fails to compile."""
    try:
        return _queries[language]
    except KeyError:
        pass
    lang = get_language(language)
    with _language_lock:
        if language in _queries:
            return _queries[language]
        query: tree_sitter.Query | None = None
        source = load_query_source(language) if lang is not None else None
        if lang is not None and source is not None:
            try:
                query = tree_sitter.Query(lang, source)
            except (tree_sitter.QueryError, ValueError, TypeError) as exc:
                log.error("tags query for %s does not compile, language skipped: %s", language, exc)
        _queries[language] = query
        return query


_local = threading.local()


def get_parser(language: str) -> tree_sitter.Parser | None:
    """A parser for ``language``, cached per thread; ``None`` if the language is unavailable."""
    parsers: dict[str, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    parser = parsers.get(language)
    if parser is None:
        lang = get_language(language)
        if lang is None:
            return None
        parser = tree_sitter.Parser(lang)
        parsers[language] = parser
    return parser


def definition_kinds(language: str | None) -> Mapping[str, str]:
    """Syntax node types of definitions in ``language`` and what to call them (empty when
    unknown)."""
    spec = language_specs().get(language or "")
    return spec.definitions if spec is not None else {}


def docstring_style(language: str | None) -> str:
    """How ``language`` documents a definition, in words for a prompt."""
    spec = language_specs().get(language or "")
    return spec.docstring if spec is not None else "a documentation comment"


def builtin_names(language: str) -> frozenset[str]:
    """Names the reference graph ignores for this language (see ``languages.toml``)."""
    spec = language_specs().get(language)
    return spec.builtins if spec is not None else frozenset()


def supported_languages() -> list[str]:
    """Languages whose grammar loads and whose tags query compiles, sorted by name."""
    return sorted(name for name in language_specs() if get_tags_query(name) is not None)


def _reset_caches_for_tests() -> None:
    """Forget loaded languages and queries (tests swap query files)."""
    with _language_lock:
        _languages.clear()
        _queries.clear()
    _local.__dict__.clear()
    _registry.cache_clear()
    language_specs.cache_clear()
    _lexical_map.cache_clear()
    _extension_map.cache_clear()
    _language_id_map.cache_clear()
    grammars_dir.cache_clear()
