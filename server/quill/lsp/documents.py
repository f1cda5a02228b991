"""The one way from an LSP URI to an open document, a file path and back, and from the
client's position units to Python string columns and back.

pygls' workspace is the only store of open documents; it keys them by the *unquoted* URI, so
every lookup goes through :func:`document_key`. Positions are converted with the position
encoding negotiated at ``initialize`` (UTF-8 for Neovim 0.11 and Helix, UTF-16 for VS Code);
below the front door every column is a Python string index (a code point).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import PositionCodec, TextDocument

if TYPE_CHECKING:
    from pygls.workspace import Workspace


def document_key(uri: str) -> str:
    """The form of ``uri`` that pygls files open documents under (percent-decoded)."""
    return unquote(uri)


def uri_to_path(uri: str) -> Path | None:
    """The absolute, normalized file path of a ``file:`` URI (``None`` for other schemes)."""
    path = to_fs_path(uri)  # decodes percent-escapes itself
    if not path:
        return None
    return Path(os.path.normpath(os.path.abspath(path)))


def path_to_uri(path: str | Path) -> str:
    return from_fs_path(str(path)) or Path(path).as_uri()


def relative_to(root: Path | None, path: Path | None) -> str | None:
    """``path`` relative to ``root`` ("/"-separated), or ``None`` when it lies outside."""
    if root is None or path is None:
        return None
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


@dataclass(frozen=True)
class DocumentSnapshot:
    """An open document as it was at one moment: what a service works on."""

    uri: str  # as the client spelled it (for messages back to it)
    key: str  # the document key (unquoted URI): the document's identity inside Quill
    path: Path | None
    rel: str | None  # workspace-relative path, None outside the workspace
    text: str
    version: int | None
    language_id: str | None

    def display_path(self) -> str | None:
        """The path a prompt names: workspace-relative, else the file name."""
        return display_path(self.rel, self.path)


def display_path(rel: str | None, path: Path | None) -> str | None:
    if rel is not None:
        return rel
    return path.name if path is not None else None


class Documents:
    """Open documents and positions, over pygls' workspace (no copy of any text)."""

    def __init__(self, workspace: Workspace, root: Path | None) -> None:
        self.workspace = workspace
        self.root = root

    @property
    def codec(self) -> PositionCodec:
        return self.workspace.position_codec

    # ----------------------------------------------------------- documents

    def get(self, uri: str) -> TextDocument | None:
        return self.workspace.text_documents.get(document_key(uri))

    def is_open(self, uri: str) -> bool:
        return document_key(uri) in self.workspace.text_documents

    def text(self, uri: str) -> str | None:
        document = self.get(uri)
        return document.source if document is not None else None

    def snapshot(self, uri: str) -> DocumentSnapshot | None:
        document = self.get(uri)
        if document is None:
            return None
        path = uri_to_path(uri)
        return DocumentSnapshot(
            uri=document.uri,
            key=document_key(uri),
            path=path,
            rel=relative_to(self.root, path),
            text=document.source,
            version=document.version,
            language_id=document.language_id,
        )

    def version(self, uri: str) -> int | None:
        document = self.get(uri)
        return document.version if document is not None else None

    def open_workspace_paths(self) -> list[str]:
        """Workspace-relative paths of the open documents inside the workspace."""
        out: list[str] = []
        for key in list(self.workspace.text_documents):
            rel = relative_to(self.root, uri_to_path(key))
            if rel is not None:
                out.append(rel)
        return out

    key = staticmethod(document_key)

    def path(self, uri: str) -> Path | None:
        return uri_to_path(uri)

    def display_path(self, uri: str) -> str | None:
        """Workspace-relative path of ``uri``, else its file name (for prompts)."""
        path = uri_to_path(uri)
        return display_path(relative_to(self.root, path), path)

    def workspace_path(self, uri: str) -> str | None:
        return relative_to(self.root, uri_to_path(uri))

    def uri_of(self, rel: str) -> str:
        """The URI of a workspace-relative path."""
        base = self.root if self.root is not None else Path.cwd()
        return path_to_uri(base / rel)

    def open_document_at(self, path: Path) -> TextDocument | None:
        return self.get(path_to_uri(path))

    # ----------------------------------------------------------- positions

    def column_from_client(self, line_text: str, character: int) -> int:
        """The string index in ``line_text`` of the client's ``character`` (clamped)."""
        line_text = line_text.rstrip("\r\n")
        if character <= 0 or not line_text:
            return 0
        units = self.codec.client_num_units(line_text)
        if character >= units:
            return len(line_text)
        position = self.codec.position_from_client_units(
            [line_text], types.Position(line=0, character=character)
        )
        return min(position.character, len(line_text))

    def column_to_client(self, line_text: str, column: int) -> int:
        """The client's units for string index ``column`` of ``line_text``."""
        column = max(0, min(column, len(line_text)))
        return int(self.codec.client_num_units(line_text[:column]))

    def client_position(self, line_text: str, line: int, column: int) -> types.Position:
        return types.Position(line=line, character=self.column_to_client(line_text, column))

    def byte_column_to_client(self, line_text: str, byte_col: int) -> int:
        """The client's units for a UTF-8 byte offset (the index counts columns in bytes)."""
        if line_text.isascii():
            return self.column_to_client(line_text, byte_col)
        head = line_text.encode("utf-8")[:byte_col].decode("utf-8", "ignore")
        return self.column_to_client(line_text, len(head))
