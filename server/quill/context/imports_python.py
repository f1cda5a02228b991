"""Python imports: ``import a.b``, ``import a.b as z``, ``from a import b``, relative imports
(``from .a import b``, ``from .. import c``), re-exports (a name imported into a package
``__init__`` or any other module resolves to its real definition) and ``from a import *``
(one :class:`ResolvedImport` per public name).

Absolute modules are found wherever their top package sits in the workspace (the root,
``src/``, ``server/``...), nearest to the importing file first.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Sequence

from quill.context.imports_result import ResolvedImport
from quill.context.imports_workspace import (
    MAX_DEPTH,
    LanguageImports,
    ModuleDefinitions,
    WorkspaceFiles,
    top_level,
    visit,
)
from quill.index.records import Definition
from quill.index.tags import ImportRecord

log = logging.getLogger(__name__)

__all__ = ["PY_EXTENSIONS", "PythonImports"]

PY_EXTENSIONS = (".py", ".pyi")

#: what :meth:`PythonImports.member` finds: ``(kind, path, definitions)``
Member = tuple[str, str | None, list[Definition]]
_MISSING: Member = ("missing", None, [])


class PythonImports(LanguageImports):
    """Python modules, members and re-exports of the workspace."""

    def __init__(self, files: WorkspaceFiles, module_definitions: ModuleDefinitions) -> None:
        super().__init__(files, module_definitions)
        self._by_stem: dict[str, list[str]] | None = None

    def resolve(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        module = record.module or record.name
        line = record.line
        local = record.alias or record.name
        plain = _is_plain_import(record)
        mod_path = self.find_module(module, rel)
        if mod_path is None:
            if record.name == "*" and not plain:
                log.debug("%s:%d: star import from missing module %s", rel, line, module)
                return []
            log.debug("%s:%d: module %s is not in the workspace", rel, line, module)
            return [ResolvedImport(local, module, None, "module" if plain else "name", [], line)]
        if plain:
            return self.whole_module(local, module, mod_path, line)
        if record.name == "*":
            return [
                ResolvedImport(name, module, mod_path, "name", defs, line, star=True)
                for name, defs in self.exports(mod_path).items()
            ]
        kind, path, defs = self.member(mod_path, record.name, set())
        if kind == "missing":
            log.debug("%s:%d: %s not found in %s", rel, line, record.name, mod_path)
            return [ResolvedImport(local, module, mod_path, "name", [], line)]
        return [ResolvedImport(local, module, path, kind, defs, line)]

    # ---------------------------------------------------------------- modules

    def find_module(self, module: str, from_rel: str) -> str | None:
        """The file (``x.py``, ``x/__init__.py``) or namespace-package folder of a Python
        module as written in ``from_rel`` (relative modules keep their leading dots)."""
        dots = len(module) - len(module.lstrip("."))
        parts = [p for p in module[dots:].split(".") if p]
        if dots:
            base = posixpath.dirname(from_rel)
            for _ in range(dots - 1):
                if not base:
                    return None  # beyond the workspace root
                base = posixpath.dirname(base)
            return self._target(posixpath.join(base, *parts) if parts else base)
        if not parts:
            return None
        files = self.files.files
        candidates: list[str] = []
        for path in self._stems().get(parts[-1], ()):
            prefix = _python_prefix(path, parts)
            if prefix is None:
                continue
            if prefix and f"{prefix}__init__.py" in files:
                continue  # inside a package: not where absolute imports start
            if (
                len(parts) == 1
                and prefix
                and not _is_init(path)
                and not _is_ancestor(prefix.rstrip("/"), from_rel)
            ):
                # A lone module elsewhere (scripts/utils.py) is not importable here; a
                # package is (src/pkg/__init__.py, imported from tests/).
                continue
            candidates.append(path)
        if not candidates:
            target = "/".join(parts)
            return target if target in self.files.dirs else None  # a namespace package
        candidates.sort(key=lambda p: _candidate_order(p, parts, from_rel))
        return candidates[0]

    def _target(self, target: str) -> str | None:
        files = self.files.files
        for ext in PY_EXTENSIONS:
            if target + ext in files:
                return target + ext
        init = posixpath.join(target, "__init__.py") if target else "__init__.py"
        if init in files:
            return init
        if target + "/__init__.pyi" in files:
            return target + "/__init__.pyi"
        if target == "" or target in self.files.dirs:
            return target  # a namespace package (or the root)
        return None

    def _stems(self) -> dict[str, list[str]]:
        """Python files by module name (a package ``__init__`` by its folder's name)."""
        if self._by_stem is None:
            table: dict[str, list[str]] = {}
            for f in self.files.files:
                stem, ext = posixpath.splitext(posixpath.basename(f))
                if ext not in PY_EXTENSIONS:
                    continue
                if stem == "__init__":
                    stem = posixpath.basename(posixpath.dirname(f))
                table.setdefault(stem, []).append(f)
            self._by_stem = table
        return self._by_stem

    # ---------------------------------------------------------------- names

    def member(self, mod_path: str, name: str, seen: set[tuple[str, str]]) -> Member:
        """What ``name`` is in the module at ``mod_path``: ``("name", path, defs)``,
        ``("module", path, defs)`` for a submodule, or ``("missing", None, [])``."""
        if not visit(seen, (mod_path, name)):
            return _MISSING
        is_file = mod_path.endswith(PY_EXTENSIONS)
        if is_file:
            own = self.files.top_level_named(mod_path, name)
            if own:
                return ("name", mod_path, own)
            found = self._reexported(mod_path, name, seen)
            if found[0] != "missing":
                return found
        # A submodule of a package: `from pkg import mod`.
        package_dir = posixpath.dirname(mod_path) if _is_init(mod_path) else mod_path
        if not is_file or _is_init(mod_path):
            sub = self._target(posixpath.join(package_dir, name) if package_dir else name)
            if sub is not None and sub != package_dir:
                return ("module", sub, self.module_definitions(sub))
        return _MISSING

    def _reexported(self, mod_path: str, name: str, seen: set[tuple[str, str]]) -> Member:
        """``name`` as the module at ``mod_path`` imports it from somewhere else."""
        for record in self.files.imports_of(mod_path):
            star = record.name == "*"  # `from x import *` re-exports x's public names
            if not star and (record.alias or record.name) != name:
                continue
            if not star and _is_plain_import(record):
                path = self.find_module(record.module or record.name, mod_path)
                if path is not None:
                    return ("module", path, self.module_definitions(path))
                continue
            src = self._source(record, mod_path)
            if src is None:
                continue
            found = self.member(src, name if star else record.name, seen)
            if found[0] != "missing" and not (star and name.startswith("_")):
                return found
        return _MISSING

    def _source(self, record: ImportRecord, mod_path: str) -> str | None:
        """The module a ``from`` import of the module at ``mod_path`` reads from."""
        return self.find_module(record.module or "", mod_path)

    def exports(self, mod_path: str, depth: int = 0) -> dict[str, list[Definition]]:
        """Public names of a module, as ``from module import *`` binds them: its own
        top-level definitions, then names it imports (re-exports of a package), then what its
        own star imports bring."""
        out: dict[str, list[Definition]] = {}
        if depth > MAX_DEPTH or not mod_path.endswith(PY_EXTENSIONS):
            return out
        for d in _public(self.files.definitions_in(mod_path)):
            out.setdefault(d.name, []).append(d)
        for record in self.files.imports_of(mod_path):
            if record.name == "*":
                star_mod = self._source(record, mod_path)
                if star_mod is not None and star_mod != mod_path:
                    for name, defs in self.exports(star_mod, depth + 1).items():
                        out.setdefault(name, defs)
                continue
            local = record.alias or record.name
            if local.startswith("_") or local in out or "." in local:
                continue
            if _is_plain_import(record):
                continue
            src = self._source(record, mod_path)
            if src is None:
                continue
            kind, _path, defs = self.member(src, record.name, {(mod_path, local)})
            if kind == "name" and defs:
                out[local] = defs
        return out

    def public_definitions(self, path: str) -> list[Definition]:
        """Public top-level definitions of a module file, or of a package (its ``__init__``
        and what that re-exports); uncached (the resolver caches)."""
        if _is_init(path):
            return [d for found in self.exports(path).values() for d in found]
        return _public(self.files.definitions_in(path))


# ---------------------------------------------------------------------- helpers


def _is_plain_import(record: ImportRecord) -> bool:
    """``import x`` / ``import x.y as z`` (the index stores ``name == module`` then), not a
    ``from`` import."""
    return record.module is None or (
        record.name == record.module and not record.module.startswith(".")
    )


def _public(defs: Iterable[Definition]) -> list[Definition]:
    return [d for d in top_level(defs) if not d.name.startswith("_")]


def _is_init(path: str) -> bool:
    return posixpath.basename(path) in ("__init__.py", "__init__.pyi")


def _is_ancestor(directory: str, rel: str) -> bool:
    return directory == "" or rel.startswith(directory + "/")


def _python_prefix(path: str, parts: Sequence[str]) -> str | None:
    """The folder (with a trailing ``/``, or ``""``) in which the dotted module ``parts``
    starts, if ``path`` is that module's file."""
    for suffix in _python_suffixes(parts):
        if path == suffix:
            return ""
        if path.endswith("/" + suffix):
            return path[: len(path) - len(suffix)]
    return None


def _python_suffixes(parts: Sequence[str]) -> Iterable[str]:
    joined = "/".join(parts)
    for ext in PY_EXTENSIONS:
        yield joined + ext
    yield joined + "/__init__.py"
    yield joined + "/__init__.pyi"


def _candidate_order(path: str, parts: Sequence[str], from_rel: str) -> tuple[int, int, str]:
    prefix = (_python_prefix(path, parts) or "").rstrip("/")
    near = 0 if _is_ancestor(prefix, from_rel) else 1
    return (near, prefix.count("/") + (1 if prefix else 0), path)
