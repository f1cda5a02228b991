"""``quill bench context``: does the context given at a cursor hold what the next line needs?

Cases come from real multi-file Python projects no one here wrote (pinned sdists fetched
with pip into a cache, or local folders). A case is a one-line simple statement inside a
function body that uses a definition from another file of the same project, of one of three
kinds:

* ``import``: a name bound by ``from … import`` (``helper(x)``, ``Console()``);
* ``module``: an attribute of an imported project module (``mod.func(...)`` after
  ``import pkg.mod`` or ``from pkg import mod``);
* ``method``: a method call ``obj.meth(...)`` where ``meth`` is defined exactly once in the
  project, as a method.

Names also defined in the case's own file, builtins, standard-library module names and (for
methods) ubiquitous method names are left out. For each case the line is removed (it becomes
its indentation, where the cursor is put) and each system is asked for context at
``budget`` tokens; a hit is when the needed definition's header line
(:attr:`Definition.signature`) appears in the context text.

Systems, on the same cases and the same token counter
(:func:`quill.index.repomap.estimate_tokens`):

* **quill**: ``quill.context.assemble.assemble_context`` when that module exists, else the
  repo map personalized on the file and the identifiers near the cursor;
* **baseline**: import following: the signatures of the definitions named in the file's
  ``from … import`` lines and the top-level definitions of modules imported whole, in file
  order, cut to the budget;
* **aider**: aider-chat's RepoMap in its own virtualenv (``.bench-venvs/aider`` or
  ``$QUILL_AIDER_PYTHON``), one process per project running
  :mod:`quill.bench.aider_context_driver`.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import platformdirs

from quill.index.records import Definition
from quill.index.repomap import estimate_tokens
from quill.index.service import WorkspaceIndex
from quill.index.tags import ImportRecord

__all__ = [
    "DEFAULT_PROJECTS",
    "KINDS",
    "TARGETS",
    "Case",
    "find_cases",
    "run_context_bench",
    "sample_cases",
]

#: pinned sdists, 17k-27k lines of Python each
DEFAULT_PROJECTS = ("rich==13.7.1", "httpx==0.27.0", "jinja2==3.1.4")
KINDS = ("import", "module", "method")
SYSTEMS = ("quill", "baseline", "aider")
TARGETS = {
    "recall_overall": 0.85,
    "recall_method": 0.60,
    "quill_over_aider": 2.0,
    "assembly_p50_ms": 20.0,
}
#: method names too common to say which definition a call needs
UBIQUITOUS_METHODS = frozenset(
    "append extend insert pop remove clear copy get set items keys values update setdefault "
    "join split rsplit strip lstrip rstrip format replace startswith endswith lower upper "
    "encode decode read write readline readlines close flush open send recv start stop run "
    "add discard put find index count sort reverse match search sub group groups "
    "__init__ __call__ __enter__ __exit__ __aenter__ __aexit__ __iter__ __next__".split()
)
PIP_TIMEOUT_S = 600
AIDER_TIMEOUT_S = 1800
MAX_REEXPORT_DEPTH = 4
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED_BEFORE_DOT = re.compile(
    r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\.\s*$"
)
_DOT_BEFORE = re.compile(r"\.\s*$")
_SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True, slots=True)
class Case:
    """One cursor position and the definition the removed line needed."""

    path: str  # workspace-relative
    line: int  # 0-based
    column: int  # the line's indentation: where the cursor is put
    kind: str  # one of KINDS
    name: str  # the identifier as written on the line
    target: Definition
    source_line: str  # the removed line

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.line)


@functools.cache
def _excluded_names() -> frozenset[str]:
    """Builtins and standard-library module names (every kind)."""
    return frozenset(dir(builtins)) | frozenset(sys.stdlib_module_names)


@functools.cache
def _excluded_methods() -> frozenset[str]:
    """Method names that say nothing about the project: ubiquitous ones and the attributes
    of the builtin types and of a few standard-library classes everyone uses."""
    import collections
    import io
    import logging
    import pathlib
    import threading

    names: set[str] = set(UBIQUITOUS_METHODS)
    kinds: list[type] = [
        object,
        str,
        bytes,
        bytearray,
        int,
        float,
        list,
        dict,
        set,
        frozenset,
        tuple,
        io.IOBase,
        io.TextIOWrapper,
        io.BytesIO,
        io.StringIO,
        logging.Logger,
        pathlib.Path,
        threading.Thread,
        collections.deque,
        collections.OrderedDict,
        type(re.compile("")),
        type(re.match("", "")),
    ]
    for kind in kinds:
        names.update(dir(kind))
    return frozenset(names)


class _Project:
    """Module names, imports and definitions of one indexed project, resolved lazily."""

    def __init__(self, index: WorkspaceIndex, files: Sequence[str]) -> None:
        self.index = index
        self.root = index.root
        self.files = [f for f in files if f.endswith(".py")]
        self.modules = _module_names(self.root, self.files)
        self.module_of = {rel: name for name, rel in self.modules.items()}
        self._defs: dict[str, list[Definition]] = {}
        self._imports: dict[str, list[ImportRecord]] = {}
        self._bindings: dict[str, _Bindings] = {}

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

    def bindings(self, rel: str) -> _Bindings:
        found = self._bindings.get(rel)
        if found is None:
            found = self._bindings[rel] = self._make_bindings(rel)
        return found

    def _make_bindings(self, rel: str) -> _Bindings:
        b = _Bindings()
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
class _Bindings:
    """What a file's imports bind: names to (module file, name), names to module files."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    #: in file order: (module file, name) for a name, (module file, None) for a whole module
    imported: list[tuple[str, str | None]] = field(default_factory=list)


