"""The only way the gateway reads a file: a workspace-relative path, confined to the workspace.

Absolute paths, ``..`` that climbs out, symbolic links that point outside, files that hold
secrets (``.env``, keys) and files over a size limit are refused with :class:`PathRefused`.
An open editor buffer (when the gateway shares the app with ``quill lsp``) wins over the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from quill.app import Quill
from quill.safety.secrets import is_secret_file

MAX_FILE_BYTES = 1 << 20


class PathRefused(ValueError):
    """A path that the gateway will not read; ``str()`` says why, for the client."""

    def __init__(self, message: str, code: str = "forbidden_path") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WorkspaceFile:
    rel_path: str  # workspace-relative, "/"-separated
    text: str


def confine(root: Path | None, rel_path: str) -> tuple[str, Path]:
    """``rel_path`` as a normalised relative path and a resolved path inside ``root``."""
    if root is None:
        raise PathRefused("no workspace is open, so no file can be read", "no_workspace")
    if not isinstance(rel_path, str) or not rel_path.strip() or "\x00" in rel_path:
        raise PathRefused("the path must be a non-empty workspace-relative path")
    cleaned = rel_path.strip().replace("\\", "/")
    pure = PurePosixPath(cleaned)
    if pure.is_absolute() or (pure.parts and pure.parts[0].endswith(":")):
        raise PathRefused(f"{rel_path}: only paths relative to the workspace are allowed")
    if ".." in pure.parts:
        raise PathRefused(f"{rel_path}: `..` may not leave the workspace")
    base = root.resolve()
    target = (base / Path(*pure.parts)).resolve()
    if not target.is_relative_to(base):
        raise PathRefused(f"{rel_path} points outside the workspace")
    return target.relative_to(base).as_posix(), target


def read_workspace_file(
    app: Quill, rel_path: str, max_bytes: int = MAX_FILE_BYTES
) -> WorkspaceFile:
    """The text of a workspace file (the editor's buffer when it is open)."""
    rel, path = confine(app.workspace, rel_path)
    if is_secret_file(rel):
        raise PathRefused(f"{rel} holds secrets; it is never read", "secret_file")
    buffers = app.buffers
    if buffers is not None:
        text = buffers.workspace_text(rel)
        if text is not None:
            return WorkspaceFile(rel, text)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PathRefused(f"{rel}: {exc.strerror or 'cannot read'}", "not_found") from exc
    if not path.is_file():
        raise PathRefused(f"{rel} is not a file", "not_found")
    if size > max_bytes:
        raise PathRefused(f"{rel} is larger than {max_bytes} bytes", "too_large")
    try:
        return WorkspaceFile(rel, path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise PathRefused(f"{rel}: {exc.strerror or 'cannot read'}", "not_found") from exc


def workspace_rel(app: Quill, rel_path: str | None) -> str | None:
    """A client-given path as a confined relative path, or None (no path, or refused)."""
    if not rel_path:
        return None
    try:
        return confine(app.workspace, rel_path)[0]
    except PathRefused:
        return None


def display_name(path: str) -> str:
    """The last part of a client-given path: a name for prompts that reads nothing."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "untitled"
