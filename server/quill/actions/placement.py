"""Where a generated test goes, and how it reaches the code under test.

:func:`plan_test_file` is pure: it sees the workspace as a list of workspace-relative paths and
a ``read_text`` callable, and follows the conventions the project already shows (its test
folder, flat or mirrored; tests beside the code; ``test``/``spec`` names; the test framework;
the tests' import style). It never proposes a path outside the workspace, and every name it
proposes is a test file's name (``test_x.py``, ``x.test.ts``, ``__tests__/``, ``x_test.go``,
``XTest.java``, a crate's ``tests/``), or the source itself when that is already a test (or for
Rust's in-file ``mod tests``), so an existing file there is a test: it is reported with
``exists=True`` (append, never overwrite).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from quill.index.languages import language_for_language_id, language_for_path

__all__ = ["Framework", "ReadText", "TestFilePlan", "import_statement", "plan_test_file"]

Framework = Literal[
    "pytest", "unittest", "jest", "vitest", "mocha", "go", "cargo", "junit", "unknown"
]
ReadText = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class TestFilePlan:
    """Where a test goes and what the caller needs to write it."""

    __test__ = False  # not a pytest test class

    path: str
    """Workspace-relative path of the test file (for in-file Rust tests: the source itself)."""
    exists: bool
    """The file exists: append to it, never overwrite it."""
    framework: Framework
    module: str
    """How the test reaches the source: a Python module (``app.geometry.layout``, or relative
    ``.layout`` when the tests import relatively); a JS/TS specifier without extension
    (``../src/util``); the Go package name (the import path for an external ``_test``
    package); the Rust path (``super`` in-file, ``mycrate::geometry`` from ``tests/``); the
    Java class's qualified name."""
    header: str
    """What a new file starts with (empty when the file exists); for in-file Rust tests the
    opening of the ``mod tests`` block to append to the source."""
    footer: str = ""
    """What closes the new content (the ``}`` of an in-file Rust ``mod tests``), else empty."""


_TEST_ROOTS = frozenset({"tests", "test"})
_PY_TEST = re.compile(r"^(?:test_.*|.*_test)\.py$")
_JS_EXTS = frozenset({".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"})
_JS_TEST = re.compile(r"\.(test|spec)\.[cm]?[jt]sx?$")
_READ_LIMIT = 30


@dataclass(frozen=True, slots=True)
class _Workspace:
    files: frozenset[str]
    reader: ReadText

    def read(self, path: str) -> str | None:
        if path not in self.files:
            return None
        try:
            return self.reader(path)
        except (OSError, UnicodeDecodeError, ValueError):
            return None

    def nearest(self, start: str, names: Iterable[str]) -> str | None:
        """The nearest directory from ``start`` upwards that holds one of ``names``."""
        wanted = tuple(names)
        for d in _ancestors(start):
            if any(_join(d, n) in self.files for n in wanted):
                return d
        return None


def plan_test_file(
    source_rel: str, language: str, workspace_files: Sequence[str], *, read_text: ReadText
) -> TestFilePlan:
    """Plan the test file for ``source_rel`` (workspace-relative) in ``language`` (a Quill
    language name or an LSP language id), following the workspace's conventions."""
    source = _norm(source_rel)
    if not source:
        raise ValueError(f"not a workspace-relative file: {source_rel!r}")
    files = frozenset(p for p in map(_norm, workspace_files) if p)
    ws = _Workspace(files | {source}, read_text)
    lang = language_for_language_id(language) or language_for_path(source) or language.lower()
    if lang == "python":
        plan = _plan_python(ws, source)
    elif lang in ("javascript", "typescript", "tsx"):
        plan = _plan_js(ws, source)
    elif lang in ("go", "rust", "java"):
        from quill.actions.placement_compiled import plan_compiled

        if lang == "rust":
            return plan_compiled(lang, ws, source)
        plan = plan_compiled(lang, ws, source)
    else:
        d, stem, ext = _split(source)
        plan = TestFilePlan(_join(d, f"{stem}_test{ext}"), False, "unknown", "", "")
    exists = plan.path in ws.files
    header = "" if exists else plan.header
    return TestFilePlan(plan.path, exists, plan.framework, plan.module, header, plan.footer)


# ---------------------------------------------------------------------------- paths