def _module_names(root: Path, files: Sequence[str]) -> dict[str, str]:
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


_COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
)


def _statement_lines(source: str) -> dict[int, int]:
    """0-based line -> indentation of the one-line simple statements inside function
    bodies that have the line to themselves. A statement alone in its block counts too:
    removing it leaves an empty block, which is what the buffer looks like while someone
    writes the first line of a body."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    lines = source.split("\n")
    found: dict[int, int] = {}
    per_line: dict[int, int] = {}

    def block(stmts: Sequence[ast.stmt]) -> None:
        for stmt in stmts:
            per_line[stmt.lineno] = per_line.get(stmt.lineno, 0) + 1
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # functions are visited on their own; class bodies are not bodies
            if isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    block(case.body)
                continue
            if isinstance(stmt, _COMPOUND):
                for attr in ("body", "orelse", "finalbody"):
                    block(getattr(stmt, attr, None) or [])
                for handler in getattr(stmt, "handlers", None) or []:
                    block(handler.body)
                continue
            if stmt.end_lineno != stmt.lineno:
                continue
            if (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ):
                continue  # a docstring or a bare string
            line = stmt.lineno - 1
            if line < len(lines) and not lines[line][: stmt.col_offset].strip():
                found[line] = stmt.col_offset

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            block(node.body)
    return {line: col for line, col in found.items() if per_line.get(line + 1) == 1}


def find_cases(index: WorkspaceIndex, files: Sequence[str] | None = None) -> dict[str, list[Case]]:
    """Every case of each kind in the indexed Python files, by kind, in (path, line) order."""
    project = _Project(index, files if files is not None else index.indexed_files())
    return _find_cases(project)


def _find_cases(project: _Project) -> dict[str, list[Case]]:
    excluded = _excluded_names()
    excluded_methods = _excluded_methods()
    method_defs: dict[str, Definition | None] = {}

    def unique_method(name: str) -> Definition | None:
        if name not in method_defs:
            defs = project.index.definitions(name)
            only = defs[0] if len(defs) == 1 else None
            ok = only is not None and only.kind == "method" and only.scope and only.signature
            method_defs[name] = only if ok else None
        return method_defs[name]

    out: dict[str, list[Case]] = {kind: [] for kind in KINDS}
    for rel in project.files:
        path = project.root / rel
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        statements = _statement_lines(text)
        if not statements:
            continue
        lines = text.split("\n")
        own_names = {d.name for d in project.defs(rel)}
        b = project.bindings(rel)
        seen: set[tuple[int, str]] = set()
        for tag in project.index.file_tags(path):
            if tag.is_definition or tag.kind not in ("call", "type"):
                continue
            line = tag.start_line
            indent = statements.get(line)
            if indent is None or line >= len(lines):
                continue
            name = tag.name
            if name in own_names or name in excluded:
                continue
            raw = lines[line].encode("utf-8")
            prefix = raw[: tag.start_col].decode("utf-8", errors="replace")
            dotted = _DOTTED_BEFORE_DOT.search(prefix)
            kind: str | None = None
            target: Definition | None = None
            if dotted is not None:
                base = re.sub(r"\s+", "", dotted.group(1))
                module_file = b.modules.get(base)
                if module_file is not None:
                    kind, target = "module", project.resolve_def(module_file, name)
            if kind is None and _DOT_BEFORE.search(prefix):
                if name not in excluded_methods:
                    kind, target = "method", unique_method(name)
            elif kind is None and name in b.names:
                source, orig = b.names[name]
                if orig not in own_names and orig not in excluded:
                    kind, target = "import", project.resolve_def(source, orig)
            if kind is None or target is None or target.path == rel or not target.signature:
                continue
            if (line, kind) in seen:
                continue
            seen.add((line, kind))
            out[kind].append(Case(rel, line, indent, kind, name, target, lines[line]))
    for cases in out.values():
        cases.sort(key=lambda c: (c.path, c.line))
    return out


def sample_cases(by_kind: dict[str, list[Case]], max_cases: int, rng: random.Random) -> list[Case]:
    """At most ``max_cases``, one per file and needed definition, balanced across kinds
    where there are enough of each; the result in (path, line, kind) order."""
    pools: dict[str, list[Case]] = {}
    for kind in KINDS:
        # One case per (file, needed definition): a definition used thirty times in one
        # test file counts once, at one of its uses picked at random.
        groups: dict[tuple[str, str, int], list[Case]] = {}
        for case in by_kind.get(kind, []):
            key = (case.path, case.target.path, case.target.start_line)
            groups.setdefault(key, []).append(case)
        pools[kind] = [rng.choice(groups[key]) for key in sorted(groups)]
        rng.shuffle(pools[kind])
    chosen: list[Case] = []
    quota = max_cases // len(KINDS)
    for kind in KINDS:
        chosen.extend(pools[kind][:quota])
        pools[kind] = pools[kind][quota:]
    # Fill what is left round-robin from the kinds that have more.
    while len(chosen) < max_cases and any(pools.values()):
        for kind in KINDS:
            if pools[kind] and len(chosen) < max_cases:
                chosen.append(pools[kind].pop(0))
    chosen.sort(key=lambda c: (c.path, c.line, KINDS.index(c.kind)))
    return chosen


# --------------------------------------------------------------------------- systems


def _remove_line(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    ending = "\r" if lines[line].endswith("\r") else ""
    lines[line] = lines[line][:column] + ending
    return "\n".join(lines)


def _quill_system() -> tuple[str, Callable[..., Any] | None]:
    """("assemble_context", function) when quill.context.assemble exists, else the map."""
    try:
        spec = importlib.util.find_spec("quill.context.assemble")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        module = importlib.import_module("quill.context.assemble")
        function = getattr(module, "assemble_context", None)
        if callable(function):
            return "assemble_context (quill.context.assemble)", function
    return "repo map fallback (index.repo_map, focus file + identifiers near the cursor)", None


def _identifiers_near_cursor(prefix: str) -> list[str]:
    from quill.context.assemble import identifiers_near

    return identifiers_near(prefix.split("\n")[-12:])


def _baseline_text(project: _Project, rel: str, budget: int) -> str:
    """Import following: signatures of the names imported from project modules and the
    top-level definitions of project modules imported whole (for a package, also the names
    its ``__init__`` imports), in file order, cut to the budget."""
    items: list[tuple[str, str]] = []  # (path, signature)
    seen: set[tuple[str, str]] = set()

    def add(path: str, signature: str | None) -> None:
        if signature and (path, signature) not in seen:
            seen.add((path, signature))
            items.append((path, signature))

    for module_file, name in project.bindings(rel).imported:
        if name is not None:
            d = project.resolve_def(module_file, name)
            if d is not None:
                add(d.path, d.signature)
            continue
        for d in project.defs(module_file):
            if d.scope is None:
                add(d.path, d.signature)
        if module_file.endswith("__init__.py"):
            # A package's namespace is mostly what its __init__ imports: follow those too.
            for source, exported in project.bindings(module_file).imported:
                if exported is not None:
                    d = project.resolve_def(source, exported)
                    if d is not None:
                        add(d.path, d.signature)
    out: list[str] = []
    current = None
    text = ""
    for path, signature in items:
        piece = ([f"{path}:"] if path != current else []) + [f"│{signature}"]
        candidate = "\n".join([*out, *piece]) + "\n"
        if estimate_tokens(candidate) > budget:
            break
        out.extend(piece)
        current = path
        text = candidate
    return text


# --------------------------------------------------------------------------- projects


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("quill")) / "bench-projects"


def _only_dir(folder: Path) -> Path:
    subdirs = [p for p in folder.iterdir() if p.is_dir()]
    return subdirs[0] if len(subdirs) == 1 else folder


def fetch_project(spec: str, cache_dir: Path) -> Path:
    """The project's folder: ``spec`` itself when it is a folder, else the unpacked sdist of
    ``NAME==VERSION`` (downloaded with pip once into ``cache_dir``). Raises ``ValueError``
    with a one-line reason when it cannot."""
    local = Path(spec).expanduser()
    if local.is_dir():
        return local.resolve()
    m = _SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"{spec!r} is neither a folder nor NAME==VERSION")
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    key = f"{name}-{m.group(2)}"
    target = cache_dir / key
    if (target / ".quill-complete").is_file():
        return _only_dir(target / "src")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{key}-", dir=cache_dir) as tmp:
        downloads = Path(tmp) / "downloads"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--quiet",
            spec.strip(),
            "-d",
            str(downloads),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(f"pip download failed: {exc}") from exc
        archives = sorted(downloads.glob("*")) if downloads.is_dir() else []
        if proc.returncode != 0 or not archives:
            lines = [
                line
                for line in (proc.stderr or proc.stdout).splitlines()
                if line.strip() and "is ignored" not in line
            ]
            raise ValueError(
                f"pip download exited {proc.returncode}: {lines[-1] if lines else 'no archive'}"
            )
        unpacked = Path(tmp) / "src"
        unpacked.mkdir()
        _unpack(archives[0], unpacked)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        (unpacked).rename(target / "src")
        (target / ".quill-complete").write_text(spec.strip() + "\n", encoding="utf-8")
    return _only_dir(target / "src")


def _unpack(archive: Path, dest: Path) -> None:
    name = archive.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                resolved = (dest / member).resolve()
                if not resolved.is_relative_to(dest.resolve()):
                    raise ValueError(f"{name}: unsafe path {member!r}")
            zf.extractall(dest)
        return
    if ".tar" in name or name.endswith(".tgz"):
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")
        return
    raise ValueError(f"{name}: not an sdist archive")


# --------------------------------------------------------------------------- aider


def _aider_python() -> Path | None:
    """aider's interpreter, or ``None`` when it is not installed. ``$QUILL_AIDER_PYTHON``,
    when set, is the only place looked at (a path that does not exist: not installed)."""
    env = os.environ.get("QUILL_AIDER_PYTHON")
    if env:
        path = Path(env).expanduser()
        return path if path.is_file() else None
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / ".bench-venvs" / "aider" / "bin" / "python"
        if candidate.is_file():
            return candidate
    return None


@dataclass(slots=True)
class _AiderRun:
    available: bool
    why: str = ""
    version: str = ""
    load_s: float = 0.0
    texts: dict[int, str] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def _run_aider(
    python: Path,
    root: Path,
    files: Sequence[str],
    queries: Sequence[tuple[int, str, str, list[str]]],
    budget: int,
) -> _AiderRun:
    """One driver process for the project, answering every query (id, file, text, idents)."""
    request = {
        "root": str(root),
        "budget": budget,
        "files": list(files),
        "cases": [
            {"id": qid, "file": rel, "text": text, "mentioned_idents": idents}
            for qid, rel, text, idents in queries
        ],
    }
    driver = Path(__file__).with_name("aider_context_driver.py")
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    env.pop("PYTHONPATH", None)
    try:
        proc = subprocess.run(
            [str(python), str(driver)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=AIDER_TIMEOUT_S,
            env=env,
            cwd=str(root),
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return _AiderRun(False, why=f"aider driver failed: {exc}")
    run = _AiderRun(True)
    done = False
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        event = item.get("event")
        if event == "ready":
            run.version = str(item.get("version", ""))
            run.load_s = float(item.get("load_s", 0.0))
        elif event == "done":
            done = True
        elif "error" in item:
            run.errors += 1
            run.first_error = run.first_error or str(item["error"])
        elif "id" in item:
            run.texts[int(item["id"])] = str(item.get("text") or "")
            run.ms.append(float(item.get("ms", 0.0)))
    if proc.returncode != 0 or not done:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return _AiderRun(False, why=f"aider driver exited {proc.returncode}: {tail[0][:200]}")
    return run


# --------------------------------------------------------------------------- measuring


@dataclass(slots=True)
class _Tally:
    cases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    tokens: list[int] = field(default_factory=list)  # one per query (cursor position)

    def add(self, kind: str, hit: bool) -> None:
        self.cases[kind] += 1
        self.hits[kind] += int(hit)

    def merge(self, other: _Tally) -> None:
        for kind in KINDS:
            self.cases[kind] += other.cases[kind]
            self.hits[kind] += other.hits[kind]
        self.tokens.extend(other.tokens)

    def recall(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            kind: (self.hits[kind] / self.cases[kind] if self.cases[kind] else None)
            for kind in KINDS
        }
        total = sum(self.cases.values())
        out["overall"] = sum(self.hits.values()) / total if total else None
        return out

    def mean_tokens(self) -> float:
        return sum(self.tokens) / len(self.tokens) if self.tokens else 0.0


@dataclass(slots=True)
class _ProjectResult:
    name: str
    root: str
    files: int = 0
    lines: int = 0
    available: dict[str, int] = field(default_factory=dict)
    tallies: dict[str, _Tally] = field(default_factory=dict)
    quill_ms: list[float] = field(default_factory=list)
    update_ms: list[float] = field(default_factory=list)
    quill_errors: int = 0
    quill_first_error: str = ""
    aider: _AiderRun | None = None


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def _group(cases: Sequence[Case]) -> Iterator[tuple[tuple[str, int], list[Case]]]:
    groups: dict[tuple[str, int], list[Case]] = {}
    for case in cases:
        groups.setdefault(case.key, []).append(case)
    yield from groups.items()


def _measure_project(
    name: str,
    root: Path,
    out: TextIO,
    *,
    budget: int,
    max_cases: int,
    seed: int,
    aider_python: Path | None,
    assemble: Callable[..., Any] | None,
) -> _ProjectResult:
    result = _ProjectResult(name, str(root))
    with tempfile.TemporaryDirectory(prefix="quill-context-bench-") as db:
        index = WorkspaceIndex(root, Path(db))
        try:
            stats = index.index_all()
            result.files, result.lines = stats.files, stats.lines
            files = index.indexed_files()
            project = _Project(index, files)
            by_kind = _find_cases(project)
            result.available = {kind: len(by_kind[kind]) for kind in KINDS}
            cases = sample_cases(by_kind, max_cases, random.Random(f"{seed}:{name}"))
            out.write(
                f"  {name}: {result.files} files, {result.lines:,} lines; cases found "
                + ", ".join(f"{k} {result.available[k]}" for k in KINDS)
                + f"; measuring {len(cases)}\n"
            )
            out.flush()
            result.tallies = {system: _Tally() for system in SYSTEMS}
            queries = list(_group(cases))
            texts: dict[str, str] = {}
            aider_queries: list[tuple[int, str, str, list[str]]] = []
            baseline_cache: dict[str, str] = {}
            current: str | None = None
            for qid, ((rel, line), group) in enumerate(queries):
                if rel not in texts:
                    texts[rel] = (root / rel).read_bytes().decode("utf-8")
                column = group[0].column
                buffer = _remove_line(texts[rel], line, column)
                prefix = "\n".join(buffer.split("\n")[: line + 1])
                idents = _identifiers_near_cursor(prefix)
                if current is not None and current != rel:
                    index.update_file(root / current)  # back to the disk copy
                current = rel
                t0 = time.perf_counter()
                index.update_file(root / rel, buffer)
                result.update_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                try:
                    if assemble is not None:
                        quill_text = str(
                            assemble(
                                index,
                                rel,
                                buffer,
                                line,
                                column,
                                budget,
                                count_tokens=estimate_tokens,
                            ).text
                        )
                    else:
                        quill_text = index.repo_map(
                            budget_tokens=budget,
                            focus_files=[root / rel],
                            mentioned_idents=idents,
                            count_tokens=estimate_tokens,
                        ).text
                except Exception as exc:  # a bench reports a failing system, then goes on
                    quill_text = ""
                    result.quill_errors += 1
                    result.quill_first_error = result.quill_first_error or (
                        f"{type(exc).__name__}: {exc}"
                    )
                result.quill_ms.append((time.perf_counter() - t0) * 1000)
                if rel not in baseline_cache:
                    baseline_cache[rel] = _baseline_text(project, rel, budget)
                base_text = baseline_cache[rel]
                for system, text in (("quill", quill_text), ("baseline", base_text)):
                    tally = result.tallies[system]
                    tally.tokens.append(estimate_tokens(text))
                    for case in group:
                        tally.add(case.kind, _hit(case, text))
                if aider_python is not None:
                    aider_queries.append((qid, rel, buffer, idents))
            if current is not None:
                index.update_file(root / current)
            if aider_python is not None and queries:
                out.write(f"  {name}: aider RepoMap on {len(queries)} cursor positions...\n")
                out.flush()
                run = _run_aider(aider_python, root, files, aider_queries, budget)
                result.aider = run
                if run.available:
                    tally = result.tallies["aider"]
                    for qid, (_key, group) in enumerate(queries):
                        text = run.texts.get(qid, "")
                        tally.tokens.append(estimate_tokens(text))
                        for case in group:
                            tally.add(case.kind, _hit(case, text))
        finally:
            index.close()
    return result


def _hit(case: Case, text: str) -> bool:
    return bool(case.target.signature) and str(case.target.signature) in text


# --------------------------------------------------------------------------- report


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _table(tallies: dict[str, _Tally], aider_ok: bool, indent: str) -> list[str]:
    lines = [
        f"{indent}{'system':<9} {'import':>7} {'module':>7} {'method':>7} "
        f"{'overall':>8} {'mean tokens':>12}"
    ]
    for system in SYSTEMS:
        if system == "aider" and not aider_ok:
            continue
        tally = tallies[system]
        r = tally.recall()
        lines.append(
            f"{indent}{system:<9} {_pct(r['import']):>7} {_pct(r['module']):>7} "
            f"{_pct(r['method']):>7} {_pct(r['overall']):>8} {tally.mean_tokens():12.0f}"
        )
    counts = tallies["quill"].cases
    lines.append(
        f"{indent}cases     "
        + "  ".join(f"{kind} {counts[kind]}" for kind in KINDS)
        + f"  total {sum(counts.values())}"
    )
    return lines


def _summary(tallies: dict[str, _Tally], aider_ok: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": dict(tallies["quill"].cases)}
    out["cases"]["total"] = sum(tallies["quill"].cases.values())
    for system in SYSTEMS:
        if system == "aider" and not aider_ok:
            continue
        tally = tallies[system]
        out[system] = {
            "recall": tally.recall(),
            "mean_tokens": tally.mean_tokens(),
            "hits": dict(tally.hits),
        }
    quill = tallies["quill"].recall()["overall"]
    out["quill_over_baseline"] = _ratio(quill, tallies["baseline"].recall()["overall"])
    out["quill_over_aider"] = (
        _ratio(quill, tallies["aider"].recall()["overall"]) if aider_ok else None
    )
    return out


def run_context_bench(
    projects: list[str],
    out: TextIO,
    *,
    budget: int = 1024,
    max_cases: int = 300,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> int:
    """Run the benchmark on ``projects`` (``NAME==VERSION`` sdists or folders; empty: the
    defaults) and write the report to ``out``, ending with one JSON line. Returns 0 when it
    ran (missed targets are reported, not failures), 1 with a one-line reason when not."""
    specs = list(projects) or list(DEFAULT_PROJECTS)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    quill_label, assemble = _quill_system()
    aider_python = _aider_python()
    out.write(
        f"quill bench context: {len(specs)} project(s), budget {budget} tokens, up to "
        f"{max_cases} cases each, seed {seed}\n"
        f"quill:    {quill_label}\n"
        f"baseline: import following (from-import signatures + modules imported whole)\n"
        f"aider:    "
        + (
            f"aider RepoMap via {aider_python} (one process per project; same token counter, "
            "PYTHONHASHSEED=0, sorted captures, identifiers near the cursor as mentioned)"
            if aider_python is not None
            else "not measured: no aider virtualenv ($QUILL_AIDER_PYTHON or "
            ".bench-venvs/aider/bin/python; `make bench-deps`)"
        )
        + "\n"
    )
    out.flush()
    results: list[_ProjectResult] = []
    skipped: list[dict[str, str]] = []
    for spec in specs:
        try:
            root = fetch_project(spec, cache)
        except ValueError as exc:
            out.write(f"  {spec}: skipped: {exc}\n")
            skipped.append({"project": spec, "why": str(exc)})
            continue
        results.append(
            _measure_project(
                spec,
                root,
                out,
                budget=budget,
                max_cases=max_cases,
                seed=seed,
                aider_python=aider_python,
                assemble=assemble,
            )
        )
    measured = [r for r in results if r.tallies and sum(r.tallies["quill"].cases.values())]
    if not measured:
        reason = "no project could be fetched" if not results else "no cases found in any project"
        out.write(f"quill bench context: {reason}\n")
        return 1

    report: dict[str, Any] = {
        "budget": budget,
        "max_cases": max_cases,
        "seed": seed,
        "quill_system": "assemble_context" if assemble is not None else "repo_map_fallback",
        "targets": dict(TARGETS),
        "projects": [],
        "skipped": skipped,
    }
    overall = {system: _Tally() for system in SYSTEMS}
    quill_ms: list[float] = []
    aider_everywhere = aider_python is not None
    aider_versions: set[str] = set()
    for r in measured:
        aider_ok = r.aider is not None and r.aider.available
        aider_everywhere = aider_everywhere and aider_ok
        out.write(f"\n{r.name}  ({r.root})\n")
        out.write(f"  {r.files} files, {r.lines:,} lines\n")
        for line in _table(r.tallies, aider_ok, "  "):
            out.write(line + "\n")
        p50, p99 = _percentile(r.quill_ms, 0.5), _percentile(r.quill_ms, 0.99)
        out.write(
            f"  quill assembly p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(r.quill_ms)} "
            f"cursor positions (buffer update before it: p50 "
            f"{_percentile(r.update_ms, 0.5):.1f} ms)\n"
        )
        if r.quill_errors:
            out.write(f"  quill errors: {r.quill_errors} (first: {r.quill_first_error})\n")
        project_json: dict[str, Any] = {
            "project": r.name,
            "root": r.root,
            "files": r.files,
            "lines": r.lines,
            "cases_found": r.available,
            **_summary(r.tallies, aider_ok),
            "quill_ms": {"p50": p50, "p99": p99, "n": len(r.quill_ms)},
            "update_ms_p50": _percentile(r.update_ms, 0.5),
            "quill_errors": r.quill_errors,
        }
        if r.aider is not None:
            if r.aider.available:
                aider_versions.add(r.aider.version)
                out.write(
                    f"  aider: load {r.aider.load_s:.1f} s, map p50 "
                    f"{_percentile(r.aider.ms, 0.5):.0f} ms, p99 "
                    f"{_percentile(r.aider.ms, 0.99):.0f} ms"
                    + (
                        f", {r.aider.errors} errors ({r.aider.first_error})"
                        if r.aider.errors
                        else ""
                    )
                    + "\n"
                )
                project_json["aider_run"] = {
                    "version": r.aider.version,
                    "load_s": r.aider.load_s,
                    "map_ms_p50": _percentile(r.aider.ms, 0.5),
                    "map_ms_p99": _percentile(r.aider.ms, 0.99),
                    "errors": r.aider.errors,
                }
            else:
                out.write(f"  aider: not measured: {r.aider.why}\n")
                project_json["aider_run"] = {"available": False, "why": r.aider.why}
        summary = project_json
        out.write(
            f"  ratios: quill/baseline {_fmt_ratio(summary['quill_over_baseline'])}, "
            f"quill/aider {_fmt_ratio(summary['quill_over_aider'])}\n"
        )
        report["projects"].append(project_json)
        for system in SYSTEMS:
            overall[system].merge(r.tallies[system])
        quill_ms.extend(r.quill_ms)

    total = _summary(overall, aider_everywhere)
    p50, p99 = _percentile(quill_ms, 0.5), _percentile(quill_ms, 0.99)
    total["quill_ms"] = {"p50": p50, "p99": p99, "n": len(quill_ms)}
    report["overall"] = total
    report["aider"] = {
        "available": aider_everywhere,
        "python": str(aider_python) if aider_python else None,
        "versions": sorted(aider_versions),
    }
    out.write(f"\noverall ({len(measured)} project(s))\n")
    for line in _table(overall, aider_everywhere, "  "):
        out.write(line + "\n")
    out.write(f"  quill assembly p50 {p50:.1f} ms, p99 {p99:.1f} ms\n")
    out.write(
        f"  ratios: quill/baseline {_fmt_ratio(total['quill_over_baseline'])}, "
        f"quill/aider {_fmt_ratio(total['quill_over_aider'])}\n"
    )

    recall = overall["quill"].recall()
    checks: list[tuple[str, float | None, float, bool]] = [
        ("recall overall", recall["overall"], TARGETS["recall_overall"], True),
        ("recall on method calls", recall["method"], TARGETS["recall_method"], True),
        ("quill/aider recall", total["quill_over_aider"], TARGETS["quill_over_aider"], True),
        ("assembly p50 ms", p50, TARGETS["assembly_p50_ms"], False),
    ]
    met: dict[str, bool | None] = {}
    out.write("targets:\n")
    for label, value, target, at_least in checks:
        if value is None:
            met[label] = None
            out.write(
                f"  {label:<24} not measured   target {'>=' if at_least else '<='} {target:g}\n"
            )
            continue
        ok = value >= target if at_least else value <= target
        met[label] = ok
        shown = (
            f"{value * 100:.1f}%"
            if label.startswith("recall")
            else f"{value:.2f}x"
            if "/" in label
            else f"{value:.1f}"
        )
        goal = (
            f"{target * 100:.0f}%"
            if label.startswith("recall")
            else f"{target:g}x"
            if "/" in label
            else f"{target:g}"
        )
        out.write(
            f"  {label:<24} {shown:>8}   target {'>=' if at_least else '<='} {goal}: "
            f"{'ok' if ok else 'MISSED'}\n"
        )
    report["targets_met"] = met
    out.write(json.dumps(report) + "\n")
    out.flush()
    return 0
