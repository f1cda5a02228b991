"""Codebase introspection: a tree-sitter index of the workspace and a ranked repo map.

Transport-free: plain parameters in, plain dataclasses out. Entry points:
:class:`WorkspaceIndex` (index, symbol queries, repo map), :func:`extract_tags` (one buffer),
:func:`language_for_path` / :func:`get_parser` / :func:`supported_languages`.
"""

from quill.index.languages import get_parser, language_for_path, supported_languages
from quill.index.records import (
    Definition,
    IndexStats,
    LanguageStats,
    MapItem,
    Reference,
    RepoMap,
    SymbolNode,
)
from quill.index.service import WorkspaceIndex
from quill.index.tags import FileTags, ImportRecord, Tag, extract_file, extract_tags

__all__ = [
    "Definition",
    "FileTags",
    "ImportRecord",
    "IndexStats",
    "LanguageStats",
    "MapItem",
    "Reference",
    "RepoMap",
    "SymbolNode",
    "Tag",
    "WorkspaceIndex",
    "extract_file",
    "extract_tags",
    "get_parser",
    "language_for_path",
    "supported_languages",
]