def _norm(path: str) -> str | None:
    """The normalized workspace-relative path; ``None`` for one outside the workspace."""
    p = posixpath.normpath(path.replace("\\", "/"))
    if p.startswith("/") or p == ".." or p.startswith("../") or re.match(r"^[A-Za-z]:", p):
        return None
    return "" if p == "." else p


def _count(pattern: str, texts: Iterable[str]) -> int:
    return sum(1 for t in texts if re.search(pattern, t, re.M))


def _join(*parts: str) -> str:
    kept = [p for p in parts if p]
    return posixpath.normpath(posixpath.join(*kept)) if kept else ""


def _ancestors(d: str) -> Iterable[str]:
    while d:
        yield d
        d = posixpath.dirname(d)
    yield ""


def _split(path: str) -> tuple[str, str, str]:
    d, base = posixpath.split(path)
    stem, ext = posixpath.splitext(base)
    return d, stem, ext


def _is_under(path: str, d: str) -> bool:
    return not d or path == d or path.startswith(d + "/")


def _test_root(path: str) -> str | None:
    """The outermost ``tests``/``test`` folder on the path, or ``None``."""
    comps = path.split("/")[:-1]
    for i, c in enumerate(comps):
        if c in _TEST_ROOTS:
            return "/".join(comps[: i + 1])
    return None


def _nearest_root(ws: _Workspace, source_dir: str, tests: Iterable[str]) -> str | None:
    """The test folder closest to the source: its parent is an ancestor of the source."""
    counts = Counter(r for r in (_test_root(t) for t in tests) if r)
    for root in {r for f in ws.files if (r := _test_root(f)) and r not in counts}:
        counts[root] = 0  # a test folder without tests yet (conftest.py, fixtures)
    fits = [r for r in counts if _is_under(source_dir, posixpath.dirname(r))]
    if not fits:
        return None
    return max(
        fits,
        key=lambda r: (len(posixpath.dirname(r)), counts[r], r == "tests" or r.endswith("/tests")),
    )


def _mirror_dir(root: str, tests: Iterable[str], known: set[str], own: list[str]) -> str:
    """The folder under ``root`` for the test of a source whose folder parts are ``own``:
    mirrored the way existing tests mirror the ``known`` source folders (with or without
    the top package, under a common prefix such as ``unit/``), or flat in their most common
    folder."""
    dirs = Counter(posixpath.relpath(posixpath.dirname(t), root) for t in tests)
    dirs = Counter({("" if d == "." else d): n for d, n in dirs.items()})
    known = known - {""}
    dropped = {k.partition("/")[2] for k in known if "/" in k}
    votes: Counter[tuple[str, int]] = Counter()
    for d, n in dirs.items():
        comps = d.split("/") if d else []
        for i in range(len(comps)):
            prefix, tail = "/".join(comps[:i]), "/".join(comps[i:])
            for drop, pool in ((0, known), (1, dropped)):
                if tail in pool:
                    votes[(prefix, drop)] += n
    if votes:
        (prefix, drop), _ = max(votes.items(), key=lambda kv: (kv[1], -kv[0][1]))
        return _join(root, prefix, *own[drop:])
    if not dirs:
        return root
    return _join(root, max(dirs.items(), key=lambda kv: (kv[1], -len(kv[0])))[0])


def _closest(paths: Iterable[str], near: str) -> list[str]:
    """Up to ``_READ_LIMIT`` of ``paths``, those sharing the longest prefix with ``near`` first."""
    return sorted(paths, key=lambda p: (-len(posixpath.commonprefix([p, near])), p))[:_READ_LIMIT]


# ---------------------------------------------------------------------------- Python


def _py_module(ws: _Workspace, path: str) -> tuple[str, list[str]]:
    """(import root, module parts): packages with ``__init__.py``, else from ``src/`` or the
    project folder (namespace packages)."""
    d, stem, _ = _split(path)
    parts = [] if stem == "__init__" else [stem]
    top = d
    while top and _join(top, "__init__.py") in ws.files:
        top, name = posixpath.split(top)
        parts.insert(0, name)
    if top != d:
        return top, parts
    comps = d.split("/") if d else []
    if "src" in comps:
        i = len(comps) - 1 - comps[::-1].index("src")
        return "/".join(comps[: i + 1]), comps[i + 1 :] + parts
    project = ws.nearest(d, ("pyproject.toml", "setup.py", "setup.cfg")) or ""
    rel = posixpath.relpath(d or ".", project or ".")
    return project, ([] if rel == "." else rel.split("/")) + parts


