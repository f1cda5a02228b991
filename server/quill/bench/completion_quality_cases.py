"""The held-out lines of ``quill bench completion --quality`` and how an answer is scored.

A case is one line that starts a statement inside a function body of a project's own code
(tests, docs, examples and build scripts left out), of 3-100 characters, not a comment and not
a bare keyword (``pass``, ``else:``): the line is removed, its indentation kept, and the model
is asked for it with the cursor where its first character was. A line is *cross-file* when it
names something the file imports from the project itself (Python), where the context should
help most. Scoring is CrossCodeEval's: the first line of the answer against the line, both
whitespace-stripped, as exact match and as edit similarity.
"""

from __future__ import annotations

import ast
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from quill.bench.completion_workspace import LANGUAGE_IDS, candidate_lines

__all__ = [
    "QualityCase",
    "edit_similarity",
    "first_line",
    "levenshtein",
    "project_cases",
    "sample_cases",
]

SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "venv",
        "build",
        "dist",
        "site-packages",
        "tests",
        "test",
        "testing",
        "docs",
        "doc",
        "examples",
        "example",
        "benchmarks",
        "scripts",
    }
)
SKIP_FILES = frozenset({"setup.py", "conftest.py", "versioneer.py", "noxfile.py", "fabfile.py"})
FILE_MAX_BYTES = 256 * 1024
#: lines that say nothing about the code around them
TRIVIAL = frozenset(
    {"pass", "continue", "break", "return", "else:", "try:", "finally:", "raise", "yield", "..."}
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class QualityCase:
    project: str  # the project's label (its NAME==VERSION or folder name)
    rel: str  # workspace-relative path, POSIX
    line: int  # 0-based
    column: int  # the indentation's length: where the cursor goes
    target: str  # the line, whitespace-stripped
    cross_file: bool


def levenshtein(a: str, b: str) -> int:
    """The edit distance (insertions, deletions, substitutions, each costing one)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, target: str) -> float:
    """``1 - levenshtein / longer length`` of the two stripped strings, in [0, 1].

    CrossCodeEval's ``fuzz.ratio`` counts a substitution as a deletion plus an insertion
    over the sum of both lengths, which reads somewhat higher on unlike strings."""
    a, b = prediction.strip(), target.strip()
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(a, b) / longest


def first_line(text: str) -> str:
    """The first non-blank line of a suggestion, whitespace-stripped (CrossCodeEval drops
    blank lines before comparing)."""
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def _project_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in LANGUAGE_IDS or name in SKIP_FILES:
                continue
            if name.startswith("test_") or path.stem.endswith("_test"):
                continue
            if path.is_symlink() or not path.is_file() or path.stat().st_size > FILE_MAX_BYTES:
                continue
            out.append(path.relative_to(root))
    return out


def _top_packages(root: Path) -> set[str]:
    """Names a file of the project imports the project itself by (``pkg``, ``src/pkg``)."""
    names: set[str] = set()
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for entry in base.iterdir():
            if entry.is_dir() and (entry / "__init__.py").is_file():
                names.add(entry.name)
            elif entry.suffix == ".py" and entry.name not in SKIP_FILES:
                names.add(entry.stem)
    return names


def _project_imports(tree: ast.AST, packages: set[str]) -> set[str]:
    """Names bound in a Python file by imports from the project itself."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            own = node.level > 0 or (node.module or "").split(".")[0] in packages
            if own:
                bound.update((a.asname or a.name) for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in packages:
                    bound.add(alias.asname or alias.name.split(".")[0])
    return bound


def project_cases(label: str, root: Path) -> list[QualityCase]:
    """Every candidate line of the project under ``root``, in file and line order."""
    packages = _top_packages(root)
    out: list[QualityCase] = []
    for rel in _project_files(root):
        try:
            text = (root / rel).read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue
        suffix = rel.suffix.lower()
        imported: set[str] = set()
        if suffix in (".py", ".pyi"):
            try:
                imported = _project_imports(ast.parse(text), packages)
            except (SyntaxError, ValueError):
                imported = set()
        lines = text.split("\n")
        for number in candidate_lines(text, suffix):
            raw = lines[number]
            target = raw.strip()
            if target in TRIVIAL:
                continue
            column = len(raw) - len(raw.lstrip())
            cross = bool(imported.intersection(_WORD.findall(target)))
            out.append(QualityCase(label, rel.as_posix(), number, column, target, cross))
    return out


def sample_cases(cases: Iterable[QualityCase], count: int, seed: int) -> list[QualityCase]:
    """``count`` cases of one project, half of them cross-file where there are enough,
    deterministic for ``seed``; in file and line order."""
    pool = list(cases)
    if count >= len(pool):
        return pool
    label = pool[0].project if pool else ""
    rng = random.Random(f"{seed}:{label}")
    cross = [c for c in pool if c.cross_file]
    other = [c for c in pool if not c.cross_file]
    take_cross = min(len(cross), count // 2)
    take_other = min(len(other), count - take_cross)
    take_cross = min(len(cross), count - take_other)
    chosen = rng.sample(cross, take_cross) + rng.sample(other, take_other)
    return sorted(chosen, key=lambda c: (c.rel, c.line))
