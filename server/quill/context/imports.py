"""Import resolution over the workspace index: what each imported name of a file refers to.

:func:`resolve_imports` (or :meth:`ImportResolver.resolve_file`) turns a file's import
records (as the index stored them, see :class:`quill.index.tags.ImportRecord`) into
:class:`ResolvedImport` objects: the local name the file uses, the workspace file or folder
the import points at, and the definitions behind the name.

The pieces, one module each:

* :mod:`quill.context.imports_workspace`: the files, texts, definitions and imports the
  resolvers read, open editor buffers (``read_text``) before the disk;
* :mod:`quill.context.imports_python`: ``import``, ``from``, relative and star imports,
  package re-exports;
* :mod:`quill.context.imports_javascript`: JavaScript / TypeScript imports and ``require``,
  extensions and ``index.*`` files, ``tsconfig.json`` paths and ``baseUrl``, barrels;
* :mod:`quill.context.imports_go`: Go packages under the nearest ``go.mod``;
* C / C++ (here): ``#include "x.h"`` relative to the file or the workspace root.

This module dispatches by language and caches what a module imported whole defines.
Everything is best effort: circular imports, missing modules and unreadable files are logged at
debug level and give empty definitions; nothing here raises for bad input.
"""

from __future__ import annotations

import logging
import posixpath

from quill.context.imports_go import GoImports
from quill.context.imports_javascript import JS_LANGUAGES, JavaScriptImports
from quill.context.imports_python import PythonImports
from quill.context.imports_result import ResolvedImport
from quill.context.imports_workspace import (
    LanguageImports,
    ReadText,
    WorkspaceFiles,
    top_level,
)
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.index.tags import ImportRecord

log = logging.getLogger(__name__)

__all__ = ["ImportResolver", "ReadText", "ResolvedImport", "resolve_imports"]

#: definitions listed for a module imported whole, at most
MAX_MODULE_DEFINITIONS = 200

_RESOLVE_ERRORS = (ValueError, OSError, RecursionError, KeyError, IndexError)


def resolve_imports(
    index: WorkspaceIndex,
    rel_path: str,
    *,
    text: str | None = None,
    read_text: ReadText | None = None,
) -> list[ResolvedImport]:
    """The imports of ``rel_path`` (workspace-relative, ``/``-separated), resolved against the
    index. ``text`` is the file's current text when the caller has it (an editor buffer);
    ``read_text`` gives the other open buffers (see :class:`ImportResolver`)."""
    return ImportResolver(index, read_text=read_text).resolve_file(rel_path, text=text)