def _plan_python(ws: _Workspace, source: str) -> TestFilePlan:
    src_dir, stem, _ = _split(source)
    root, parts = _py_module(ws, source)
    name = parts[-1] if parts else stem
    tests = sorted(f for f in ws.files if _PY_TEST.match(posixpath.basename(f)))
    beside = [t for t in tests if _test_root(t) is None]
    test_root = _nearest_root(ws, src_dir, tests)
    suffix = sum(
        1 for t in tests if t.endswith("_test.py") and not posixpath.basename(t).startswith("test_")
    )
    base = f"{name}_test.py" if suffix * 2 > len(tests) else f"test_{name}.py"
    if source in tests:
        path = source
    elif beside and (test_root is None or len(beside) > len(tests) - len(beside)):
        path = _join(src_dir, base)
    else:
        if test_root is None:
            project = ws.nearest(src_dir, ("pyproject.toml", "setup.py", "setup.cfg"))
            if project is None:
                project = posixpath.dirname(root) if posixpath.basename(root) == "src" else ""
            test_root = _join(project, "tests")
        known: set[str] = set()
        for d in {posixpath.dirname(f) for f in ws.files if f.endswith(".py")}:
            if _test_root(d + "/_") is None:  # a package path per source folder, once
                known.update(_ancestors("/".join(_py_module(ws, _join(d, "_.py"))[1][:-1])))
        under = [t for t in tests if _is_under(t, test_root)]
        path = _join(_mirror_dir(test_root, under, known, parts[:-1]), base)
        same = [t for t in tests if posixpath.basename(t) == base]
        stems = sum(1 for f in ws.files if posixpath.basename(f) == f"{name}.py")
        if path not in ws.files and len(same) == 1 and stems == 1:
            path = same[0]
    texts = [t for t in (ws.read(p) for p in _closest(tests, path)) if t]
    own = ws.read(path)
    framework = _py_framework([own] if own else texts)
    header = "import unittest\n" if framework == "unittest" else "import pytest\n"
    return TestFilePlan(path, False, framework, _py_import(ws, path, root, parts, texts), header)


def _py_framework(texts: list[str]) -> Framework:
    unit = _count(r"^class\s+\w+\(\s*(?:unittest\.)?\w*TestCase\s*\)", texts)
    plain = _count(r"^(?:async\s+)?def test_|^import pytest|^from pytest", texts)
    return "unittest" if unit > plain else "pytest"


def _py_import(ws: _Workspace, path: str, root: str, parts: list[str], texts: list[str]) -> str:
    """The source's module as the tests import it: dotted, relative, or ``src.``-prefixed."""
    relative = _count(r"^from \.+\w*(?:\.\w+)* import ", texts)
    absolute = _count(rf"^(?:from|import) {re.escape(parts[0])}\b", texts) if parts else 0
    src_style = _count(r"^(?:from|import) src\.", texts)
    if relative > absolute:
        t_root, t_parts = _py_module(ws, path)
        t_pkg = t_parts[:-1]
        if t_root == root and t_pkg and parts and t_pkg[0] == parts[0]:
            c = len(posixpath.commonprefix([t_pkg, parts]))
            return "." * (len(t_pkg) - c + 1) + ".".join(parts[c:])
    dotted = ".".join(parts)
    if src_style > absolute and posixpath.basename(root) == "src":
        return f"src.{dotted}"
    return dotted


# ---------------------------------------------------------------------------- JS / TS


def _is_js_test(path: str) -> bool:
    if "node_modules" in path.split("/") or posixpath.splitext(path)[1] not in _JS_EXTS:
        return False
    return bool(_JS_TEST.search(path)) or "/__tests__/" in f"/{path}"


