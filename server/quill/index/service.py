"""The workspace index: walk, parse in parallel, store in SQLite, answer symbol queries and
render ranked repo maps.

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

import logging
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from quill.index.graph import MAX_DEFINERS, RankedDefinition, RefGraph, top_definitions
from quill.index.languages import builtin_names, language_for_path
from quill.index.live import LiveDocuments
from quill.index.records import (
    Definition,
    IndexStats,
    LanguageStats,
    Reference,
    RepoMap,
    SymbolNode,
)
from quill.index.repomap import Candidate, fit_to_budget
from quill.index.search import rank_names
from quill.index.store import FileRow, IndexStore, database_path
from quill.index.tags import REF_FIELDS, REF_KINDS_BY_CODE, ImportRecord, Tag, unpack_refs
from quill.index.walk import IgnoreRules, WalkEntry, walk_workspace
from quill.index.worker import (
    BINARY_SNIFF_BYTES,
    FileResult,
    init_worker,
    parse_batch,
    parse_file,
    parse_source,
    worker_ready,
)

log = logging.getLogger(__name__)

__all__ = ["WorkspaceIndex"]

# Below these, parsing in the calling thread beats starting worker processes.
INPROCESS_MAX_FILES = 40
INPROCESS_MAX_BYTES = 1_000_000
BULK_FILES = 200  # from this many files to parse on, write in bulk mode
BATCH_BYTES = 256_000
BATCH_FILES = 48
COMMIT_INTERVAL_S = 0.5


class WorkspaceIndex:
    """Definitions and references of every supported file under ``root``."""

    def __init__(
        self,
        root: Path,
        cache_dir: Path | None = None,
        *,
        max_file_bytes: int = 1_000_000,
        extra_excludes: Sequence[str] = (),
    ) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        cache = (
            Path(cache_dir) if cache_dir is not None else Path(platformdirs.user_cache_dir("quill"))
        )
        self.db_path = database_path(self.root, cache)
        self._lock = threading.RLock()
        self._index_lock = threading.Lock()
        self._store = IndexStore(self.db_path)
        self._extra_excludes = tuple(extra_excludes)
        self._rules = IgnoreRules(self.root, self._extra_excludes)
        self._files: dict[str, FileRow] = self._store.load_files()
        self._paths: dict[int, str] = {row.id: rel for rel, row in self._files.items()}
        # Graph: built as files are indexed when starting from empty, else loaded lazily.
        self._graph: RefGraph | None = RefGraph() if not self._files else None
        self._overlay: set[str] = set()
        self._live = LiveDocuments()
        self._pending: dict[str, FileResult] = {}  # editor-buffer results not yet written
        self._def_names: list[str] | None = None
        self._last = IndexStats()
        self._too_large = 0
        self.parse_count = 0  # files parsed by this object (tests and benchmarks read it)
        self._early_workers = 0
        self._closed = False

    # ------------------------------------------------------------------ paths

    def _rel(self, path: Path | str) -> str | None:
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
        with self._index_lock:
            try:
                return self._index_all(progress, workers)
            except sqlite3.DatabaseError:
                log.exception("the index database failed; rebuilding it")
                self._reset_store()
                return self._index_all(progress, workers)

    def _reset_store(self) -> None:
        with self._lock:
            self._store.close()
            for suffix in ("", "-wal", "-shm"):
                try:
                    self.db_path.with_name(self.db_path.name + suffix).unlink()
                except OSError:
                    pass
            self._store = IndexStore(self.db_path)
            self._files = self._store.load_files()
            self._paths = {row.id: rel for rel, row in self._files.items()}
            self._graph = RefGraph()
            self._def_names = None

    def _index_all(
        self, progress: Callable[[int, int], None] | None, workers: int | None
    ) -> IndexStats:
        started = time.perf_counter()
        # A cold start of a big tree will need worker processes: start them while the tree
        # is still being walked (they spend that time importing).
        pools: list[ProcessPoolExecutor] = []
        cpus = os.cpu_count() or 1
        early = not self._files and cpus > 1 and (workers is None or workers > 1)
        seen = [0]

        def on_file(_entry: WalkEntry) -> None:
            seen[0] += 1
            if seen[0] == BULK_FILES and early and not pools:
                self._early_workers = workers if workers is not None else cpus
                pool = _start_pool(self._early_workers)
                if pool is not None:
                    pools.append(pool)

        try:
            return self._index_all_with(progress, workers, started, on_file, pools)
        finally:
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)

    def _index_all_with(
        self,
        progress: Callable[[int, int], None] | None,
        workers: int | None,
        started: float,
        on_file: Callable[[WalkEntry], None],
        pools: list[ProcessPoolExecutor],
    ) -> IndexStats:
        # Ignore files may have changed since the last run.
        self._rules = IgnoreRules(self.root, self._extra_excludes)
        walk = walk_workspace(
            self.root, self._rules, max_file_bytes=self.max_file_bytes, on_file=on_file
        )
        pool = pools[0] if pools else None
        with self._reader():
            known = dict(self._files)
            overlay = set(self._overlay)
        walked = set()
        todo: list[tuple[str, str, int]] = []  # (rel, language, size)
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
            with self._lock:
                self._store.begin()
                try:
                    for rel in gone:
                        self._remove_locked(rel)
                    self._store.commit()
                except BaseException:
                    self._store.rollback()
                    raise
        total = len(todo)
        done = 0
        used_workers = 0
        bulk = total >= BULK_FILES
        if bulk:
            with self._lock:
                self._store.start_bulk(empty=not self._files)
                # Rebuilt from the database on first use instead of file by file.
                self._graph = None
        try:
            if progress is not None:
                progress(0, total)
            if todo:
                n_workers = self._worker_count(todo, workers)
                used_workers = n_workers
                use_pool = pool if n_workers else None
                if use_pool is not None:
                    used_workers = self._early_workers
                for results in self._parse(todo, n_workers, use_pool):
                    if self._closed:
                        break  # closed meanwhile (shutdown): stop, the pool is cancelled
                    self._store_results(results)
                    done += len(results)
                    if progress is not None:
                        progress(min(done, total), total)
        finally:
            if bulk:
                with self._lock:
                    if not self._closed:
                        self._store.end_bulk()
            if progress is not None and done < total:
                progress(total, total)
        if self._closed:
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
            self.root,
            total,
            stats.unchanged,
            len(gone),
            elapsed,
        )
        return stats

    @staticmethod
    def _worker_count(todo: list[tuple[str, str, int]], workers: int | None) -> int:
        if workers is not None and workers <= 1:
            return 0
        if workers is None:
            if len(todo) <= INPROCESS_MAX_FILES or sum(t[2] for t in todo) <= INPROCESS_MAX_BYTES:
                return 0
            workers = os.cpu_count() or 1
            if workers <= 1:
                return 0
        return min(workers, max(1, len(todo)))

    def _parse(
        self,
        todo: list[tuple[str, str, int]],
        workers: int,
        pool: ProcessPoolExecutor | None = None,
    ) -> Iterable[list[FileResult]]:
        root = str(self.root)
        if workers == 0:
            batch: list[FileResult] = []
            last = time.perf_counter()
            for rel, language, _size in todo:
                batch.append(parse_file(root, rel, language, self.max_file_bytes))
                self.parse_count += 1
                now = time.perf_counter()
                if len(batch) >= BATCH_FILES or now - last > COMMIT_INTERVAL_S:
                    yield batch
                    batch = []
                    last = now
            if batch:
                yield batch
            return
        batches = _make_batches(todo)
        pending: dict[int, list[tuple[str, str]]] = dict(enumerate(batches))
        own_pool = pool is None
        try:
            if pool is None:
                pool = _start_pool(workers)
            if pool is not None:
                futures: dict[Future[list[FileResult]], int] = {
                    pool.submit(parse_batch, root, b, self.max_file_bytes): i
                    for i, b in pending.items()
                }
                for future in as_completed(futures):
                    try:
                        results = future.result()
                    except (BrokenProcessPool, OSError, RuntimeError, EOFError) as exc:
                        log.error("an indexing worker failed (%s); parsing its files here", exc)
                        continue
                    del pending[futures[future]]
                    self.parse_count += len(results)
                    yield results
        except (OSError, RuntimeError, BrokenProcessPool) as exc:
            # Could not start processes at all (sandbox, resource limits): do it here.
            log.error("cannot use worker processes (%s); indexing in this process", exc)
        finally:
            if own_pool and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for b in pending.values():
            results = []
            for rel, language in b:
                results.append(parse_file(root, rel, language, self.max_file_bytes))
                self.parse_count += 1
            yield results

    def _store_results(self, results: list[FileResult]) -> None:
        with self._lock:
            if self._closed:
                return
            self._store.begin()
            try:
                for result in results:
                    if result.rel in self._overlay:
                        continue  # an editor buffer is newer than what was read from disk
                    self._apply_locked(result)
                self._store.commit()
            except BaseException:
                self._store.rollback()
                # The in-memory view may now be ahead of the database; reload it.
                self._files = self._store.load_files()
                self._paths = {row.id: rel for rel, row in self._files.items()}
                self._graph = None
                raise

    def _apply_locked(self, result: FileResult) -> None:
        if result.status in ("gone", "too large"):
            self._remove_locked(result.rel)
            return
        row = self._files.get(result.rel)
        fid = self._store.write_result(result, row.id if row else None)
        self._files[result.rel] = FileRow(
            fid,
            result.rel,
            result.language,
            result.mtime_ns,
            result.size,
            None if result.status == "ok" else result.status,
        )
        self._paths[fid] = result.rel
        self._def_names = None
        self._graph_update_locked(fid, result)

    def _graph_update_locked(self, fid: int, result: FileResult) -> None:
        if self._graph is not None:
            defs = Counter(_intern(d[0]) for d in result.defs)
            refs = _ref_counts(result.ref_names, result.ref_data)
            self._graph.set_file(fid, defs, refs, builtin_names(result.language))

    def _flush_locked(self) -> None:
        """Write buffered editor-buffer results to the database (before any read)."""
        if not self._pending or self._closed:
            return
        pending = list(self._pending.values())
        self._pending.clear()
        self._store.begin()
        try:
            for result in pending:
                self._apply_locked(result)
            self._store.commit()
        except BaseException:
            self._store.rollback()
            raise

    @contextmanager
    def _reader(self) -> Iterator[None]:
        """The lock, with buffered writes flushed: every query reads through this."""
        with self._lock:
            self._flush_locked()
            yield

    def _remove_locked(self, rel: str) -> None:
        row = self._files.pop(rel, None)
        if row is None:
            return
        self._store.remove(row.id)
        self._paths.pop(row.id, None)
        self._def_names = None
        if self._graph is not None:
            self._graph.remove_file(row.id)

    def update_file(self, path: Path, text: str | bytes | None = None) -> None:
        """Re-index one file: from ``text`` (an open editor buffer) or, when ``text`` is
        ``None``, from disk; a file missing from disk is removed from the index."""
        rel = self._rel(path)
        if rel is None:
            log.debug("%s: outside the workspace, not indexed", path)
            return
        language = language_for_path(rel)
        if language is None or self._rules.is_ignored(rel):
            return
        if text is None:
            with self._lock:
                self._overlay.discard(rel)
            self._live.drop(rel)
            result = parse_file(str(self.root), rel, language, self.max_file_bytes)
        else:
            data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
            raw = None
            if len(data) > self.max_file_bytes:
                self._live.drop(rel)
                result = FileResult(rel, language, -1, len(data), "too large")
            elif b"\0" in data[:BINARY_SNIFF_BYTES]:
                self._live.drop(rel)
                result = parse_source(rel, language, data, -1, len(data))
            else:
                # An editor buffer: keep its tree so the next keystroke is incremental.
                raw = self._live.update(rel, language, data)
                if raw is None:
                    return
                result = FileResult(
                    rel,
                    language,
                    -1,
                    len(data),
                    "ok",
                    raw.lines,
                    raw.has_error,
                    raw.defs,
                    raw.ref_names,
                    raw.ref_data,
                    raw.imports,
                )
        self.parse_count += 1
        with self._lock:
            if self._closed:
                return
            row = self._files.get(rel)
            if text is not None and result.status == "ok" and row is not None:
                # Keystrokes: the graph now, the database before the next query reads it.
                self._overlay.add(rel)
                self._pending[rel] = result
                self._graph_update_locked(row.id, result)
                return
            if text is not None:
                self._overlay.add(rel)
            self._pending.pop(rel, None)
            self._store.begin()
            try:
                self._apply_locked(result)
                self._store.commit()
            except BaseException:
                self._store.rollback()
                raise

    def remove_file(self, path: Path) -> None:
        """Forget one file (deleted, or now ignored), or every file under a folder."""
        rel = self._rel(path)
        if rel is None:
            return
        with self._lock:
            prefix = rel + "/"
            targets = [r for r in self._files if r == rel or r.startswith(prefix)]
            targets.extend(r for r in self._pending if r.startswith(prefix) or r == rel)
            for target in set(targets):
                self._live.drop(target)
                self._overlay.discard(target)
                self._pending.pop(target, None)
            targets = [t for t in set(targets) if t in self._files]
            if not targets:
                return
            self._store.begin()
            try:
                for target in targets:
                    self._remove_locked(target)
                self._store.commit()
            except BaseException:
                self._store.rollback()
                raise

    # ------------------------------------------------------------------ statistics

    def stats(self) -> IndexStats:
        """Current per-language totals, plus what the last :meth:`index_all` did."""
        if self._closed:
            return self._last
        with self._reader():
            rows = self._store.language_totals()
            skipped = self._store.skipped_count()
        stats = IndexStats(
            parsed=self._last.parsed,
            unchanged=self._last.unchanged,
            removed=self._last.removed,
            elapsed_s=self._last.elapsed_s,
            workers=self._last.workers,
        )
        for lang, files, lines, mods, classes, funcs, methods, defs, refs, errors in rows:
            spec_module = _file_is_module(lang)
            stats.languages[lang] = LanguageStats(
                lang,
                files=files,
                lines=lines or 0,
                modules=(mods or 0) + (files if spec_module else 0),
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

    # ------------------------------------------------------------------ symbol queries

    def _definition(self, row: Sequence) -> Definition:
        path, language, name, kind, line, col, end_line, end_col, scope, sig, *ext = row
        return Definition(
            path,
            name,
            kind,
            line,
            col,
            end_line,
            end_col,
            scope,
            sig,
            (ext[0], ext[1], ext[2], ext[3]),
            language,
        )

    def definitions(self, name: str) -> list[Definition]:
        """Every definition named ``name`` (exact, case-sensitive), by path and position."""
        with self._reader():
            rows = self._store.defs_by_name(name)
        return [self._definition(r) for r in rows]

    def definitions_in_file(self, path: Path) -> list[Definition]:
        """The definitions of one file in document order (empty if it is not indexed)."""
        rel = self._rel(path)
        with self._reader():
            row = self._files.get(rel) if rel else None
            if row is None:
                return []
            rows = self._store.defs_of_file(row.id)
        return [self._definition((row.path, row.language, *r)) for r in rows]

    def members_of(self, class_name: str, path: Path | None = None) -> list[Definition]:
        """Definitions directly inside a class (or interface, module...) called ``class_name``
        (a simple or dotted qualified name), optionally only in one file."""
        fid: int | None = None
        if path is not None:
            rel = self._rel(path)
            row = self._files.get(rel) if rel else None
            if row is None:
                return []
            fid = row.id
        with self._reader():
            rows = self._store.defs_in_scope(class_name, fid)
        return [self._definition(r) for r in rows]

    def imports(self, path: Path) -> list[ImportRecord]:
        """The import records of one file, in document order."""
        rel = self._rel(path)
        with self._reader():
            row = self._files.get(rel) if rel else None
            if row is None:
                return []
            rows = self._store.imports_of_file(row.id)
        return [ImportRecord(m, n, a, line) for m, n, a, line in rows]

    def document_symbols(self, path: Path) -> list[SymbolNode]:
        """The file's definitions as a tree: members under their class, nested functions under
        their function (by the definitions' scopes)."""
        defs = self.definitions_in_file(path)
        roots: list[SymbolNode] = []
        by_qual: dict[str, SymbolNode] = {}
        deferred: list[tuple[str, SymbolNode]] = []
        for d in defs:
            node = SymbolNode(
                d.name,
                d.kind,
                d.signature,
                d.extent,
                (d.start_line, d.start_col, d.end_line, d.end_col),
            )
            if d.scope:
                parent = by_qual.get(d.scope)
                if parent is not None:
                    parent.children.append(node)
                else:
                    deferred.append((d.scope, node))
            else:
                roots.append(node)
            by_qual[d.qualified_name] = node
        for scope, node in deferred:
            parent = by_qual.get(scope)
            if parent is not None and parent is not node:
                parent.children.append(node)
            else:
                roots.append(node)
        _sort_symbols(roots)
        return roots

    def _names(self) -> list[str]:
        with self._reader():
            if self._def_names is None:
                self._def_names = [name for name, _count in self._store.all_def_names()]
            return self._def_names

    def search_symbols(self, query: str, limit: int = 100) -> list[Definition]:
        """Definitions whose names match ``query`` fuzzily, best first (see
        :mod:`quill.index.search`): exact, prefix, substring, word starts, subsequence; then
        shorter names, then path."""
        if limit <= 0:
            return []
        names = self._names()
        ranked = rank_names(query, names, limit)
        tiers = {name: tier for tier, name in ranked}
        with self._reader():
            rows = self._store.defs_matching(tiers)
        defs = [self._definition(r) for r in rows]
        defs.sort(key=lambda d: (tiers[d.name], len(d.name), d.name, d.path, d.start_line))
        return defs[:limit]

    def _graph_locked(self) -> RefGraph:
        if self._graph is None:
            started = time.perf_counter()
            graph = RefGraph()
            defs: dict[int, Counter[str]] = {}
            for fid, name in self._store.iter_def_names():
                counter = defs.get(fid)
                if counter is None:
                    counter = defs[fid] = Counter()
                counter[_intern(name)] += 1
            refs: dict[int, dict[str, int]] = {}
            for fid, names, data in self._store.iter_refs():
                refs[fid] = _ref_counts(names.split("\n"), data)
            languages = {row.id: row.language for row in self._files.values()}
            for fid in set(defs) | set(refs):
                ignore = builtin_names(languages.get(fid, ""))
                graph.set_file(fid, defs.get(fid, {}), refs.get(fid, {}), ignore)
            self._graph = graph
            log.debug("reference graph loaded in %.3fs", time.perf_counter() - started)
        return self._graph

    def load_graph(self) -> None:
        """Load the reference graph now (it is otherwise loaded on first use)."""
        with self._reader():
            self._graph_locked().ensure_edges()

    def references(self, name: str) -> list[Reference]:
        """Every reference (call, type use, import) to ``name``, by path and position."""
        with self._reader():
            graph = self._graph_locked()
            fids = list(graph.referencers.get(name, {}))
            blobs = [(self._paths.get(fid), self._store.refs_of_file(fid)) for fid in fids]
        out: list[Reference] = []
        for path, blob in blobs:
            if path is None or blob is None:
                continue
            names = blob[0].split("\n")
            try:
                target = names.index(name)
            except ValueError:
                continue
            data = array("i")
            data.frombytes(blob[1])
            for i in range(0, len(data), REF_FIELDS):
                if data[i] != target:
                    continue
                si = data[i + 6]
                out.append(
                    Reference(
                        path,
                        name,
                        REF_KINDS_BY_CODE[data[i + 1]],
                        data[i + 2],
                        data[i + 3],
                        data[i + 4],
                        data[i + 5],
                        names[si] if si >= 0 else None,
                    )
                )
        out.sort(key=lambda r: (r.path, r.start_line, r.start_col))
        return out

    def file_tags(self, path: Path) -> list[Tag]:
        """All stored tags of one file (definitions and references), in document order."""
        rel = self._rel(path)
        with self._reader():
            row = self._files.get(rel) if rel else None
            if row is None:
                return []
            def_rows = self._store.defs_of_file(row.id)
            blob = self._store.refs_of_file(row.id)
        tags = [
            Tag(d[0], d[1], True, d[2], d[3], d[4], d[5], d[6], d[7], (d[8], d[9], d[10], d[11]))
            for d in def_rows
        ]
        if blob is not None:
            tags.extend(
                Tag(r[0], r[1], False, r[2], r[3], r[4], r[5], r[6])
                for r in unpack_refs(blob[0].split("\n"), blob[1])
            )
        tags.sort(key=lambda t: (t.start_line, t.start_col, not t.is_definition))
        return tags

    def indexed_files(self) -> list[str]:
        """Workspace-relative paths of all indexed files (skipped ones left out)."""
        with self._reader():
            return sorted(rel for rel, row in self._files.items() if row.skipped is None)

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
        of the map (the caller shows those files anyway). See :mod:`quill.index.graph` and
        :mod:`quill.index.repomap`.
        """
        with self._reader():
            graph = self._graph_locked()
            focus_ids = self._ids(focus_files)
            pers: dict[int, float] = {}
            for fid in focus_ids:
                pers[fid] = pers.get(fid, 0.0) + 1.0
            for fid in self._ids(open_files):
                pers[fid] = pers.get(fid, 0.0) + 0.3
            for i, fid in enumerate(self._ids(recent_files)):
                pers[fid] = pers.get(fid, 0.0) + 0.5 / (1 + i)
            mentioned = [m for m in dict.fromkeys(mentioned_idents) if m]
            if mentioned:
                wanted = set(mentioned)
                for ident in mentioned:
                    definers = graph.definers.get(ident, {})
                    if 0 < len(definers) <= MAX_DEFINERS:
                        for fid in definers:
                            pers[fid] = pers.get(fid, 0.0) + 0.5 / len(definers)
                for fid, rel in self._paths.items():
                    stem = rel.rsplit("/", 1)[-1].split(".", 1)[0]
                    if stem in wanted:
                        pers[fid] = pers.get(fid, 0.0) + 0.3
            ranks = graph.pagerank(pers, mentioned)
            scores = graph.definition_scores(
                ranks, mentioned, exclude_files=focus_ids, focus_files=focus_ids
            )
        # Galloping on how many ranked definitions to fetch: the fit's binary search needs
        # only a few more than end up in the map.
        want = min(len(scores), max(32, budget_tokens // 8))
        rows: dict[tuple[int, str], list[tuple]] = {}
        while True:
            top = top_definitions(scores, want)
            with self._reader():
                candidates = self._candidates_locked(top, rows)
            result = fit_to_budget(candidates, budget_tokens, count_tokens)
            if len(result.items) < len(candidates) or want >= len(scores):
                return result
            want = min(len(scores), want * 4)

    def _candidates_locked(
        self, ranked: Sequence[RankedDefinition], cache: dict[tuple[int, str], list[tuple]]
    ) -> list[Candidate]:
        def rows_for(fid: int, name: str) -> list[tuple]:
            key = (fid, name)
            found = cache.get(key)
            if found is None:
                found = cache[key] = self._store.defs_named_in_file(fid, name)
            return found

        out: list[Candidate] = []
        for item in ranked:
            path = self._paths.get(item.file_id)
            matching = rows_for(item.file_id, item.name) if path is not None else []
            if not matching:
                continue
            share = item.rank / len(matching)
            for r in matching:
                name, kind, line, col, _el, _ec, scope, signature = r[:8]
                ancestors = []
                if scope:
                    parts = scope.split(".")
                    for depth, part in enumerate(parts):
                        parent_scope = ".".join(parts[:depth]) or None
                        anc = next(
                            (a for a in rows_for(item.file_id, part) if a[6] == parent_scope),
                            None,
                        )
                        if anc is not None:
                            ancestors.append((anc[2], anc[3], depth, anc[7] or anc[0]))
                depth = scope.count(".") + 1 if scope else 0
                out.append(
                    Candidate(
                        path or "",
                        name,
                        kind,
                        signature or name,
                        line,
                        col,
                        depth,
                        share,
                        tuple(ancestors),
                    )
                )
        out.sort(key=lambda c: (-c.rank, c.path, c.line))
        return out

    def _ids(self, paths: Sequence[Path]) -> list[int]:
        out = []
        for p in paths:
            rel = self._rel(p)
            row = self._files.get(rel) if rel else None
            if row is not None and row.id not in out:
                out.append(row.id)
        return out

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._flush_locked()
            self._closed = True
            self._live.clear()
            self._store.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- helpers

_intern = sys.intern


def _ref_counts(names: list[str], data: bytes) -> dict[str, int]:
    if not data:
        return {}
    arr = array("i")
    arr.frombytes(data)
    counts = Counter(arr[0::REF_FIELDS])
    return {_intern(names[i]): n for i, n in counts.items()}


def _file_is_module(language: str) -> bool:
    from quill.index.languages import language_specs

    spec = language_specs().get(language)
    return bool(spec and spec.file_is_module)


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Worker processes (spawned: safe with threads), already importing the parser code."""
    try:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker)
        for _ in range(workers):
            pool.submit(worker_ready)
    except (OSError, RuntimeError, BrokenProcessPool) as exc:
        log.error("cannot start indexing worker processes (%s); indexing in this process", exc)
        return None
    return pool


def _make_batches(todo: list[tuple[str, str, int]]) -> list[list[tuple[str, str]]]:
    """Work units for the pool, biggest first so the last ones to finish are small."""
    ordered = sorted(todo, key=lambda t: -t[2])
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for rel, language, nbytes in ordered:
        if current and (size + nbytes > BATCH_BYTES or len(current) >= BATCH_FILES):
            batches.append(current)
            current, size = [], 0
        current.append((rel, language))
        size += nbytes
    if current:
        batches.append(current)
    return batches


def _sort_symbols(nodes: list[SymbolNode]) -> None:
    nodes.sort(key=lambda n: (n.range[0], n.range[1]))
    for n in nodes:
        if n.children:
            _sort_symbols(n.children)
