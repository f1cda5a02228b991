"""Import resolution over the workspace index: what each imported name of a file refers to.

:func:`resolve_imports` turns a file's import records (as the index stored them, see
:class:`quill.index.tags.ImportRecord`) into :class:`ResolvedImport` objects: the local name
the file uses, the workspace file or folder the import points at, and the definitions behind
the name.

* **Python**: ``import a.b``, ``import a.b as z``, ``from a import b``, relative imports
  (``from .a import b``, ``from .. import c``), re-exports (a name imported into a package
  ``__init__`` or any other module resolves to its real definition), ``from a import *`` (one
  :class:`ResolvedImport` per public name). Absolute modules are found wherever their top
  package sits in the workspace (the root, ``src/``, ``server/``...), nearest to the
  importing file first.
* **JavaScript / TypeScript**: named, aliased, default and namespace imports,
  ``require("./x")`` (whole module) and ``const {a} = require("./x")``; specifiers resolve
  relative to the file with the usual extensions and ``index.*`` files, or through the nearest
  ``tsconfig.json`` / ``jsconfig.json`` ``compilerOptions.paths`` and ``baseUrl``. Barrel
  files are followed through ``export {a} from`` and ``export * from``.
* **Go**: an import path under the module path of the nearest ``go.mod`` is the package
  folder; its exported top-level definitions are the module's definitions.
* **C / C++**: ``#include "x.h"`` relative to the file or the workspace root.

Everything is best effort: circular imports, missing modules and unreadable files are logged at
debug level and give empty definitions; nothing here raises for bad input.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.index.tags import ImportRecord, extract_file

log = logging.getLogger(__name__)

__all__ = ["ImportResolver", "ResolvedImport", "resolve_imports"]

#: how deep re-exports are followed (a chain longer than this is almost surely a cycle)
MAX_DEPTH = 8
#: definitions listed for a module imported whole, at most
MAX_MODULE_DEFINITIONS = 200

PY_EXTENSIONS = (".py", ".pyi")
JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
C_LANGUAGES = frozenset({"c", "cpp"})
_JS_RUNTIME_EXT = re.compile(r"\.(?:js|jsx|mjs|cjs)$")
_EXPORT_STAR = re.compile(r"""export\s+\*\s+from\s+["']([^"']+)["']""")
_EXPORT_DEFAULT_NAME = re.compile(r"export\s+default\s+([A-Za-z_$][\w$]*)\s*;?\s*$", re.M)
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.M)
_JSON_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@dataclass(slots=True)
class ResolvedImport:
    """One name a file imports, resolved.

    ``kind`` is ``"name"`` (a function, class, constant... of another module) or ``"module"``
    (a module, package or namespace imported whole; ``definitions`` are then its public
    top-level definitions). ``module_path`` is the workspace-relative file (or folder, for a
    Go package or a Python namespace package) the import points at, ``None`` when it is
    outside the workspace or missing. ``star`` marks names brought in by ``import *``.
    """

    local_name: str
    module: str | None
    module_path: str | None
    kind: str
    definitions: list[Definition] = field(default_factory=list)
    line: int = 0
    star: bool = False


def resolve_imports(
    index: WorkspaceIndex, rel_path: str, *, text: str | None = None
) -> list[ResolvedImport]:
    """The imports of ``rel_path`` (workspace-relative, ``/``-separated), resolved against the
    index. ``text`` is the file's current text when the caller has it (an editor buffer);
    it is only read to tell import forms apart (JavaScript default vs namespace imports)."""
    return ImportResolver(index).resolve_file(rel_path, text=text)


class ImportResolver:
    """Resolution with per-instance caches (file list, definitions and imports per file);
    make one per batch of questions, not one for the process: the workspace changes."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self.root = index.root
        self._files: set[str] | None = None
        self._dirs: set[str] | None = None
        self._py_by_stem: dict[str, list[str]] | None = None
        self._defs: dict[str, list[Definition]] = {}
        self._imports: dict[str, list[ImportRecord]] = {}
        self._texts: dict[str, str | None] = {}
        self._configs: dict[str, _PathConfig | None] = {}
        self._gomods: dict[str, tuple[str, str] | None] = {}
        self._exports: dict[str, list[Definition]] = {}
        self._members: dict[tuple[str, str], list[Definition]] = {}
        self._named: dict[str, list[Definition]] = {}

    def forget(self, rel: str) -> None:
        """Drop what is cached about one file (the one being edited), so it is read again."""
        self._defs.pop(rel, None)
        self._imports.pop(rel, None)
        self._texts.pop(rel, None)
        self._exports.pop(rel, None)
        for key in [k for k in self._members if k[0] == rel]:
            del self._members[key]

    # ---------------------------------------------------------------- file table

    @property
    def files(self) -> set[str]:
        if self._files is None:
            self._files = set(self.index.indexed_files())
        return self._files

    @property
    def dirs(self) -> set[str]:
        if self._dirs is None:
            dirs: set[str] = set()
            for f in self.files:
                d = posixpath.dirname(f)
                while d and d not in dirs:
                    dirs.add(d)
                    d = posixpath.dirname(d)
            self._dirs = dirs
        return self._dirs

    def _py_stems(self) -> dict[str, list[str]]:
        if self._py_by_stem is None:
            table: dict[str, list[str]] = {}
            for f in self.files:
                base = posixpath.basename(f)
                stem, ext = posixpath.splitext(base)
                if ext not in PY_EXTENSIONS:
                    continue
                if stem == "__init__":
                    stem = posixpath.basename(posixpath.dirname(f))
                table.setdefault(stem, []).append(f)
            self._py_by_stem = table
        return self._py_by_stem

    def definitions_in(self, rel: str) -> list[Definition]:
        found = self._defs.get(rel)
        if found is None:
            found = self._defs[rel] = self.index.definitions_in_file(self.root / rel)
        return found

    def members_of(self, path: str, qualified_name: str) -> list[Definition]:
        """:meth:`WorkspaceIndex.members_of` of a class in one file, cached."""
        key = (path, qualified_name)
        found = self._members.get(key)
        if found is None:
            found = self._members[key] = self.index.members_of(qualified_name, self.root / path)
        return found

    def definitions_named(self, name: str) -> list[Definition]:
        """:meth:`WorkspaceIndex.definitions`, cached."""
        found = self._named.get(name)
        if found is None:
            found = self._named[name] = self.index.definitions(name)
        return found

    def imports_of(self, rel: str) -> list[ImportRecord]:
        found = self._imports.get(rel)
        if found is None:
            found = self._imports[rel] = self.index.imports(self.root / rel)
        return found

    def text_of(self, rel: str) -> str | None:
        if rel not in self._texts:
            try:
                self._texts[rel] = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                log.debug("cannot read %s: %s", rel, exc)
                self._texts[rel] = None
        return self._texts[rel]

    # ---------------------------------------------------------------- entry points

    def resolve_file(self, rel_path: str, *, text: str | None = None) -> list[ResolvedImport]:
        language = language_for_path(rel_path)
        if language is None:
            return []
        if text is not None:
            self._texts[rel_path] = text
        if text is not None and rel_path not in self.files:
            # A buffer the index has not seen (a new file): its imports from the text.
            data = text.encode("utf-8", "surrogatepass")
            records = self._imports[rel_path] = extract_file(data, language, rel_path).imports
        else:
            records = self.imports_of(rel_path)
        out: list[ResolvedImport] = []
        for record in records:
            try:
                out.extend(self._resolve_record(rel_path, language, record))
            except (ValueError, OSError, RecursionError, KeyError, IndexError) as exc:
                log.debug("%s:%d: cannot resolve import %r: %s", rel_path, record.line, record, exc)
        return out

    def _resolve_record(
        self, rel: str, language: str, record: ImportRecord
    ) -> list[ResolvedImport]:
        if language == "python":
            return self._python_record(rel, record)
        if language in JS_LANGUAGES:
            return self._js_record(rel, record)
        if language == "go":
            return self._go_record(rel, record)
        if language in C_LANGUAGES:
            return self._c_record(rel, record)
        local = record.alias or record.name
        return [ResolvedImport(local, record.module, None, "name", [], record.line)]

    # ---------------------------------------------------------------- python

    def python_module(self, module: str, from_rel: str) -> str | None:
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
            target = posixpath.join(base, *parts) if parts else base
            return self._py_target(target)
        if not parts:
            return None
        candidates: list[str] = []
        for path in self._py_stems().get(parts[-1], ()):
            prefix = _python_prefix(path, parts)
            if prefix is None:
                continue
            if prefix and f"{prefix}__init__.py" in self.files:
                continue  # inside a package: not where absolute imports start
            if len(parts) == 1 and prefix and not _is_ancestor(prefix.rstrip("/"), from_rel):
                continue  # a lone module elsewhere (scripts/utils.py) is not importable here
            candidates.append(path)
        if not candidates:
            target = "/".join(parts)
            if target in self.dirs:
                return target  # a namespace package at the root
            return None
        candidates.sort(key=lambda p: _py_candidate_order(p, parts, from_rel))
        return candidates[0]

    def _py_target(self, target: str) -> str | None:
        for ext in PY_EXTENSIONS:
            if target + ext in self.files:
                return target + ext
        init = posixpath.join(target, "__init__.py") if target else "__init__.py"
        if init in self.files:
            return init
        if target + "/__init__.pyi" in self.files:
            return target + "/__init__.pyi"
        if target == "" or target in self.dirs:
            return target  # a namespace package (or the root)
        return None

    def _python_record(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        module = record.module or record.name
        line = record.line
        # `import x` / `import x.y as z`: the index stores name == module then.
        is_plain_import = record.module is None or (
            record.name == record.module and not record.module.startswith(".")
        )
        if is_plain_import:
            path = self.python_module(module, rel)
            local = record.alias or record.name
            if path is None:
                log.debug("%s:%d: module %s is not in the workspace", rel, line, module)
                return [ResolvedImport(local, module, None, "module", [], line)]
            return [
                ResolvedImport(local, module, path, "module", self.module_definitions(path), line)
            ]
        mod_path = self.python_module(module, rel)
        if record.name == "*":
            if mod_path is None:
                log.debug("%s:%d: star import from missing module %s", rel, line, module)
                return []
            return [
                ResolvedImport(name, module, mod_path, "name", defs, line, star=True)
                for name, defs in self.python_exports(mod_path).items()
            ]
        local = record.alias or record.name
        if mod_path is None:
            log.debug("%s:%d: module %s is not in the workspace", rel, line, module)
            return [ResolvedImport(local, module, None, "name", [], line)]
        kind, path, defs = self.python_member(mod_path, record.name, set())
        if kind == "missing":
            log.debug("%s:%d: %s not found in %s", rel, line, record.name, mod_path)
            return [ResolvedImport(local, module, mod_path, "name", [], line)]
        return [ResolvedImport(local, module, path, kind, defs, line)]

    def python_member(
        self, mod_path: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, str | None, list[Definition]]:
        """What ``name`` is in the module at ``mod_path``: ``("name", path, defs)``,
        ``("module", path, defs)`` for a submodule, or ``("missing", None, [])``."""
        key = (mod_path, name)
        if key in seen or len(seen) > MAX_DEPTH * 4:
            log.debug("import cycle through %s.%s", mod_path, name)
            return ("missing", None, [])
        seen.add(key)
        is_file = mod_path.endswith(PY_EXTENSIONS)
        if is_file:
            own = [d for d in self.definitions_in(mod_path) if d.scope is None and d.name == name]
            if own:
                return ("name", mod_path, own)
            # Re-exports: the module imports the name from somewhere else.
            for record in self.imports_of(mod_path):
                if record.name == "*":
                    star_mod = self.python_module(record.module or "", mod_path)
                    if star_mod is None:
                        continue
                    found = self.python_member(star_mod, name, seen)
                    if found[0] != "missing" and not name.startswith("_"):
                        return found
                    continue
                if (record.alias or record.name) != name:
                    continue
                is_plain = record.module is None or (
                    record.name == record.module and not record.module.startswith(".")
                )
                if is_plain:
                    path = self.python_module(record.module or record.name, mod_path)
                    if path is not None:
                        return ("module", path, self.module_definitions(path))
                    continue
                src = self.python_module(record.module or "", mod_path)
                if src is None:
                    continue
                found = self.python_member(src, record.name, seen)
                if found[0] != "missing":
                    return found
        # A submodule of a package: `from pkg import mod`.
        package_dir = posixpath.dirname(mod_path) if _is_init(mod_path) else mod_path
        if not is_file or _is_init(mod_path):
            sub = self._py_target(posixpath.join(package_dir, name) if package_dir else name)
            if sub is not None and sub != package_dir:
                return ("module", sub, self.module_definitions(sub))
        return ("missing", None, [])

    def python_exports(self, mod_path: str, depth: int = 0) -> dict[str, list[Definition]]:
        """Public names of a module, as ``from module import *`` binds them: its own
        top-level definitions, then names it imports (re-exports of a package), then what its
        own star imports bring."""
        out: dict[str, list[Definition]] = {}
        if depth > MAX_DEPTH or not mod_path.endswith(PY_EXTENSIONS):
            return out
        for d in self.definitions_in(mod_path):
            if d.scope is None and not d.name.startswith("_") and d.kind != "module":
                out.setdefault(d.name, []).append(d)
        for record in self.imports_of(mod_path):
            if record.name == "*":
                star_mod = self.python_module(record.module or "", mod_path)
                if star_mod is not None and star_mod != mod_path:
                    for name, defs in self.python_exports(star_mod, depth + 1).items():
                        out.setdefault(name, defs)
                continue
            local = record.alias or record.name
            if local.startswith("_") or local in out or "." in local:
                continue
            is_plain = record.module is None or (
                record.name == record.module and not record.module.startswith(".")
            )
            if is_plain:
                continue
            src = self.python_module(record.module or "", mod_path)
            if src is None:
                continue
            kind, _path, defs = self.python_member(src, record.name, {(mod_path, local)})
            if kind == "name" and defs:
                out[local] = defs
        return out

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
            if _is_init(path):
                for found in self.python_exports(path).values():
                    defs.extend(found)
            else:
                defs = [
                    d
                    for d in self.definitions_in(path)
                    if d.scope is None and not d.name.startswith("_") and d.kind != "module"
                ]
        elif language in JS_LANGUAGES:
            defs = [d for group in self._js_exports(path, set()).values() for d in group]
        elif language is not None:
            defs = [d for d in self.definitions_in(path) if d.scope is None and d.kind != "module"]
        elif path in self.dirs or path == "":
            defs = self._go_package_definitions(path)
        defs = defs[:MAX_MODULE_DEFINITIONS]
        self._exports[path] = defs
        return defs

    # ---------------------------------------------------------------- javascript / typescript

    def _js_record(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        spec = record.module
        local = record.alias or record.name
        line = record.line
        form = self._js_form(rel, record)
        target = self.js_module(spec, rel) if spec else None
        if target is None:
            log.debug("%s:%d: module %r is outside the workspace or missing", rel, line, spec)
            kind = "module" if form == "module" else "name"
            return [ResolvedImport(local, spec, None, kind, [], line)]
        if form == "module":
            return [
                ResolvedImport(local, spec, target, "module", self.module_definitions(target), line)
            ]
        if form == "default":
            defs = self._js_default(target)
            if defs:
                return [ResolvedImport(local, spec, target, "name", defs, line)]
            # No default export found: the module itself (CommonJS interop).
            return [
                ResolvedImport(local, spec, target, "module", self.module_definitions(target), line)
            ]
        found = self._js_member(target, record.name, set())
        if found is None:
            log.debug("%s:%d: %s not exported by %s", rel, line, record.name, target)
            return [ResolvedImport(local, spec, target, "name", [], line)]
        path, defs = found
        return [ResolvedImport(local, spec, path, "name", defs, line)]

    def _js_form(self, rel: str, record: ImportRecord) -> str:
        """``"named"``, ``"default"`` or ``"module"`` (namespace import, whole ``require``),
        from the import's source line."""
        if record.alias:
            return "named"
        text = self.text_of(rel)
        if text is None:
            return "named"
        lines = text.split("\n")
        if not 0 <= record.line < len(lines):
            return "named"
        src = lines[record.line]
        name = re.escape(record.name)
        if re.search(rf"\*\s*as\s+{name}\b", src):
            return "module"
        if re.search(rf"\b{name}\s*=\s*require\s*\(", src):
            return "module"
        if re.search(rf"\bimport\s+(?:type\s+)?{name}\s*(?:,|from\b)", src):
            return "default"
        return "named"

    def js_module(self, spec: str, from_rel: str) -> str | None:
        """The workspace file a JavaScript/TypeScript module specifier resolves to."""
        bases: list[str] = []
        if spec.startswith("."):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(from_rel), spec))
            if joined.startswith(".."):
                return None
            bases.append("" if joined == "." else joined)
        else:
            config = self._path_config(from_rel)
            if config is not None:
                bases.extend(config.candidates(spec))
        for base in bases:
            found = self._js_file(base)
            if found is not None:
                return found
        return None

    def _js_file(self, base: str) -> str | None:
        files = self.files
        if base in files and language_for_path(base) in JS_LANGUAGES:
            return base
        stems = [base]
        if _JS_RUNTIME_EXT.search(base):
            stems.append(_JS_RUNTIME_EXT.sub("", base))  # "./x.js" written for x.ts
        for stem in stems:
            for ext in JS_EXTENSIONS:
                if stem + ext in files:
                    return stem + ext
        for ext in JS_EXTENSIONS:
            candidate = posixpath.join(base, "index" + ext) if base else "index" + ext
            if candidate in files:
                return candidate
        return None

    def _path_config(self, from_rel: str) -> _PathConfig | None:
        directory = posixpath.dirname(from_rel)
        chain: list[str] = []
        config: _PathConfig | None = None
        while True:
            if directory in self._configs:
                config = self._configs[directory]
                break
            chain.append(directory)
            found = None
            for name in ("tsconfig.json", "jsconfig.json"):
                rel = posixpath.join(directory, name) if directory else name
                found = _read_path_config(self.root / rel, directory)
                if found is not None:
                    break
            if found is not None:
                config = found
                break
            if not directory:
                break
            directory = posixpath.dirname(directory)
        for d in chain:
            self._configs[d] = config
        return config

    def _js_member(
        self, path: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, list[Definition]] | None:
        key = (path, name)
        if key in seen or len(seen) > MAX_DEPTH * 4:
            log.debug("export cycle through %s %s", path, name)
            return None
        seen.add(key)
        own = [d for d in self.definitions_in(path) if d.scope is None and d.name == name]
        if own:
            return (path, own)
        for record in self.imports_of(path):
            if (record.alias or record.name) != name and record.name != name:
                continue
            if not record.module:
                continue
            target = self.js_module(record.module, path)
            if target is None:
                continue
            found = self._js_member(target, record.name, seen)
            if found is not None:
                return found
        text = self.text_of(path) or ""
        for spec in _EXPORT_STAR.findall(text):
            target = self.js_module(spec, path)
            if target is None:
                continue
            found = self._js_member(target, name, seen)
            if found is not None:
                return found
        return None

    def _js_default(self, path: str) -> list[Definition]:
        defs = self.definitions_in(path)
        marked = [
            d
            for d in defs
            if d.scope is None and d.signature and d.signature.startswith("export default")
        ]
        if marked:
            return marked[:1]
        text = self.text_of(path) or ""
        match = _EXPORT_DEFAULT_NAME.search(text)
        if match:
            named = [d for d in defs if d.scope is None and d.name == match.group(1)]
            if named:
                return named
        return []

    def _js_exports(self, path: str, seen: set[str]) -> dict[str, list[Definition]]:
        if path in seen or len(seen) > MAX_DEPTH:
            return {}
        seen.add(path)
        top = [d for d in self.definitions_in(path) if d.scope is None and d.kind != "module"]
        exported = [d for d in top if d.signature and d.signature.startswith("export")]
        out: dict[str, list[Definition]] = {}
        for d in exported or top:
            out.setdefault(d.name, []).append(d)
        text = self.text_of(path) or ""
        for record in self.imports_of(path):
            # `export {a} from "./x"` (recorded as imports; plain imports are not re-exports,
            # but a barrel file's imports almost always are)
            if record.module and (record.alias or record.name) not in out:
                if not re.search(rf"export\s*{{[^}}]*\b{re.escape(record.name)}\b", text):
                    continue
                target = self.js_module(record.module, path)
                if target is not None:
                    found = self._js_member(target, record.name, set())
                    if found is not None:
                        out[record.alias or record.name] = found[1]
        for spec in _EXPORT_STAR.findall(text):
            target = self.js_module(spec, path)
            if target is not None:
                for name, defs in self._js_exports(target, seen).items():
                    out.setdefault(name, defs)
        return out

    # ---------------------------------------------------------------- go

    def _go_record(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        import_path = record.module or record.name
        alias = record.alias if record.alias not in (None, "_", ".") else None
        local = alias or import_path.rsplit("/", 1)[-1]
        pkg_dir = self.go_package_dir(import_path, rel)
        if pkg_dir is None:
            log.debug("%s:%d: package %s is outside the workspace", rel, record.line, import_path)
            return [ResolvedImport(local, import_path, None, "module", [], record.line)]
        defs = self.module_definitions(pkg_dir)
        if alias is None:
            clause = next(
                (
                    d.name
                    for f in self._go_files(pkg_dir)
                    for d in self.definitions_in(f)[:1]
                    if d.kind == "module"
                ),
                None,
            )
            local = clause or local
        return [ResolvedImport(local, import_path, pkg_dir, "module", defs, record.line)]

    def go_package_dir(self, import_path: str, from_rel: str) -> str | None:
        found = self._go_mod(posixpath.dirname(from_rel))
        if found is None:
            return None
        mod_dir, mod_path = found
        if import_path == mod_path:
            pkg = mod_dir
        elif import_path.startswith(mod_path + "/"):
            rest = import_path[len(mod_path) + 1 :]
            pkg = posixpath.join(mod_dir, rest) if mod_dir else rest
        else:
            return None
        return pkg if pkg in self.dirs or pkg == "" else None

    def _go_mod(self, directory: str) -> tuple[str, str] | None:
        chain = []
        result: tuple[str, str] | None = None
        d = directory
        while True:
            if d in self._gomods:
                result = self._gomods[d]
                break
            chain.append(d)
            try:
                text = (self.root / d / "go.mod").read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = None
            if text is not None:
                match = _GO_MODULE.search(text)
                result = (d, match.group(1)) if match else None
                break
            if not d:
                break
            d = posixpath.dirname(d)
        for c in chain:
            self._gomods[c] = result
        return result

    def _go_files(self, pkg_dir: str) -> list[str]:
        return sorted(
            f
            for f in self.files
            if posixpath.dirname(f) == pkg_dir and f.endswith(".go") and not f.endswith("_test.go")
        )

    def _go_package_definitions(self, pkg_dir: str) -> list[Definition]:
        out: list[Definition] = []
        for f in self._go_files(pkg_dir):
            out.extend(
                d
                for d in self.definitions_in(f)
                if d.scope is None and d.kind != "module" and d.name[:1].isupper()
            )
        return out

    # ---------------------------------------------------------------- c / c++

    def _c_record(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        header = (record.module or record.name).strip('"<>')
        local = posixpath.basename(header)
        for base in (posixpath.dirname(rel), ""):
            candidate = posixpath.normpath(posixpath.join(base, header)) if base else header
            if candidate in self.files:
                return [
                    ResolvedImport(
                        local,
                        record.module,
                        candidate,
                        "module",
                        self.module_definitions(candidate),
                        record.line,
                    )
                ]
        return [ResolvedImport(local, record.module, None, "module", [], record.line)]


# ---------------------------------------------------------------------- helpers


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


def _py_candidate_order(path: str, parts: Sequence[str], from_rel: str) -> tuple[int, int, str]:
    prefix = (_python_prefix(path, parts) or "").rstrip("/")
    near = 0 if _is_ancestor(prefix, from_rel) else 1
    return (near, prefix.count("/") + (1 if prefix else 0), path)


@dataclass(slots=True)
class _PathConfig:
    """``compilerOptions.paths`` and ``baseUrl`` of one ``tsconfig.json``."""

    base_url: str | None  # workspace-relative folder, "" for the root
    paths_base: str  # folder the ``paths`` targets are relative to
    paths: list[tuple[str, list[str]]]

    def candidates(self, spec: str) -> list[str]:
        out: list[str] = []
        for pattern, targets in self.paths:
            star = _match_pattern(pattern, spec)
            if star is None:
                continue
            for target in targets:
                joined = posixpath.join(self.paths_base, target.replace("*", star, 1))
                out.append(_norm(joined))
        if self.base_url is not None:
            out.append(_norm(posixpath.join(self.base_url, spec)))
        return [c for c in out if c is not None]


def _norm(path: str) -> str:
    normed = posixpath.normpath(path)
    return "" if normed == "." else normed


def _match_pattern(pattern: str, spec: str) -> str | None:
    if "*" not in pattern:
        return "" if pattern == spec else None
    head, _, tail = pattern.partition("*")
    if spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head) + len(tail):
        return spec[len(head) : len(spec) - len(tail)]
    return None


def _read_path_config(path: Path, directory: str) -> _PathConfig | None:
    """A tsconfig/jsconfig (comments and trailing commas allowed), or ``None``."""
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        data = json.loads(_strip_json_comments(raw))
    except ValueError as exc:
        log.debug("%s: not readable JSON (%s)", path, exc)
        return _PathConfig(None, directory, [])
    options = data.get("compilerOptions") if isinstance(data, dict) else None
    if not isinstance(options, dict):
        return _PathConfig(None, directory, [])
    base_url = options.get("baseUrl")
    base = _norm(posixpath.join(directory, base_url)) if isinstance(base_url, str) else None
    paths: list[tuple[str, list[str]]] = []
    raw_paths = options.get("paths")
    if isinstance(raw_paths, dict):
        for pattern, targets in raw_paths.items():
            if isinstance(targets, list):
                paths.append((str(pattern), [str(t) for t in targets if isinstance(t, str)]))
    # Longest prefix first, as TypeScript matches.
    paths.sort(key=lambda p: -len(p[0].partition("*")[0]))
    return _PathConfig(base, base if base is not None else directory, paths)


def _strip_json_comments(text: str) -> str:
    def keep_strings(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith('"') else ""

    return _TRAILING_COMMA.sub(r"\1", _JSON_NOISE.sub(keep_strings, text))