def _plan_js(ws: _Workspace, source: str) -> TestFilePlan:
    src_dir, stem, ext = _split(source)
    stem = stem.removesuffix(".d")
    project = ws.nearest(src_dir, ("package.json",)) or ""
    tests = sorted(f for f in ws.files if _is_js_test(f) and _is_under(f, project))
    kinds = Counter(m.group(1) if (m := _JS_TEST.search(t)) else "" for t in tests)
    kind = max(("test", "spec", ""), key=lambda k: (kinds[k], k == "test", k == "spec"))
    base = f"{stem}.{kind}{ext}" if kind else f"{stem}{ext}"
    styles = Counter(
        "dunder" if "/__tests__/" in f"/{t}" else "dir" if _test_root(t) else "beside"
        for t in tests
    )
    style = max(("beside", "dunder", "dir"), key=lambda s: (styles[s], s == "beside"))
    test_root = _nearest_root(ws, src_dir, tests) if style == "dir" else None
    if source in tests:
        path = source
    elif style == "dunder":
        path = _join(src_dir, "__tests__", base)
    elif test_root is not None:
        top = posixpath.dirname(test_root)
        known: set[str] = set()
        for d in {posixpath.dirname(f) for f in ws.files if posixpath.splitext(f)[1] in _JS_EXTS}:
            if _is_under(d, top) and "/__tests__/" not in f"/{d}/" and _test_root(d + "/_") is None:
                known.update(_ancestors(_strip_src(posixpath.relpath(d or ".", top or "."))))
        own = _strip_src(posixpath.relpath(src_dir, top or ".") if src_dir else "").split("/")
        under = [t for t in tests if _is_under(t, test_root)]
        path = _join(_mirror_dir(test_root, under, known, [c for c in own if c]), base)
    else:
        path = _join(src_dir, base)
    spec = posixpath.relpath(_join(src_dir, stem), posixpath.dirname(path) or ".")
    spec = spec if spec.startswith("../") else f"./{spec}"
    texts = [t for t in (ws.read(p) for p in _closest(tests, path)) if t]
    framework, header = _js_framework(ws, src_dir, texts, ext)
    return TestFilePlan(path, False, framework, spec, header)


def _strip_src(rel: str) -> str:
    rel = "" if rel == "." else rel
    return rel.partition("/")[2] if rel.split("/")[0] == "src" else rel


def _js_framework(
    ws: _Workspace, src_dir: str, texts: list[str], ext: str
) -> tuple[Framework, str]:
    found: list[str] = []
    module_type = ext in (".ts", ".tsx", ".mts", ".mjs")
    chai = False
    for d in _ancestors(src_dir):
        try:
            pkg = json.loads(ws.read(_join(d, "package.json")) or "null")
        except ValueError:
            continue
        if not isinstance(pkg, dict):
            continue
        deps: set[str] = set()
        for key in ("devDependencies", "dependencies", "peerDependencies"):
            if isinstance(pkg.get(key), dict):
                deps |= set(pkg[key])
        scripts = pkg.get("scripts")
        script = str(scripts.get("test", "")) if isinstance(scripts, dict) else ""
        names = [posixpath.basename(f) for f in ws.files if posixpath.dirname(f) == d]
        blob = " ".join([*deps, script, *names])
        found = [fw for fw in ("vitest", "jest", "mocha") if fw in blob or fw in pkg]
        chai = chai or "chai" in deps
        module_type = module_type or pkg.get("type") == "module"
        if found:
            break
    seen = {
        "vitest": _count(r"""from\s+['"]vitest['"]""", texts),
        "jest": _count(r"""['"]@jest/globals['"]|\bjest\.(?:fn|mock|spyOn)\(""", texts),
        "mocha": _count(r"""['"]chai['"]|\bbefore(?:Each)?\(function""", texts),
    }
    pool = found or [fw for fw in ("vitest", "jest", "mocha") if seen[fw]]
    if not pool:
        return "unknown", ""
    framework = cast(Framework, max(pool, key=lambda fw: seen[fw]))
    if framework == "vitest":
        imported = seen["vitest"] or not texts  # tests that never import vitest use its globals
        return framework, "import { describe, expect, it } from 'vitest';\n" if imported else ""
    if framework == "jest":
        globs = any("@jest/globals" in t for t in texts)
        return framework, "import { describe, expect, it } from '@jest/globals';\n" if globs else ""
    what, where = ("{ expect }", "chai") if chai else ("assert", "node:assert")
    if module_type:
        return framework, f"import {what} from '{where}';\n"
    return framework, f"const {what} = require('{where}');\n"


# ---------------------------------------------------------------------------- Go, Rust, Java


def import_statement(plan: TestFilePlan, language: str, names: Sequence[str]) -> str:
    """The line that brings ``names`` from the code under test into a new test file ("" where
    the test shares the source's package or file, as in Go and in-file Rust tests)."""
    wanted = [n for n in names if n]
    if not wanted or not plan.module:
        return ""
    if language == "python":
        return f"from {plan.module} import {', '.join(wanted)}\n"
    if language in ("javascript", "typescript", "tsx"):
        return f"import {{ {', '.join(wanted)} }} from '{plan.module}';\n"
    return ""
