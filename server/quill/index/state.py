"""What the parts of the workspace index share: the database, its in-memory mirror and the
one lock that guards both.

:class:`IndexState` holds the SQLite store, the indexed files (by workspace-relative path
and by id), the reference graph (built as files are indexed when starting from empty, else
loaded from the database on first use), the list of definition names for fuzzy search, and
the editor-buffer bookkeeping: the *overlaid* paths (an editor buffer is newer than the
disk), buffer results not yet written, and the buffers' syntax trees
(:class:`~quill.index.live.LiveDocuments`).

Locking: every read goes through :meth:`IndexState.reader` (the lock, with buffered
editor-buffer results written first); every method whose name ends in ``_locked`` expects
the caller to hold :attr:`IndexState.lock`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from quill.index.graph import RefGraph
from quill.index.languages import builtin_names
from quill.index.live import LiveDocuments
from quill.index.store import FileRow, IndexStore
from quill.index.tags import REF_FIELDS
from quill.index.worker import FileResult

log = logging.getLogger(__name__)

__all__ = ["IndexState", "ref_counts"]

_intern = sys.intern


class IndexState:
    """The store, its in-memory mirror and the lock of one workspace index."""

    def __init__(self, root: Path, db_path: Path, live: LiveDocuments) -> None:
        self.root = root
        self.db_path = db_path
        self.live = live  # the editor buffers' syntax trees
        self.lock = threading.RLock()
        self.store = IndexStore(db_path)
        self.files: dict[str, FileRow] = {}
        self.paths: dict[int, str] = {}
        self._load_files_locked()
        self.graph: RefGraph | None = RefGraph() if not self.files else None
        self.overlay: set[str] = set()  # paths whose editor buffer is newer than the disk
        self.pending: dict[str, FileResult] = {}  # editor-buffer results not yet written
        self.closed = False
        self._def_names: list[str] | None = None

    # ------------------------------------------------------------------ paths

    def rel(self, path: Path | str) -> str | None:
        """Workspace-relative "/" path, or ``None`` for paths outside the workspace."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        try:
            rel = Path(os.path.normpath(p)).relative_to(self.root)
        except ValueError:
            try:
                rel = p.resolve().relative_to(self.root)
            except (ValueError, OSError):
                return None
        text = rel.as_posix()
        return None if text in ("", ".") or text.startswith("../") else text

    def row_locked(self, path: Path) -> FileRow | None:
        """The indexed file at ``path``, if any."""
        rel = self.rel(path)
        return self.files.get(rel) if rel else None

    def ids_locked(self, paths: Sequence[Path]) -> list[int]:
        """The file ids of the indexed ones among ``paths``, in order, without repeats."""
        out: list[int] = []
        for p in paths:
            row = self.row_locked(p)
            if row is not None and row.id not in out:
                out.append(row.id)
        return out

    # ------------------------------------------------------------------ reading

    @contextmanager
    def reader(self) -> Iterator[None]:
        """The lock, with buffered writes flushed: every query reads through this."""
        with self.lock:
            self.flush_locked()
            yield

    def graph_locked(self) -> RefGraph:
        """The reference graph, loaded from the database when it is not in memory."""
        if self.graph is None:
            started = time.perf_counter()
            graph = RefGraph()
            defs: dict[int, Counter[str]] = {}
            for fid, name in self.store.iter_def_names():
                counter = defs.get(fid)
                if counter is None:
                    counter = defs[fid] = Counter()
                counter[_intern(name)] += 1
            refs: dict[int, dict[str, int]] = {}
            for fid, names, data in self.store.iter_refs():
                refs[fid] = ref_counts(names.split("\n"), data)
            languages = {row.id: row.language for row in self.files.values()}
            for fid in set(defs) | set(refs):
                ignore = builtin_names(languages.get(fid, ""))
                graph.set_file(fid, defs.get(fid, {}), refs.get(fid, {}), ignore)
            self.graph = graph
            log.debug("reference graph loaded in %.3fs", time.perf_counter() - started)
        return self.graph

    def def_names(self) -> list[str]:
        """Every distinct definition name (the haystack of fuzzy symbol search)."""
        with self.reader():
            if self._def_names is None:
                self._def_names = [name for name, _count in self.store.all_def_names()]
            return self._def_names

    # ------------------------------------------------------------------ writing

    @contextmanager
    def transaction_locked(self) -> Iterator[None]:
        """One database transaction: committed when the block ends, rolled back if it raises."""
        self.store.begin()
        try:
            yield
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise

    def apply_locked(self, result: FileResult) -> None:
        """Store one parse result (or forget the file, when it is gone or too large)."""
        if result.status in ("gone", "too large"):
            self.remove_locked(result.rel)
            return
        row = self.files.get(result.rel)
        fid = self.store.write_result(result, row.id if row else None)
        self.files[result.rel] = FileRow(
            fid,
            result.rel,
            result.language,
            result.mtime_ns,
            result.size,
            None if result.status == "ok" else result.status,
        )
        self.paths[fid] = result.rel
        self._def_names = None
        self.update_graph_locked(fid, result)

    def update_graph_locked(self, fid: int, result: FileResult) -> None:
        """Bring the in-memory graph (when loaded) up to date with one parse result."""
        if self.graph is not None:
            defs = Counter(_intern(d[0]) for d in result.defs)
            refs = ref_counts(result.ref_names, result.ref_data)
            self.graph.set_file(fid, defs, refs, builtin_names(result.language))

    def remove_locked(self, rel: str) -> None:
        """Forget one indexed file (nothing when it is not indexed)."""
        row = self.files.pop(rel, None)
        if row is None:
            return
        self.store.remove(row.id)
        self.paths.pop(row.id, None)
        self._def_names = None
        if self.graph is not None:
            self.graph.remove_file(row.id)

    def flush_locked(self) -> None:
        """Write buffered editor-buffer results to the database (before any read)."""
        if not self.pending or self.closed:
            return
        pending = list(self.pending.values())
        self.pending.clear()
        with self.transaction_locked():
            for result in pending:
                self.apply_locked(result)

    def start_bulk_locked(self) -> None:
        """Bulk-write mode for a large batch of files; the graph is then rebuilt from the
        database on first use instead of file by file."""
        self.store.start_bulk(empty=not self.files)
        self.graph = None

    def reload_locked(self) -> None:
        """Re-read the file table after a failed write (the in-memory view may be ahead of the
        database); the graph is reloaded on first use."""
        self._load_files_locked()
        self.graph = None

    def reset(self) -> None:
        """Delete the database and start over with an empty one (it was found corrupt)."""
        with self.lock:
            self.store.close()
            for suffix in ("", "-wal", "-shm"):
                try:
                    self.db_path.with_name(self.db_path.name + suffix).unlink()
                except OSError:
                    pass
            self.store = IndexStore(self.db_path)
            self._load_files_locked()
            self.graph = RefGraph()

    def close(self) -> None:
        """Write what is buffered and close the database; later calls do nothing."""
        with self.lock:
            if self.closed:
                return
            self.flush_locked()
            self.closed = True
            self.live.clear()
            self.store.close()

    def _load_files_locked(self) -> None:
        self.files = self.store.load_files()
        self.paths = {row.id: rel for rel, row in self.files.items()}
        self._def_names = None


def ref_counts(names: list[str], data: bytes) -> dict[str, int]:
    """How often a file references each name, from its packed references."""
    if not data:
        return {}
    arr = array("i")
    arr.frombytes(data)
    counts = Counter(arr[0::REF_FIELDS])
    return {_intern(names[i]): n for i, n in counts.items()}
