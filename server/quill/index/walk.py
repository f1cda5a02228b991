"""Which files of a workspace are indexed.

Rules, in order:

* built-in excludes: version control folders, dependency and virtualenv folders, caches and
  build outputs (:data:`BUILTIN_EXCLUDED_DIRS`), minified bundles (:data:`BUILTIN_EXCLUDED_FILES`);
* ``.gitignore`` files inside the workspace, nested ones included, and ``.git/info/exclude``
  when the workspace is a repository's root: git semantics (a deeper file overrides a
  shallower one, ``!`` re-includes). Ignore files in folders *above* the workspace are not
  read (like VS Code's search, whose ``search.useParentIgnoreFiles`` is off by default): a
  workspace opened inside another repository's ignored folder is still indexed;
* ``.quillignore`` files, same syntax, read after ``.gitignore`` in the same folder (so they can
  override it), and ``extra_excludes`` patterns (relative to the workspace root);
* only files whose extension belongs to a supported language;
* files larger than ``max_file_bytes`` are reported as skipped, not read.

Symbolic links are never followed: a link pointing inside the workspace would only index its
target twice (the target is walked under its own path), and one pointing outside must not be
followed at all. Link loops therefore cannot trap the walk.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from quill.index.languages import language_for_path

log = logging.getLogger(__name__)

__all__ = [
    "BUILTIN_EXCLUDED_DIRS",
    "BUILTIN_EXCLUDED_FILES",
    "IgnoreRules",
    "WalkEntry",
    "WalkResult",
    "walk_workspace",
]

BUILTIN_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "env",
        ".env",
        "virtualenv",
        "site-packages",
        "dist-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".eggs",
        ".hypothesis",
        "build",
        "dist",
        "target",
        "out",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".parcel-cache",
        ".turbo",
        ".gradle",
        ".idea",
        ".vscode-test",
        ".cache",
        ".quill-cache",
        ".bench-venvs",
        ".terraform",
        "coverage",
        "htmlcov",
    }
)
BUILTIN_EXCLUDED_FILES = ("*.min.js", "*.min.mjs", "*-min.js", "*.bundle.js", "*.egg-info/")

IGNORE_FILES = (".gitignore", ".quillignore")


@dataclass(frozen=True, slots=True)
class WalkEntry:
    """One file to index."""

    rel: str  # workspace-relative, "/"-separated
    language: str
    mtime_ns: int
    size: int


@dataclass(slots=True)
class WalkResult:
    files: list[WalkEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rel, reason)


@dataclass(frozen=True, slots=True)
class _Spec:
    """One ignore file; ``base`` is its folder relative to the workspace root ("" = root)."""

    base: str
    spec: GitIgnoreSpec

    def check(self, rel: str, is_dir: bool) -> bool | None:
        if self.base:
            if not rel.startswith(self.base + "/"):
                return None
            path = rel[len(self.base) + 1 :]
        else:
            path = rel
        if is_dir:
            path += "/"
        if _HAS_CHECK_FILE:
            return self.spec.check_file(path).include
        # pathspec < 0.12: no per-file verdict, so a `!` re-include cannot override a parent.
        return True if self.spec.match_file(path) else None


_HAS_CHECK_FILE = hasattr(GitIgnoreSpec, "check_file")


class IgnoreRules:
    """Ignore decisions for workspace-relative paths, loading ignore files lazily."""

    def __init__(self, root: Path, extra_excludes: Sequence[str] = ()) -> None:
        self.root = root
        self._dir_specs: dict[str, tuple[_Spec, ...]] = {}
        builtin = GitIgnoreSpec.from_lines(BUILTIN_EXCLUDED_FILES)
        self._base: list[_Spec] = [_Spec("", builtin)]
        self._base.extend(self._git_exclude())
        if extra_excludes:
            self._base.append(_Spec("", GitIgnoreSpec.from_lines(list(extra_excludes))))

    def _git_exclude(self) -> list[_Spec]:
        spec = _load_spec(self.root / ".git" / "info" / "exclude")
        return [_Spec("", spec)] if spec is not None else []

    def specs_for(self, rel_dir: str) -> tuple[_Spec, ...]:
        """All specs that apply inside ``rel_dir`` (shallowest first)."""
        cached = self._dir_specs.get(rel_dir)
        if cached is not None:
            return cached
        if rel_dir:
            parent = rel_dir.rsplit("/", 1)[0] if "/" in rel_dir else ""
            inherited = self.specs_for(parent)
        else:
            inherited = tuple(self._base)
        own = []
        folder = self.root / rel_dir if rel_dir else self.root
        for name in IGNORE_FILES:
            spec = _load_spec(folder / name)
            if spec is not None:
                own.append(_Spec(rel_dir, spec))
        result = inherited + tuple(own) if own else inherited
        self._dir_specs[rel_dir] = result
        return result

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Whether a workspace-relative path is excluded (its folders are checked too)."""
        parts = rel.split("/")
        for i in range(len(parts) - 1):
            if self._excluded(parts[i], "/".join(parts[: i + 1]), True):
                return True
        return self._excluded(parts[-1], rel, is_dir)

    def _excluded(self, name: str, rel: str, is_dir: bool) -> bool:
        if is_dir and name in BUILTIN_EXCLUDED_DIRS:
            return True
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        return self.check(self.specs_for(parent), rel, is_dir)

    @staticmethod
    def check(specs: tuple[_Spec, ...], rel: str, is_dir: bool) -> bool:
        for spec in reversed(specs):
            decision = spec.check(rel, is_dir)
            if decision is not None:
                return decision
        return False


def _load_spec(path: Path) -> GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    try:
        return GitIgnoreSpec.from_lines(text.splitlines())
    except (ValueError, TypeError) as exc:
        log.warning("%s: unusable ignore file, ignored: %s", path, exc)
        return None


def walk_workspace(
    root: Path,
    rules: IgnoreRules,
    *,
    max_file_bytes: int = 1_000_000,
    on_file: Callable[[WalkEntry], None] | None = None,
) -> WalkResult:
    """Every indexable file under ``root``, with its stat; never raises on file system races.
    ``on_file`` is called with each file as it is found."""
    result = WalkResult()
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, rel_dir = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_entry_name)
        except OSError as exc:
            log.debug("cannot list %s: %s", folder, exc)
            continue
        specs = rules.specs_for(rel_dir)
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                if entry.is_symlink():
                    log.debug("%s: symbolic link, not followed", rel)
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if name in BUILTIN_EXCLUDED_DIRS or rules.check(specs, rel, True):
                    continue
                subdirs.append((entry.path, rel))
                continue
            language = language_for_path(name)
            if language is None or rules.check(specs, rel, False):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # deleted while walking
            if not stat.S_ISREG(st.st_mode):
                continue
            if st.st_size > max_file_bytes:
                log.info(
                    "%s: %d bytes, over the %d-byte cap, not indexed",
                    rel,
                    st.st_size,
                    max_file_bytes,
                )
                result.skipped.append((rel, "too large"))
                continue
            found = WalkEntry(rel, language, st.st_mtime_ns, st.st_size)
            result.files.append(found)
            if on_file is not None:
                on_file(found)
        stack.extend(reversed(subdirs))
    return result


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name
