"""Where tests go for Go, Rust and Java (see :mod:`quill.actions.placement`)."""

from __future__ import annotations

import posixpath
import re
import tomllib

from quill.actions.placement import (
    TestFilePlan,
    _ancestors,
    _closest,
    _count,
    _is_under,
    _join,
    _split,
    _Workspace,
)

__all__ = ["plan_compiled"]


def plan_compiled(language: str, ws: _Workspace, source: str) -> TestFilePlan:
    """The plan for a Go, Rust or Java source file."""
    if language == "go":
        return _plan_go(ws, source)
    if language == "rust":
        return _plan_rust(ws, source)
    return _plan_java(ws, source)


def _plan_go(ws: _Workspace, source: str) -> TestFilePlan:
    src_dir, stem, _ = _split(source)
    path = source if stem.endswith("_test") else _join(src_dir, f"{stem}_test.go")
    pkg = _first(r"^package\s+(\w+)", ws.read(source)) or posixpath.basename(src_dir) or "main"
    existing = _first(r"^package\s+(\w+)", ws.read(path)) if path in ws.files else None
    module = pkg
    if existing and existing.endswith("_test") and existing != pkg:
        mod_dir = ws.nearest(src_dir, ("go.mod",)) or ""
        base = _first(r"^module\s+(\S+)", ws.read(_join(mod_dir, "go.mod")))
        rel = posixpath.relpath(src_dir or ".", mod_dir or ".")
        module = (base if rel == "." else f"{base}/{rel}") if base else pkg
    return TestFilePlan(path, False, "go", module, f'package {pkg}\n\nimport "testing"\n')


def _plan_rust(ws: _Workspace, source: str) -> TestFilePlan:
    src_dir, stem, _ = _split(source)
    crate = ws.nearest(src_dir, ("Cargo.toml",)) or ""
    try:
        manifest = tomllib.loads(ws.read(_join(crate, "Cargo.toml")) or "")
    except tomllib.TOMLDecodeError:
        manifest = {}
    names = [t.get("name") for k in ("lib", "package") if isinstance(t := manifest.get(k), dict)]
    name = str(next((n for n in names if n), None) or posixpath.basename(crate) or "crate")
    ident = re.sub(r"\W", "_", name)
    src_root = _join(crate, "src")
    rel = posixpath.relpath(source, src_root).split("/") if _is_under(source, src_root) else []
    integration = (
        rel
        and rel[0] != "bin"
        and _join(src_root, "lib.rs") in ws.files
        and stem != "main"
        and any(f.endswith(".rs") and _is_under(f, _join(crate, "tests")) for f in ws.files)
    )
    if integration:
        mods = [*rel[:-1], *([] if stem in ("lib", "mod") else [stem])]
        test_name = mods[-1] if mods else ident
        path = _join(crate, "tests", f"{test_name}.rs")
        return TestFilePlan(path, path in ws.files, "cargo", "::".join([ident, *mods]), "")
    text = ws.read(source) or ""
    if re.search(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+", text):
        return TestFilePlan(source, True, "cargo", "super", "")
    return TestFilePlan(
        source, True, "cargo", "super", "\n#[cfg(test)]\nmod tests {\n    use super::*;\n", "}\n"
    )


def _plan_java(ws: _Workspace, source: str) -> TestFilePlan:
    src_dir, stem, _ = _split(source)
    tests = [f for f in ws.files if re.search(r"Tests?\.java$", f)]
    suffix = "Tests" if sum(f.endswith("Tests.java") for f in tests) * 2 > len(tests) else "Test"
    name, full = f"{stem}{suffix}.java", f"/{src_dir}/"
    if source.endswith(f"{suffix}.java") or "/src/test/" in f"/{source}":
        path = source
    elif "/src/main/java/" in full:
        path = _join(full.replace("/src/main/java/", "/src/test/java/", 1).strip("/"), name)
    else:
        path = _join(src_dir, name)
    pkg = _first(r"^\s*package\s+([\w.]+)\s*;", ws.read(source))
    texts = [t for t in (ws.read(p) for p in _closest(tests, path)) if t]
    for d in _ancestors(src_dir):
        texts += [
            t
            for b in ("pom.xml", "build.gradle", "build.gradle.kts")
            if (t := ws.read(_join(d, b)))
        ]
    four = _count(r"import org\.junit\.Test;|junit:junit:|<artifactId>junit</artifactId>", texts)
    if four > _count(r"org\.junit\.jupiter|junit-jupiter", texts):
        api = "import org.junit.Test;\n\nimport static org.junit.Assert.*;\n"
    else:
        api = "import org.junit.jupiter.api.Test;\n\n"
        api += "import static org.junit.jupiter.api.Assertions.*;\n"
    header = (f"package {pkg};\n\n" if pkg else "") + api
    return TestFilePlan(path, False, "junit", f"{pkg}.{stem}" if pkg else stem, header)


def _first(pattern: str, text: str | None) -> str | None:
    m = re.search(pattern, text, re.M) if text else None
    return m.group(1) if m else None
