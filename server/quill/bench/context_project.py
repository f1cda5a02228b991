"""What ``quill bench context`` knows of one indexed project: its module names, what each
file's imports bind, and where a name imported from a project module is defined (following
re-exports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quill.index.records import Definition
from quill.index.service import WorkspaceIndex
from quill.index.tags import ImportRecord

__all__ = ["Bindings", "Project", "module_names"]

MAX_REEXPORT_DEPTH = 4


class Project:
    """Module names, imports and definitions of one indexed project, resolved lazily."""

    def __init__(self, index: WorkspaceIndex, files: Sequence[str]) -> None:
        self.index = index
        self.root = index.root
        self.files = [f for f in files if f.endswith(".py")]
        self.modules = module_names(self.root, self.files)
        self.module_of = {rel: name for name, rel in self.modules.items()}
        self._defs: dict[str, list[Definition]] = {}
        self._imports: dict[str, list[ImportRecord]] = {}
        self._bindings: dict[str, Bindings] = {}

    def defs(self, rel: str) -> list[Definition]:
        found = self._defs.get(rel)
        if found is None:
            found = self._defs[rel] = self.index.definitions_in_file(self.root / rel)
        return found

    def imports(self, rel: str) -> list[ImportRecord]:
        found = self._imports.get(rel)
        if found is None:
            found = self._imports[rel] = self.index.imports(self.root / rel)
        return found

    def resolve_module(self, rel: str, module: str) -> str | None:
        """The dotted name ``module`` (as written in ``rel``, maybe relative) stands for."""
        if not module.startswith("."):
            return module
        own = self.module_of.get(rel)
        if own is None:
            return None
        parts = own.split(".")
        package = parts if rel.endswith("__init__.py") else parts[:-1]
        level = len(module) - len(module.lstrip("."))
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        rest = module[level:]
        full = [*base, *rest.split(".")] if rest else base
        return ".".join(full) if full else None

    def bindings(self, rel: str) -> Bindings:
        found = self._bindings.get(rel)
        if found is None:
            found = self._bindings[rel] = self._make_bindings(rel)
        return found

    def _make_bindings(self, rel: str) -> Bindings:
        b = Bindings()
        for imp in self.imports(rel):
            if imp.module is None:
                continue
            is_from = imp.module != imp.name or imp.module.startswith(".")
            dotted = self.resolve_module(rel, imp.module)
            if dotted is None:
                continue
            if not is_from:
                target = self.modules.get(dotted)
                if target is not None and target != rel:
                    local = imp.alias or imp.name
                    b.modules[local] = target
                    b.imported.append((target, None))
                continue
            if imp.name == "*":
                target = self.modules.get(dotted)
                if target is not None and target != rel:
                    b.stars.append(target)
                    b.imported.append((target, None))
                continue
            local = imp.alias or imp.name
            sub = self.modules.get(f"{dotted}.{imp.name}")
            if sub is not None:
                if sub != rel:
                    b.modules[local] = sub
                    b.imported.append((sub, None))
                continue
            source = self.modules.get(dotted)
            if source is not None and source != rel:
                b.names[local] = (source, imp.name)
                b.imported.append((source, imp.name))
        return b

    def resolve_def(self, rel: str, name: str, depth: int = 0) -> Definition | None:
        """The top-level definition ``name`` of module ``rel``, following re-exports."""
        for d in self.defs(rel):
            if d.name == name and d.scope is None and d.signature:
                return d
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        b = self.bindings(rel)
        if name in b.names:
            source, orig = b.names[name]
            return self.resolve_def(source, orig, depth + 1)
        for star in b.stars:
            found = self.resolve_def(star, name, depth + 1)
            if found is not None:
                return found
        return None


@dataclass(slots=True)
class Bindings:
    """What a file's imports bind: names to (module file, name), names to module files."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    #: in file order: (module file, name) for a name, (module file, None) for a whole module
    imported: list[tuple[str, str | None]] = field(default_factory=list)


def module_names(root: Path, files: Sequence[str]) -> dict[str, str]:
    """Dotted module name -> workspace-relative file; names two files claim are left out."""
    out: dict[str, str] = {}
    clash: set[str] = set()
    for rel in sorted(files):
        parts = rel.split("/")
        stem = parts[-1][: -len(".py")]
        dirs = parts[:-1]
        package: list[str] = []
        while dirs and (root.joinpath(*dirs) / "__init__.py").is_file():
            package.insert(0, dirs[-1])
            dirs = dirs[:-1]
        dotted = [*package] if stem == "__init__" else [*package, stem]
        if not dotted or not all(p.isidentifier() for p in dotted):
            continue
        name = ".".join(dotted)
        if name in out:
            clash.add(name)
        out[name] = rel
    for name in clash:
        del out[name]
    return out
