"""Go imports: an import path under the module path of the nearest ``go.mod`` is the package
folder; its exported top-level definitions (capitalised names, ``_test.go`` files left out)
are the package's definitions, and its package clause names it unless the import has an
alias."""

from __future__ import annotations

import logging
import posixpath
import re

from quill.context.imports_result import ResolvedImport
from quill.context.imports_workspace import (
    LanguageImports,
    ModuleDefinitions,
    WorkspaceFiles,
    nearest_upwards,
    top_level,
)
from quill.index.records import Definition
from quill.index.tags import ImportRecord

log = logging.getLogger(__name__)

__all__ = ["GoImports"]

_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.M)

#: a ``go.mod``: its folder and its module path (``None`` when it declares none)
_GoMod = tuple[str, str | None]


class GoImports(LanguageImports):
    """Go packages of the workspace's modules."""

    def __init__(self, files: WorkspaceFiles, module_definitions: ModuleDefinitions) -> None:
        super().__init__(files, module_definitions)
        self._gomods: dict[str, _GoMod | None] = {}

    def resolve(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        import_path = record.module or record.name
        alias = record.alias if record.alias not in (None, "_", ".") else None
        local = alias or import_path.rsplit("/", 1)[-1]
        pkg_dir = self.package_dir(import_path, rel)
        if pkg_dir is None:
            log.debug("%s:%d: package %s is outside the workspace", rel, record.line, import_path)
            return [ResolvedImport(local, import_path, None, "module", [], record.line)]
        if alias is None:
            clause = next(
                (
                    d.name
                    for f in self._files(pkg_dir)
                    for d in self.files.definitions_in(f)[:1]
                    if d.kind == "module"
                ),
                None,
            )
            local = clause or local
        return self.whole_module(local, import_path, pkg_dir, record.line)

    def package_dir(self, import_path: str, from_rel: str) -> str | None:
        """The workspace folder of a Go import path, seen from ``from_rel``."""
        found = nearest_upwards(posixpath.dirname(from_rel), self._gomods, self._go_mod_in)
        mod_dir, mod_path = found or ("", None)
        if mod_path is None:
            return None
        if import_path == mod_path:
            pkg = mod_dir
        elif import_path.startswith(mod_path + "/"):
            rest = import_path[len(mod_path) + 1 :]
            pkg = posixpath.join(mod_dir, rest) if mod_dir else rest
        else:
            return None
        return pkg if pkg in self.files.dirs or pkg == "" else None

    def _go_mod_in(self, directory: str) -> _GoMod | None:
        text = self.files.text_of(posixpath.join(directory, "go.mod") if directory else "go.mod")
        if text is None:
            return None
        match = _GO_MODULE.search(text)
        return (directory, match.group(1) if match else None)

    def _files(self, pkg_dir: str) -> list[str]:
        return sorted(
            f
            for f in self.files.files
            if posixpath.dirname(f) == pkg_dir and f.endswith(".go") and not f.endswith("_test.go")
        )

    def package_definitions(self, pkg_dir: str) -> list[Definition]:
        """The exported top-level definitions of a package folder; uncached (the resolver
        caches)."""
        return [
            d
            for f in self._files(pkg_dir)
            for d in top_level(self.files.definitions_in(f))
            if d.name[:1].isupper()
        ]
