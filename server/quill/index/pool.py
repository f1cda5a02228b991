"""Parsing many files at once: in the calling thread, or in a pool of worker processes.

What a worker process runs is in :mod:`quill.index.worker`; this module is the side of the
main process: whether workers are worth starting (:func:`worker_count`), starting them
(:func:`start_pool`), cutting the work into batches (:func:`make_batches`) and collecting the
results (:func:`parse_files`). When worker processes cannot be started or one of them fails,
its files are parsed in the calling process instead, so every file gets a result.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from quill.index.worker import FileResult, init_worker, parse_batch, parse_file, worker_ready

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_BYTES",
    "BATCH_FILES",
    "ParseJob",
    "make_batches",
    "parse_files",
    "start_pool",
    "worker_count",
]

#: one file to parse: (workspace-relative path, language, size in bytes)
ParseJob = tuple[str, str, int]

# Below these, parsing in the calling thread beats starting worker processes.
INPROCESS_MAX_FILES = 40
INPROCESS_MAX_BYTES = 1_000_000
BATCH_BYTES = 256_000
BATCH_FILES = 48
COMMIT_INTERVAL_S = 0.5  # in the calling thread, hand results on at least this often


def worker_count(todo: list[ParseJob], workers: int | None) -> int:
    """How many worker processes to parse ``todo`` with (0: in the calling thread).
    ``workers`` is what the caller asked for; ``None`` decides by the amount of work."""
    if workers is not None and workers <= 1:
        return 0
    if workers is None:
        if len(todo) <= INPROCESS_MAX_FILES or sum(t[2] for t in todo) <= INPROCESS_MAX_BYTES:
            return 0
        workers = os.cpu_count() or 1
        if workers <= 1:
            return 0
    return min(workers, max(1, len(todo)))


def start_pool(workers: int) -> ProcessPoolExecutor | None:
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


def make_batches(todo: list[ParseJob]) -> list[list[tuple[str, str]]]:
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


def parse_files(
    root: str,
    todo: list[ParseJob],
    max_file_bytes: int,
    workers: int,
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[list[FileResult]]:
    """Parse every file of ``todo``, yielding the results batch by batch as they complete.

    ``workers == 0`` parses in the calling thread. Otherwise the batches go to ``pool``
    (started early by the caller, which shuts it down) or to a pool of ``workers`` processes
    started and shut down here."""
    if workers == 0:
        yield from _parse_here(root, todo, max_file_bytes)
        return
    pending: dict[int, list[tuple[str, str]]] = dict(enumerate(make_batches(todo)))
    own_pool = pool is None
    try:
        if pool is None:
            pool = start_pool(workers)
        if pool is not None:
            futures: dict[Future[list[FileResult]], int] = {
                pool.submit(parse_batch, root, b, max_file_bytes): i for i, b in pending.items()
            }
            for future in as_completed(futures):
                try:
                    results = future.result()
                except (BrokenProcessPool, OSError, RuntimeError, EOFError) as exc:
                    log.error("an indexing worker failed (%s); parsing its files here", exc)
                    continue
                del pending[futures[future]]
                yield results
    except (OSError, RuntimeError, BrokenProcessPool) as exc:
        # Could not start processes at all (sandbox, resource limits): do it here.
        log.error("cannot use worker processes (%s); indexing in this process", exc)
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    for b in pending.values():
        yield [parse_file(root, rel, language, max_file_bytes) for rel, language in b]


def _parse_here(root: str, todo: list[ParseJob], max_file_bytes: int) -> Iterator[list[FileResult]]:
    batch: list[FileResult] = []
    last = time.perf_counter()
    for rel, language, _size in todo:
        batch.append(parse_file(root, rel, language, max_file_bytes))
        now = time.perf_counter()
        if len(batch) >= BATCH_FILES or now - last > COMMIT_INTERVAL_S:
            yield batch
            batch = []
            last = now
    if batch:
        yield batch
