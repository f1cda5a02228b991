"""The workspace index: walk, parse in parallel, store in SQLite, answer symbol queries and
render ranked repo maps.

:class:`WorkspaceIndex` is the one entry point; it wires together and delegates to

* :mod:`quill.index.state` — the database, its in-memory mirror and the lock they share;
* :mod:`quill.index.indexer` — the workspace walk (cold or warm), single files from disk or
  editor buffers, removals, statistics (parsing many files: :mod:`quill.index.pool`);
* :mod:`quill.index.queries` — definitions, members, imports, document symbols, symbol
  search, references, a file's tags;
* :mod:`quill.index.ranking` — what goes into a repo map.

Threading: every public method may be called from any thread. Database and in-memory state
are guarded by one lock held only for short stretches (one batch of results, one query), so
queries keep being answered while a cold index runs; only one :meth:`WorkspaceIndex.index_all`
runs at a time.

Editor buffers: :meth:`WorkspaceIndex.update_file` with ``text`` indexes the buffer (keeping
its syntax tree, so the next change is applied incrementally: see :mod:`quill.index.live`)
and marks the path as *overlaid*, so a concurrent or later :meth:`index_all` does not replace the
buffer's tags with the file on disk; ``update_file(path)`` without text (on save or close)
re-reads the disk and ends the overlay. An overlaid file is stored with an unknown mtime, so
the next session re-reads it from disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs

from quill.index.indexer import Indexer
from quill.index.live import LiveDocuments
from quill.index.queries import SymbolQueries
from quill.index.ranking import RepoMapRanker
from quill.index.records import Definition, IndexStats, Reference, RepoMap, SymbolNode
from quill.index.state import IndexState
from quill.index.store import database_path
from quill.index.tags import ImportRecord, Tag
from quill.index.trees import TreeCache

__all__ = ["WorkspaceIndex"]


class WorkspaceIndex:
    """Definitions and references of every supported file under ``root``."""

    def __init__(
        self,
        root: Path,
        cache_dir: Path | None = None,
        *,
        max_file_bytes: int = 1_000_000,
        extra_excludes: Sequence[str] = (),
        trees: TreeCache | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        cache = (
            Path(cache_dir) if cache_dir is not None else Path(platformdirs.user_cache_dir("quill"))
        )
        self.db_path = database_path(self.root, cache)
        #: the one incremental tree cache of editor buffers, keyed by workspace-relative path:
        #: live re-tagging, scope inference and the completion gate share it
        self.trees = trees if trees is not None else TreeCache()
        self._live = LiveDocuments(trees=self.trees)
        self._state = IndexState(self.root, self.db_path, self._live)
        self._indexer = Indexer(
            self._state, max_file_bytes=max_file_bytes, extra_excludes=extra_excludes
        )
        self._queries = SymbolQueries(self._state)
        self._ranker = RepoMapRanker(self._state)

    @property
    def parse_count(self) -> int:
        """Files parsed by this object (tests and benchmarks read it)."""
        return self._indexer.parse_count

    # ------------------------------------------------------------------ indexing

    def index_all(
        self,
        progress: Callable[[int, int], None] | None = None,
        workers: int | None = None,
    ) -> IndexStats:
        """Bring the index up to date with the disk: parse new and changed files (by mtime and
        size), drop deleted ones. Uses worker processes (``workers``, default: all cores) when
        there is enough to do. ``progress(done, total)`` is called as files complete, and a
        last time with ``done == total`` even when something failed."""
        return self._indexer.index_all(progress, workers)

    def update_file(self, path: Path, text: str | bytes | None = None) -> None:
        """Re-index one file: from ``text`` (an open editor buffer) or, when ``text`` is
        ``None``, from disk; a file missing from disk is removed from the index."""
        self._indexer.update_file(path, text)

    def remove_file(self, path: Path) -> None:
        """Forget one file (deleted, or now ignored), or every file under a folder."""
        self._indexer.remove_file(path)

    def stats(self) -> IndexStats:
        """Current per-language totals, plus what the last :meth:`index_all` did."""
        return self._indexer.stats()

    # ------------------------------------------------------------------ symbol queries

    def definitions(self, name: str) -> list[Definition]:
        """Every definition named ``name`` (exact, case-sensitive), by path and position."""
        return self._queries.definitions(name)

    def definitions_in_file(self, path: Path) -> list[Definition]:
        """The definitions of one file in document order (empty if it is not indexed)."""
        return self._queries.definitions_in_file(path)

    def members_of(self, class_name: str, path: Path | None = None) -> list[Definition]:
        """Definitions directly inside a class (or interface, module...) called ``class_name``
        (a simple or dotted qualified name), optionally only in one file."""
        return self._queries.members_of(class_name, path)

    def imports(self, path: Path) -> list[ImportRecord]:
        """The import records of one file, in document order."""
        return self._queries.imports(path)

    def document_symbols(self, path: Path) -> list[SymbolNode]:
        """The file's definitions as a tree: members under their class, nested functions under
        their function (by the definitions' scopes)."""
        return self._queries.document_symbols(path)

    def search_symbols(self, query: str, limit: int = 100) -> list[Definition]:
        """Definitions whose names match ``query`` fuzzily, best first (see
        :mod:`quill.index.search`): exact, prefix, substring, word starts, subsequence; then
        shorter names, then path."""
        return self._queries.search_symbols(query, limit)

    def load_graph(self) -> None:
        """Load the reference graph now (it is otherwise loaded on first use)."""
        with self._state.reader():
            self._state.graph_locked().ensure_edges()

    def references(self, name: str) -> list[Reference]:
        """Every reference (call, type use, import) to ``name``, by path and position."""
        return self._queries.references(name)

    def file_tags(self, path: Path) -> list[Tag]:
        """All stored tags of one file (definitions and references), in document order."""
        return self._queries.file_tags(path)

    def indexed_files(self) -> list[str]:
        """Workspace-relative paths of all indexed files (skipped ones left out)."""
        return self._queries.indexed_files()

    # ------------------------------------------------------------------ repo map

    def repo_map(
        self,
        *,
        budget_tokens: int,
        focus_files: Sequence[Path] = (),
        open_files: Sequence[Path] = (),
        recent_files: Sequence[Path] = (),
        mentioned_idents: Sequence[str] = (),
        count_tokens: Callable[[str], int] | None = None,
    ) -> RepoMap:
        """The best-ranked definitions for the given context, rendered within the budget.

        Personalization of the PageRank: focus files 1.0 each, open files 0.3, recently
        edited files 0.5 / (1 + position), files defining a mentioned identifier 0.5 shared
        among them, files named after one 0.3. The focus files' own definitions are left out
        of the map (the caller shows those files anyway). See :mod:`quill.index.ranking`,
        :mod:`quill.index.graph` and :mod:`quill.index.repomap`.
        """
        return self._ranker.repo_map(
            budget_tokens=budget_tokens,
            focus_files=focus_files,
            open_files=open_files,
            recent_files=recent_files,
            mentioned_idents=mentioned_idents,
            count_tokens=count_tokens,
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Write what is buffered and close the database; later calls do nothing."""
        self._state.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
