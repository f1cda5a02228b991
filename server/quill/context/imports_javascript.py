"""JavaScript / TypeScript imports: named, aliased, default and namespace imports,
``require("./x")`` (whole module) and ``const {a} = require("./x")``.

Specifiers resolve relative to the file with the usual extensions and ``index.*`` files, or
through the nearest ``tsconfig.json`` / ``jsconfig.json`` ``compilerOptions.paths`` and
``baseUrl``. Barrel files are followed through ``export {a} from`` and ``export * from``.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from dataclasses import dataclass

from quill.context.imports_result import ResolvedImport
from quill.context.imports_workspace import (
    MAX_DEPTH,
    LanguageImports,
    ModuleDefinitions,
    WorkspaceFiles,
    nearest_upwards,
    top_level,
    visit,
)
from quill.index.languages import language_for_path
from quill.index.records import Definition
from quill.index.tags import ImportRecord

log = logging.getLogger(__name__)

__all__ = ["JS_EXTENSIONS", "JS_LANGUAGES", "JavaScriptImports"]

JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
PATH_CONFIG_FILES = ("tsconfig.json", "jsconfig.json")
_JS_RUNTIME_EXT = re.compile(r"\.(?:js|jsx|mjs|cjs)$")
_EXPORT_STAR = re.compile(r"""export\s+\*\s+from\s+["']([^"']+)["']""")
_EXPORT_DEFAULT_NAME = re.compile(r"export\s+default\s+([A-Za-z_$][\w$]*)\s*;?\s*$", re.M)
_JSON_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


class JavaScriptImports(LanguageImports):
    """JavaScript/TypeScript modules, their exports and the barrels in between."""

    def __init__(self, files: WorkspaceFiles, module_definitions: ModuleDefinitions) -> None:
        super().__init__(files, module_definitions)
        self._configs: dict[str, _PathConfig | None] = {}

    def resolve(self, rel: str, record: ImportRecord) -> list[ResolvedImport]:
        spec = record.module
        local = record.alias or record.name
        line = record.line
        form = self._form(rel, record)
        target = self.find_module(spec, rel) if spec else None
        if target is None:
            log.debug("%s:%d: module %r is outside the workspace or missing", rel, line, spec)
            kind = "module" if form == "module" else "name"
            return [ResolvedImport(local, spec, None, kind, [], line)]
        if form == "module":
            return self.whole_module(local, spec, target, line)
        if form == "default":
            defs = self.default_export(target)
            if defs:
                return [ResolvedImport(local, spec, target, "name", defs, line)]
            # No default export found: the module itself (CommonJS interop).
            return self.whole_module(local, spec, target, line)
        found = self.member(target, record.name, set())
        if found is None:
            log.debug("%s:%d: %s not exported by %s", rel, line, record.name, target)
            return [ResolvedImport(local, spec, target, "name", [], line)]
        path, defs = found
        return [ResolvedImport(local, spec, path, "name", defs, line)]

    def _form(self, rel: str, record: ImportRecord) -> str:
        """``"named"``, ``"default"`` or ``"module"`` (namespace import, whole ``require``),
        from the import's source line."""
        if record.alias:
            return "named"
        text = self.files.text_of(rel)
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

    # ---------------------------------------------------------------- specifiers

    def find_module(self, spec: str, from_rel: str) -> str | None:
        """The workspace file a JavaScript/TypeScript module specifier resolves to."""
        bases: list[str] = []
        if spec.startswith("."):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(from_rel), spec))
            if joined.startswith(".."):
                return None
            bases.append("" if joined == "." else joined)
        else:
            config = nearest_upwards(posixpath.dirname(from_rel), self._configs, self._config_in)
            if config is not None:
                bases.extend(config.candidates(spec))
        for base in bases:
            found = self._file(base)
            if found is not None:
                return found
        return None

    def _file(self, base: str) -> str | None:
        files = self.files.files
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

    def _config_in(self, directory: str) -> _PathConfig | None:
        """The ``tsconfig.json`` (or ``jsconfig.json``) of one folder, if it has one."""
        for name in PATH_CONFIG_FILES:
            rel = posixpath.join(directory, name) if directory else name
            text = self.files.text_of(rel)
            if text is not None:
                return _parse_path_config(text, directory, rel)
        return None

    # ---------------------------------------------------------------- exports

    def member(
        self, path: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, list[Definition]] | None:
        """Where the module at ``path`` gets its export ``name`` from: its own definition,
        or one it re-exports (``export {name} from``, ``export * from``)."""
        if not visit(seen, (path, name)):
            return None
        own = self.files.top_level_named(path, name)
        if own:
            return (path, own)
        for record in self.files.imports_of(path):
            if (record.alias or record.name) != name and record.name != name:
                continue
            if not record.module:
                continue
            found = self._member_from(record.module, path, record.name, seen)
            if found is not None:
                return found
        for spec in _EXPORT_STAR.findall(self.files.text_of(path) or ""):
            found = self._member_from(spec, path, name, seen)
            if found is not None:
                return found
        return None

    def _member_from(
        self, spec: str, from_rel: str, name: str, seen: set[tuple[str, str]]
    ) -> tuple[str, list[Definition]] | None:
        target = self.find_module(spec, from_rel)
        return None if target is None else self.member(target, name, seen)

    def default_export(self, path: str) -> list[Definition]:
        defs = self.files.definitions_in(path)
        marked = [
            d
            for d in defs
            if d.scope is None and d.signature and d.signature.startswith("export default")
        ]
        if marked:
            return marked[:1]
        match = _EXPORT_DEFAULT_NAME.search(self.files.text_of(path) or "")
        if match:
            return self.files.top_level_named(path, match.group(1))
        return []

    def exports(self, path: str, seen: set[str]) -> dict[str, list[Definition]]:
        """The module's exported names (all its top-level names when none is marked
        ``export``), with what its barrels re-export."""
        if path in seen or len(seen) > MAX_DEPTH:
            return {}
        seen.add(path)
        top = top_level(self.files.definitions_in(path))
        exported = [d for d in top if d.signature and d.signature.startswith("export")]
        out: dict[str, list[Definition]] = {}
        for d in exported or top:
            out.setdefault(d.name, []).append(d)
        text = self.files.text_of(path) or ""
        for record in self.files.imports_of(path):
            # `export {a} from "./x"` (recorded as imports; plain imports are not re-exports,
            # but a barrel file's imports almost always are)
            if record.module and (record.alias or record.name) not in out:
                if not re.search(rf"export\s*{{[^}}]*\b{re.escape(record.name)}\b", text):
                    continue
                found = self._member_from(record.module, path, record.name, set())
                if found is not None:
                    out[record.alias or record.name] = found[1]
        for spec in _EXPORT_STAR.findall(text):
            target = self.find_module(spec, path)
            if target is not None:
                for name, defs in self.exports(target, seen).items():
                    out.setdefault(name, defs)
        return out

    def public_definitions(self, path: str) -> list[Definition]:
        """Everything the module exports; uncached (the resolver caches)."""
        return [d for group in self.exports(path, set()).values() for d in group]


# ---------------------------------------------------------------------- tsconfig paths


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


def _parse_path_config(text: str, directory: str, rel: str) -> _PathConfig:
    """The tsconfig/jsconfig ``rel`` in ``directory`` (comments and trailing commas
    allowed); an empty one when it is not readable JSON."""
    try:
        data = json.loads(_strip_json_comments(text))
    except ValueError as exc:
        log.debug("%s: not readable JSON (%s)", rel, exc)
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
