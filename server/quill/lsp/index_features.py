"""The workspace index behind the editor: indexing with progress, file watching, and
workspace symbols, document symbols, go-to-definition and references.

The index counts columns in UTF-8 bytes; the editor counts in its negotiated position encoding.
Positions are converted with the line's text, read from the open document or from disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from quill.index.languages import watched_files_glob
from quill.index.records import Definition, Reference, SymbolNode
from quill.index.service import WorkspaceIndex
from quill.lsp.documents import Documents, relative_to

if TYPE_CHECKING:
    from quill.lsp.server import QuillLanguageServer

log = logging.getLogger(__name__)

SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface,
    "module": types.SymbolKind.Module,
    "constant": types.SymbolKind.Constant,
    "variable": types.SymbolKind.Variable,
}
#: editor buffers are re-indexed this long after the last keystroke
UPDATE_DELAY_S = 0.15


class LineReader:
    """Lines of workspace files, from open documents first, read from disk at most once."""

    def __init__(self, documents: Documents, root: Path) -> None:
        self.documents = documents
        self.root = root
        self._cache: dict[str, list[str]] = {}

    def line(self, rel: str, line: int) -> str:
        lines = self._cache.get(rel)
        if lines is None:
            path = self.root / rel
            document = self.documents.open_document_at(path)
            if document is not None:
                lines = [ln.rstrip("\r\n") for ln in document.lines]
            else:
                try:
                    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    lines = []
            self._cache[rel] = lines
        return lines[line] if 0 <= line < len(lines) else ""

    def position(self, rel: str, line: int, byte_col: int) -> types.Position:
        text = self.line(rel, line)
        return types.Position(
            line=line, character=self.documents.byte_column_to_client(text, byte_col)
        )

    def range(self, rel: str, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        return types.Range(start=self.position(rel, *start), end=self.position(rel, *end))

    def uri(self, rel: str) -> str:
        return self.documents.uri_of(rel)


def word_at(text: str, column: int) -> str | None:
    """The identifier under string index ``column`` of the line ``text``."""
    index = max(0, min(column, len(text)))
    start = index
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = index
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    word = text[start:end]
    return word if word and not word[0].isdigit() else None


def rank_definitions(
    defs: list[Definition], here: str | None, imported_modules: set[str]
) -> list[Definition]:
    """Same file first, then files the current file imports, then the rest."""

    def tier(d: Definition) -> tuple[int, str, int]:
        if d.path == here:
            return (0, d.path, d.start_line)
        stem = d.path.rsplit(".", 1)[0].replace("/", ".")
        if any(stem.endswith(m) or m.endswith(stem.rsplit(".", 1)[-1]) for m in imported_modules):
            return (1, d.path, d.start_line)
        return (2, d.path, d.start_line)

    return sorted(defs, key=tier)


def _module_names(imports: list[Any]) -> set[str]:
    out: set[str] = set()
    for record in imports:
        module = getattr(record, "module", None)
        if module:
            cleaned = module.strip("\"'<>").lstrip("./").replace("/", ".").replace("::", ".")
            if cleaned:
                out.add(cleaned)
    return out


@dataclass(frozen=True)
class IndexHooks:
    """What the server's lifecycle handlers call into the index features."""

    #: index the workspace with progress, then watch its files
    start_indexing: Callable[[QuillLanguageServer], Coroutine[Any, Any, None]]
    #: re-index an editor buffer once typing pauses (uri, delay in seconds)
    schedule_update: Callable[[QuillLanguageServer, str, float], None]