class CIncludes(LanguageImports):
    """``#include "x.h"``: the header next to the file, else from the workspace root."""

    def resolve(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        header = (record.module or record.name).strip('"<>')
        local = posixpath.basename(header)
        for base in (posixpath.dirname(rel), ""):
            candidate = posixpath.normpath(posixpath.join(base, header)) if base else header
            if candidate in self.files.files:
                return self.whole_module(local, record.module, candidate, record.line)
        return [ResolvedImport(local, record.module, None, "module", [], record.line)]


class ImportResolver:
    """Resolution with per-instance caches (file list, definitions and imports per file);
    make one per batch of questions, not one for the process: the workspace changes.

    ``read_text(rel)`` returns the text of the open editor buffer of a workspace-relative
    path, or ``None`` when the file is not open (then the disk is read). Every read of a
    file's text goes through it first (``__init__.py`` re-exports, ``tsconfig.json``, barrels,
    ``go.mod``), and an open buffer that differs from the disk is parsed for its definitions
    and imports instead of asking the index. It may be called from a worker thread."""

    def __init__(self, index: WorkspaceIndex, *, read_text: ReadText | None = None) -> None:
        self.index = index
        self.root = index.root
        self.workspace = WorkspaceFiles(index, read_text)
        self.python = PythonImports(self.workspace, self.module_definitions)
        self.javascript = JavaScriptImports(self.workspace, self.module_definitions)
        self.go = GoImports(self.workspace, self.module_definitions)
        c = CIncludes(self.workspace, self.module_definitions)
        self._by_language: dict[str, PythonImports | JavaScriptImports | GoImports | CIncludes]
        self._by_language = {"python": self.python, "go": self.go, "c": c, "cpp": c}
        self._by_language.update(dict.fromkeys(JS_LANGUAGES, self.javascript))
        self._exports: dict[str, list[Definition]] = {}

    def forget(self, rel: str) -> None:
        """Drop what is cached about one file (the one being edited), so it is read again."""
        self.workspace.forget(rel)
        self._exports.pop(rel, None)

    # ---------------------------------------------------------------- entry point

    def resolve_file(self, rel_path: str, *, text: str | None = None) -> list[ResolvedImport]:
        """The imports of ``rel_path``, resolved. ``text`` is its current text: read for the
        import forms (JavaScript default vs namespace imports), and for the import records
        themselves when the index has not seen the file (a new buffer)."""
        language = language_for_path(rel_path)
        if language is None:
            return []
        if text is not None:
            self.workspace.use_text(rel_path, text)
        out: list[ResolvedImport] = []
        for record in self.workspace.imports_of(rel_path):
            try:
                out.extend(self._resolve_record(rel_path, language, record))
            except _RESOLVE_ERRORS as exc:
                log.debug("%s:%d: cannot resolve import %r: %s", rel_path, record.line, record, exc)
        return out

    def _resolve_record(
        self, rel: str, language: str, record: ImportRecord
    ) -> list[ResolvedImport]:
        resolver = self._by_language.get(language)
        if resolver is not None:
            return resolver.resolve(rel, record)
        local = record.alias or record.name
        return [ResolvedImport(local, record.module, None, "name", [], record.line)]

    # ---------------------------------------------------------------- modules imported whole

    def module_definitions(self, path: str) -> list[Definition]:
        """Public top-level definitions of a module file, a package (its ``__init__`` and what
        that re-exports) or a Go package folder."""
        cached = self._exports.get(path)
        if cached is not None:
            return cached
        self._exports[path] = []  # a cycle back here sees "nothing" instead of recursing
        defs: list[Definition] = []
        language = language_for_path(path)
        if language == "python":
            defs = self.python.public_definitions(path)
        elif language in JS_LANGUAGES:
            defs = self.javascript.public_definitions(path)
        elif language is not None:
            defs = top_level(self.workspace.definitions_in(path))
        elif path in self.workspace.dirs or path == "":
            defs = self.go.package_definitions(path)
        defs = defs[:MAX_MODULE_DEFINITIONS]
        self._exports[path] = defs
        return defs

    # ---------------------------------------------------------------- reads (for callers)

    @property
    def files(self) -> set[str]:
        return self.workspace.files

    @property
    def dirs(self) -> set[str]:
        return self.workspace.dirs

    def text_of(self, rel: str) -> str | None:
        return self.workspace.text_of(rel)

    def definitions_in(self, rel: str) -> list[Definition]:
        return self.workspace.definitions_in(rel)

    def imports_of(self, rel: str) -> list[ImportRecord]:
        return self.workspace.imports_of(rel)

    def members_of(self, path: str, qualified_name: str) -> list[Definition]:
        return self.workspace.members_of(path, qualified_name)

    def definitions_named(self, name: str) -> list[Definition]:
        return self.workspace.definitions_named(name)

    # ---------------------------------------------------------------- per-language questions

    def python_module(self, module: str, from_rel: str) -> str | None:
        return self.python.find_module(module, from_rel)

    def python_member(
        self, mod_path: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, str | None, list[Definition]]:
        return self.python.member(mod_path, name, seen)

    def python_exports(self, mod_path: str) -> dict[str, list[Definition]]:
        return self.python.exports(mod_path)

    def js_module(self, spec: str, from_rel: str) -> str | None:
        return self.javascript.find_module(spec, from_rel)

    def js_member(
        self, path: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, list[Definition]] | None:
        return self.javascript.member(path, name, seen)

    def go_package_dir(self, import_path: str, from_rel: str) -> str | None:
        return self.go.package_dir(import_path, from_rel)
