"""Language registry: file extensions, grammar wheels, tags queries and lexical facts (comment
and string syntax), all read from data.

The registry lives in ``grammars/languages.toml``. In an installed wheel the ``grammars`` folder
ships as ``quill/grammars``; in a development checkout it sits at the repository root.

Parsers are cached per thread (a ``tree_sitter.Parser`` is not safe to share between threads);
languages and compiled queries are shared. A query that fails to compile is logged once and
its language is then reported as unsupported (``get_tags_query`` returns ``None``).

Lexical facts do not need a grammar: ``lexical_syntax`` and ``comment_syntax`` answer for every
indexed language (by name, LSP language id or file extension), for the languages the
``[lexical.*]`` tables name by ``language_ids``, and with defaults for any other. How the
lexical keys are read is :mod:`quill.index.lexical_registry`; its types are importable from
here too.
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
from quill.index.lexical_registry import (
    LEXICAL_TABLE,
    CommentSyntax,
    LexicalSyntax,
    LexicalTable,
    build_lexical_table,
    lexical_families,
    parse_lexical,
)

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


@cache
def _registry() -> Mapping[str, Any]:
    """The parsed ``languages.toml``; empty (logged) if it is unreadable."""
    path = grammars_dir() / "languages.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        log.exception("cannot read the language registry %s", path)
        return {}


@cache
def language_specs() -> Mapping[str, LanguageSpec]:
    """All languages declared in ``languages.toml``, keyed by name. Empty if it is unreadable."""
    specs: dict[str, LanguageSpec] = {}
    registry = _registry()
    families = lexical_families(registry)
    for name, entry in registry.items():
        if name == LEXICAL_TABLE:
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
                lexical=parse_lexical(repr(name), entry, families),
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
def _lexical_table() -> LexicalTable:
    """Lower-case names, language ids and extensions to syntax, the ``[lexical.*]`` families'
    language ids added; and the syntax for the rest."""
    specs = language_specs()
    by_key = {key: specs[name].lexical for key, name in _language_id_map().items()}
    for ext, name in _extension_map().items():
        by_key.setdefault(ext.lstrip("."), specs[name].lexical)
    return build_lexical_table(by_key, lexical_families(_registry()))


def lexical_syntax(language: str | None) -> LexicalSyntax:
    """Comment and string syntax of ``language``: a language name (``cpp``), an LSP language id
    (``typescriptreact``), a file extension without its dot (``rs``) or a language named only by
    a ``[lexical.*]`` table (``kotlin``); ``[lexical.generic]`` for any other or ``None``.

    Needs no grammar: a language whose grammar fails to load still has its syntax."""
    return _lexical_table().syntax(language)


def comment_syntax(language: str | None) -> CommentSyntax:
    """The comment markers of ``language`` (named as for ``lexical_syntax``); for an unknown
    language (or ``None``) a ``#`` line comment and no block comment."""
    return _lexical_table().comments(language)


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
    _lexical_table.cache_clear()
    _extension_map.cache_clear()
    _language_id_map.cache_clear()
    grammars_dir.cache_clear()
