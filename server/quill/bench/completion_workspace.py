"""The files ``quill bench completion`` types in: a copy of the workspace, the lines to
type again (statements inside function bodies), and the synthetic big file."""

from __future__ import annotations

import ast
import itertools
import os
import random
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BIG_FILE_LINES",
    "LANGUAGE_IDS",
    "Doc",
    "Source",
    "big_file",
    "candidate_lines",
    "copy_workspace",
    "make_doc",
    "sources",
    "u16",
]

BIG_FILE_LINES = 5000
BIG_FILE_NAME = "quill_bench_big"
LINE_CHARS = (3, 100)

COPY_SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "venv",
        "build",
        "dist",
        "target",
        "site-packages",
    }
)
COPY_MAX_FILES = 5000
COPY_MAX_BYTES = 64 * 1024 * 1024
FILE_MAX_BYTES = 512 * 1024

#: file extension -> LSP language id (the server decides the language by path first)
LANGUAGE_IDS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".rb": "ruby",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".swift": "swift",
    ".php": "php",
    ".scala": "scala",
    ".lua": "lua",
}
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", '"""', "'''")


def u16(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


@dataclass
class Doc:
    path: Path
    uri: str
    language_id: str
    lines: list[str]
    candidates: list[int]  # 0-based line numbers where typing may start
    version: int = 1

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Source:
    rel: Path
    text: str
    lines: int
    candidates: list[int]


def candidate_lines(text: str, suffix: str) -> list[int]:
    """0-based lines that start a statement inside a function body (no docstrings)."""
    lines = text.split("\n")
    found: set[int] = set()
    if suffix in (".py", ".pyi"):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        if tree is not None:
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    if node is func or not isinstance(node, ast.stmt):
                        continue
                    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                        continue  # a docstring or a bare constant
                    found.add(node.lineno - 1)
        else:
            found = {i for i, line in enumerate(lines) if line[:1] in (" ", "\t")}
    else:
        found = {i for i, line in enumerate(lines) if line[:1] in (" ", "\t")}
    out: list[int] = []
    for i in sorted(found):
        if i >= len(lines):
            continue
        content = lines[i].strip()
        if not LINE_CHARS[0] <= len(content) <= LINE_CHARS[1]:
            continue
        if content.startswith(_COMMENT_STARTS) or "\t" in content:
            continue
        out.append(i)
    return out


def copy_workspace(src: Path, dst: Path) -> tuple[list[Path], bool]:
    """Copy the files under ``src`` to ``dst`` (skipping VCS, caches, vendored trees)."""
    copied: list[Path] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(
            d for d in dirnames if d not in COPY_SKIP_DIRS and not d.startswith(".")
        )
        for name in sorted(filenames):
            source = Path(dirpath) / name
            if source.is_symlink() or not source.is_file():
                continue
            size = source.stat().st_size
            if size > FILE_MAX_BYTES:
                continue
            if len(copied) >= COPY_MAX_FILES or total + size > COPY_MAX_BYTES:
                return copied, True
            rel = source.relative_to(src)
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(rel)
            total += size
    return copied, False


def sources(root: Path, files: Iterable[Path]) -> list[Source]:
    out: list[Source] = []
    for rel in files:
        if rel.suffix.lower() not in LANGUAGE_IDS or rel.name.startswith(BIG_FILE_NAME):
            continue
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text = text.replace("\r\n", "\n")
        candidates = candidate_lines(text, rel.suffix.lower())
        if candidates:
            out.append(Source(rel, text, text.count("\n") + 1, candidates))
    return out


def make_doc(root: Path, rel: Path, text: str, candidates: list[int]) -> Doc:
    path = root / rel
    return Doc(
        path=path,
        uri=path.as_uri(),
        language_id=LANGUAGE_IDS.get(path.suffix.lower(), "plaintext"),
        lines=text.split("\n"),
        candidates=list(candidates),
    )


def big_file(root: Path, pool: list[Source], suffix: str, rng: random.Random, size: int) -> Doc:
    """A file of ``size`` lines made of real files (the last one cut), written to ``root``."""
    same = [s for s in pool if s.rel.suffix.lower() == suffix] or pool
    order = list(same)
    rng.shuffle(order)
    marker = "//" if suffix not in (".py", ".pyi", ".rb") else "#"
    lines: list[str] = []
    candidates: list[int] = []
    for source in itertools.cycle(order):
        if len(lines) >= size:
            break
        lines.append(f"{marker} ---- {source.rel.as_posix()} ----")
        offset = len(lines)
        body = source.text.split("\n")
        if body and body[-1] == "":
            body.pop()
        lines.extend(body)
        candidates.extend(offset + c for c in source.candidates if c < len(body))
    lines = lines[:size]
    candidates = [c for c in candidates if c < size]
    rel = Path(BIG_FILE_NAME + suffix)
    text = "\n".join(lines) + "\n"
    (root / rel).write_text(text, encoding="utf-8")
    return make_doc(root, rel, text, candidates)
