"""Keeping the index up to date: the walk of the whole workspace (cold or warm), single files
from disk or from editor buffers, removals, and the statistics of what is indexed.

A cold index of a big tree parses in worker processes (:mod:`quill.index.pool`), started
while the tree is still being walked; a warm one parses only files whose mtime, size or
language changed. Results are written in batches, each in one transaction, so queries keep
being answered meanwhile; from :data:`BULK_FILES` files on, the store writes in bulk mode.

Editor buffers: :meth:`Indexer.update_file` with ``text`` indexes the buffer (keeping its
syntax tree, so the next change is applied incrementally: see :mod:`quill.index.live`) and
marks the path as *overlaid*, so a concurrent or later :meth:`Indexer.index_all` does not
replace the buffer's tags with the file on disk; ``update_file(path)`` without text (on save
or close) re-reads the disk and ends the overlay. An overlaid file is stored with an unknown
mtime, so the next session re-reads it from disk. A keystroke in an already indexed file
updates the graph at once and reaches the database before the next query reads it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from quill.index.languages import language_for_path, language_specs
from quill.index.pool import ParseJob, parse_files, start_pool, worker_count
from quill.index.records import IndexStats, LanguageStats
from quill.index.state import IndexState
from quill.index.walk import IgnoreRules, WalkEntry, walk_workspace
from quill.index.worker import BINARY_SNIFF_BYTES, FileResult, parse_file, parse_source

log = logging.getLogger(__name__)

__all__ = ["BULK_FILES", "Indexer"]

BULK_FILES = 200  # from this many files to parse on, write in bulk mode; start workers early

Progress = Callable[[int, int], None]


class Indexer:
    """Writes to one :class:`~quill.index.state.IndexState`: whole-workspace runs (one at a
    time), single files, removals."""

    def __init__(
        self, state: IndexState, *, max_file_bytes: int, extra_excludes: Sequence[str] = ()
    ) -> None:
        self._state = state
        self._root = state.root
        self._max_file_bytes = max_file_bytes
        self._extra_excludes = tuple(extra_excludes)
        self._rules = IgnoreRules(self._root, self._extra_excludes)
        self._run_lock = threading.Lock()  # one index_all at a time
        self._last = IndexStats()
        self._too_large = 0
        self._early_workers = 0
        self.parse_count = 0  # files parsed (tests and benchmarks read it)

    # ------------------------------------------------------------------ the whole workspace

    def index_all(self, progress: Progress | None = None, workers: int | None = None) -> IndexStats:
        """See :meth:`quill.index.service.WorkspaceIndex.index_all`."""
        with self._run_lock:
            try:
                return self._index_all(progress, workers)
            except sqlite3.DatabaseError:
                log.exception("the index database failed; rebuilding it")
                self._state.reset()
                return self._index_all(progress, workers)

    def _index_all(self, progress: Progress | None, workers: int | None) -> IndexStats:
        started = time.perf_counter()
        # A cold start of a big tree will need worker processes: start them while the tree
        # is still being walked (they spend that time importing).
        pools: list[ProcessPoolExecutor] = []
        cpus = os.cpu_count() or 1
        early = not self._state.files and cpus > 1 and (workers is None or workers > 1)
        seen = [0]

        def on_file(_entry: WalkEntry) -> None:
            seen[0] += 1
            if seen[0] == BULK_FILES and early and not pools:
                self._early_workers = workers if workers is not None else cpus
                pool = start_pool(self._early_workers)
                if pool is not None:
                    pools.append(pool)

        try:
            return self._walk_and_parse(progress, workers, started, on_file, pools)
        finally:
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)

    def _walk_and_parse(
        self,
        progress: Progress | None,
        workers: int | None,
        started: float,
        on_file: Callable[[WalkEntry], None],
        pools: list[ProcessPoolExecutor],
    ) -> IndexStats:
        state = self._state
        # Ignore files may have changed since the last run.
        self._rules = IgnoreRules(self._root, self._extra_excludes)
        walk = walk_workspace(
            self._root, self._rules, max_file_bytes=self._max_file_bytes, on_file=on_file
        )
        pool = pools[0] if pools else None
        with state.reader():
            known = dict(state.files)
            overlay = set(state.overlay)
        walked = set()
        todo: list[ParseJob] = []
        for entry in walk.files:
            walked.add(entry.rel)
            if entry.rel in overlay:
                continue
            row = known.get(entry.rel)
            if (
                row is None
                or row.mtime_ns != entry.mtime_ns
                or row.size != entry.size
                or row.language != entry.language
            ):
                todo.append((entry.rel, entry.language, entry.size))
        gone = [rel for rel in known if rel not in walked and rel not in overlay]
        if gone:
            with state.lock, state.transaction_locked():
                for rel in gone:
                    state.remove_locked(rel)
        total = len(todo)
        done = 0
        used_workers = 0
        bulk = total >= BULK_FILES
        if bulk:
            with state.lock:
                state.start_bulk_locked()
        try:
            if progress is not None:
                progress(0, total)
            if todo:
                n_workers = worker_count(todo, workers)
                used_workers = n_workers
                use_pool = pool if n_workers else None
                if use_pool is not None:
                    used_workers = self._early_workers
                root = str(self._root)
                for results in parse_files(root, todo, self._max_file_bytes, n_workers, use_pool):
                    self.parse_count += len(results)
                    if state.closed:
                        break  # closed meanwhile (shutdown): stop, the pool is cancelled
                    self._store_results(results)
                    done += len(results)
                    if progress is not None:
                        progress(min(done, total), total)
        finally:
            if bulk:
                with state.lock:
                    if not state.closed:
                        state.store.end_bulk()
            if progress is not None and done < total:
                progress(total, total)
        if state.closed:
            return IndexStats(parsed=done, elapsed_s=time.perf_counter() - started)
        self._too_large = len(walk.skipped)
        elapsed = time.perf_counter() - started
        stats = self.stats()
        stats.parsed = total
        stats.unchanged = len(walk.files) - total - len(overlay & walked)
        stats.removed = len(gone)
        stats.elapsed_s = elapsed
        stats.workers = used_workers
        self._last = stats
        log.info(
            "indexed %s: %d files parsed, %d unchanged, %d removed in %.2fs",
            self._root,
            total,
            stats.unchanged,
            len(gone),
            elapsed,
        )
        return stats

    def _store_results(self, results: list[FileResult]) -> None:
        state = self._state
        with state.lock:
            if state.closed:
                return
            try:
                with state.transaction_locked():
                    for result in results:
                        if result.rel in state.overlay:
                            continue  # an editor buffer is newer than what was read from disk
                        state.apply_locked(result)
            except BaseException:
                state.reload_locked()
                raise

    # ------------------------------------------------------------------ single files

    def update_file(self, path: Path, text: str | bytes | None = None) -> None:
        """See :meth:`quill.index.service.WorkspaceIndex.update_file`."""
        state = self._state
        rel = state.rel(path)
        if rel is None:
            log.debug("%s: outside the workspace, not indexed", path)
            return
        language = language_for_path(rel)
        if language is None or self._rules.is_ignored(rel):
            return
        if text is None:
            with state.lock:
                state.overlay.discard(rel)
            state.live.drop(rel)
            result = parse_file(str(self._root), rel, language, self._max_file_bytes)
        else:
            buffered = self._parse_buffer(rel, language, text)
            if buffered is None:
                return
            result = buffered
        self.parse_count += 1
        with state.lock:
            if state.closed:
                return
            row = state.files.get(rel)
            if text is not None and result.status == "ok" and row is not None:
                # Keystrokes: the graph now, the database before the next query reads it.
                state.overlay.add(rel)
                state.pending[rel] = result
                state.update_graph_locked(row.id, result)
                return
            if text is not None:
                state.overlay.add(rel)
            state.pending.pop(rel, None)
            with state.transaction_locked():
                state.apply_locked(result)

    def _parse_buffer(self, rel: str, language: str, text: str | bytes) -> FileResult | None:
        """An editor buffer's parse result (``None``: nothing to do)."""
        live = self._state.live
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if len(data) > self._max_file_bytes:
            live.drop(rel)
            return FileResult(rel, language, -1, len(data), "too large")
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            live.drop(rel)
            return parse_source(rel, language, data, -1, len(data))
        # Keep the buffer's tree so the next keystroke is incremental.
        raw = live.update(rel, language, data)
        if raw is None:
            return None
        return FileResult.from_raw(rel, language, -1, len(data), raw)

    def remove_file(self, path: Path) -> None:
        """See :meth:`quill.index.service.WorkspaceIndex.remove_file`."""
        state = self._state
        rel = state.rel(path)
        if rel is None:
            return
        with state.lock:
            prefix = rel + "/"
            targets = [r for r in state.files if r == rel or r.startswith(prefix)]
            targets.extend(r for r in state.pending if r.startswith(prefix) or r == rel)
            for target in set(targets):
                state.live.drop(target)
                state.overlay.discard(target)
                state.pending.pop(target, None)
            targets = [t for t in set(targets) if t in state.files]
            if not targets:
                return
            with state.transaction_locked():
                for target in targets:
                    state.remove_locked(target)

    # ------------------------------------------------------------------ statistics

    def stats(self) -> IndexStats:
        """Current per-language totals, plus what the last :meth:`index_all` did."""
        state = self._state
        if state.closed:
            return self._last
        with state.reader():
            rows = state.store.language_totals()
            skipped = state.store.skipped_count()
        last = self._last
        stats = IndexStats(
            parsed=last.parsed,
            unchanged=last.unchanged,
            removed=last.removed,
            elapsed_s=last.elapsed_s,
            workers=last.workers,
        )
        specs = language_specs()
        for lang, files, lines, mods, classes, funcs, methods, defs, refs, errors in rows:
            spec = specs.get(lang)
            file_is_module = bool(spec and spec.file_is_module)
            stats.languages[lang] = LanguageStats(
                lang,
                files=files,
                lines=lines or 0,
                modules=(mods or 0) + (files if file_is_module else 0),
                classes=classes or 0,
                functions=funcs or 0,
                methods=methods or 0,
                definitions=defs or 0,
                references=refs or 0,
                parse_errors=errors or 0,
            )
            stats.files += files
            stats.lines += lines or 0
        stats.skipped = skipped + self._too_large
        return stats