def register_index_features(server: QuillLanguageServer) -> IndexHooks:
    pending_updates: dict[str, asyncio.TimerHandle] = {}

    def index_of(ls: QuillLanguageServer) -> WorkspaceIndex | None:
        return ls.app.index

    async def run_indexing(ls: QuillLanguageServer) -> None:
        caps = ls.client_capabilities
        token: str | None = None
        if caps.window is not None and caps.window.work_done_progress:
            token = f"quill-index-{uuid.uuid4().hex[:8]}"
            try:
                await ls.work_done_progress.create_async(token)
                ls.work_done_progress.begin(
                    token,
                    types.WorkDoneProgressBegin(
                        title="Quill: indexing", percentage=0, cancellable=False
                    ),
                )
            except Exception:
                log.warning("the editor refused a progress token", exc_info=True)
                token = None
        loop = asyncio.get_running_loop()
        last = [0.0]

        def progress(done: int, total: int) -> None:  # called on the indexing thread
            now = time.monotonic()
            if token is None or (now - last[0] < 0.2 and done < total):
                return
            last[0] = now
            pct = int(done * 100 / total) if total else 100
            message = f"{done}/{total} files"
            loop.call_soon_threadsafe(
                ls.work_done_progress.report,
                token,
                types.WorkDoneProgressReport(message=message, percentage=pct),
            )

        message = "index unavailable"
        try:
            stats = await ls.app.start_index(progress)
            if stats is not None:
                message = f"{stats.files} files indexed in {stats.elapsed_s:.1f}s"
                await register_watcher(ls)
        except Exception:
            log.exception("indexing failed")
            message = "indexing failed; see the log"
        finally:
            if token is not None:
                ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))

    async def register_watcher(ls: QuillLanguageServer) -> None:
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=watched_files_glob())]
        )
        try:
            await ls.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id=f"quill-watch-{uuid.uuid4().hex[:8]}",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=options,
                        )
                    ]
                )
            )
        except Exception:
            log.warning("the editor refused the file watcher", exc_info=True)

    def schedule_update(ls: QuillLanguageServer, uri: str, delay: float = UPDATE_DELAY_S) -> None:
        """Re-index an editor buffer once typing pauses (the latest text is read then)."""
        if index_of(ls) is None:
            return
        key = ls.documents.key(uri)
        handle = pending_updates.pop(key, None)
        if handle is not None:
            handle.cancel()

        def fire() -> None:
            pending_updates.pop(key, None)
            documents = ls.documents
            path = documents.path(uri)
            if path is None:
                return
            text = documents.text(uri)
            ls.app.tasks.spawn(ls.app.index_update(path, text), "index-update")

        pending_updates[key] = asyncio.get_running_loop().call_later(delay, fire)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(
        ls: QuillLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        documents = ls.documents
        for change in params.changes:
            path = documents.path(change.uri)
            if path is None or documents.is_open(change.uri):
                continue  # open documents are indexed from the editor's buffer
            if change.type == types.FileChangeType.Deleted:
                await ls.app.index_remove(path)
            else:
                await ls.app.index_update(path)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: QuillLanguageServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        index = index_of(ls)
        if index is None:
            return []
        defs = await ls.app.index_call(index.search_symbols, params.query, 100)
        lines = LineReader(ls.documents, index.root)
        return [
            types.WorkspaceSymbol(
                name=d.name,
                kind=SYMBOL_KINDS.get(d.kind, types.SymbolKind.Variable),
                container_name=d.scope or d.path,
                location=types.Location(
                    uri=lines.uri(d.path),
                    range=lines.range(d.path, (d.start_line, d.start_col), (d.end_line, d.end_col)),
                ),
            )
            for d in defs
        ]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(
        ls: QuillLanguageServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        index = index_of(ls)
        path = ls.documents.path(params.text_document.uri)
        if index is None or path is None:
            return []
        rel = relative_to(index.root, path)
        if rel is None:
            return []
        nodes = await ls.app.index_call(index.document_symbols, path)
        lines = LineReader(ls.documents, index.root)

        def convert(node: SymbolNode) -> types.DocumentSymbol:
            r, s = node.range, node.selection_range
            return types.DocumentSymbol(
                name=node.name,
                kind=SYMBOL_KINDS.get(node.kind, types.SymbolKind.Variable),
                detail=node.detail,
                range=lines.range(rel, (r[0], r[1]), (r[2], r[3])),
                selection_range=lines.range(rel, (s[0], s[1]), (s[2], s[3])),
                children=[convert(c) for c in node.children],
            )

        return [convert(n) for n in nodes]

    async def symbol_at(
        ls: QuillLanguageServer, uri: str, position: types.Position
    ) -> tuple[WorkspaceIndex, str, str | None] | None:
        index = index_of(ls)
        documents = ls.documents
        document = documents.get(uri)
        if index is None or document is None:
            return None
        lines = document.lines
        if not 0 <= position.line < len(lines):
            return None
        line_text = lines[position.line].rstrip("\r\n")
        name = word_at(line_text, documents.column_from_client(line_text, position.character))
        if name is None:
            return None
        return index, name, relative_to(index.root, documents.path(uri))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: QuillLanguageServer, params: types.DefinitionParams
    ) -> list[types.Location]:
        found = await symbol_at(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        index, name, here = found
        defs: list[Definition] = await ls.app.index_call(index.definitions, name)
        imports = await ls.app.index_call(index.imports, index.root / here) if here else []
        ranked = rank_definitions(defs, here, _module_names(imports))
        lines = LineReader(ls.documents, index.root)
        return [
            types.Location(
                uri=lines.uri(d.path),
                range=lines.range(d.path, (d.start_line, d.start_col), (d.end_line, d.end_col)),
            )
            for d in ranked[:50]
        ]

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(
        ls: QuillLanguageServer, params: types.ReferenceParams
    ) -> list[types.Location]:
        found = await symbol_at(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        index, name, here = found
        refs: list[Reference] = await ls.app.index_call(index.references, name)
        lines = LineReader(ls.documents, index.root)
        spots = [(r.path, r.start_line, r.start_col, r.end_line, r.end_col) for r in refs]
        if params.context.include_declaration:
            defs: list[Definition] = await ls.app.index_call(index.definitions, name)
            spots += [(d.path, d.start_line, d.start_col, d.end_line, d.end_col) for d in defs]
        spots.sort(key=lambda s: (s[0] != here, s[0], s[1], s[2]))
        return [
            types.Location(uri=lines.uri(p), range=lines.range(p, (sl, sc), (el, ec)))
            for p, sl, sc, el, ec in spots[:500]
        ]

    return IndexHooks(run_indexing, schedule_update)
