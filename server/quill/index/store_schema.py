"""The index database's schema, and opening it: one SQLite file per workspace in the user
cache directory.

``<cache_dir>/<sha256 of the resolved workspace root, 20 hex digits>/index.sqlite``, WAL mode.
The ``meta`` table records the schema version and a fingerprint of the tags queries and grammar
versions; a database that is corrupt, from another schema, or built with other queries is
deleted and rebuilt from scratch (logged, never fatal). There are no migrations: the index is
a cache, so a database of another :data:`SCHEMA_VERSION` is simply rebuilt.

Tables: ``files`` (one row per indexed or skipped file, with its stat and per-kind counts),
``defs`` (one row per definition), ``refs`` (one row per file: reference names and packed
positions, see :mod:`quill.index.tag_records`), ``imports`` (one row per imported name).
Reading and writing them is :class:`quill.index.store.IndexStore`.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from quill.index.languages import language_specs, load_query_source

log = logging.getLogger(__name__)

__all__ = ["DEF_COLUMNS", "SCHEMA", "SCHEMA_VERSION", "database_path", "open_database"]

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    skipped TEXT,
    lines INTEGER NOT NULL DEFAULT 0,
    has_error INTEGER NOT NULL DEFAULT 0,
    n_modules INTEGER NOT NULL DEFAULT 0,
    n_classes INTEGER NOT NULL DEFAULT 0,
    n_functions INTEGER NOT NULL DEFAULT 0,
    n_methods INTEGER NOT NULL DEFAULT 0,
    n_defs INTEGER NOT NULL DEFAULT 0,
    n_refs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS defs (
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    scope TEXT,
    signature TEXT,
    ext_line INTEGER NOT NULL,
    ext_col INTEGER NOT NULL,
    ext_end_line INTEGER NOT NULL,
    ext_end_col INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS defs_name ON defs(name);
CREATE INDEX IF NOT EXISTS defs_file ON defs(file_id, name);
CREATE TABLE IF NOT EXISTS refs (
    file_id INTEGER PRIMARY KEY,
    names TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    file_id INTEGER NOT NULL,
    module TEXT,
    name TEXT NOT NULL,
    alias TEXT,
    line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
"""

DEF_COLUMNS = (
    "name, kind, line, col, end_line, end_col, scope, signature, "
    "ext_line, ext_col, ext_end_line, ext_end_col"
)
"""The columns of a stored definition, in :data:`quill.index.tag_records.DefRow` order."""


def database_path(root: Path, cache_dir: Path) -> Path:
    """Where the index database of the workspace at ``root`` lives under ``cache_dir``."""
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir / digest[:20] / "index.sqlite"


@cache
def _fingerprint() -> str:
    """Changes whenever the extracted tags could change: queries, grammar and Quill versions."""
    h = hashlib.sha256()
    h.update(f"schema={SCHEMA_VERSION};byteorder={sys.byteorder}".encode())
    for name, spec in sorted(language_specs().items()):
        h.update(f"\0{name}\0{spec.module}\0{','.join(spec.extensions)}\0".encode())
        try:
            h.update(metadata.version(spec.module.replace("_", "-")).encode())
        except metadata.PackageNotFoundError:
            h.update(b"?")
        h.update((load_query_source(name) or "").encode("utf-8"))
    try:
        h.update(metadata.version("quill-lsp").encode())
    except metadata.PackageNotFoundError:
        pass
    return h.hexdigest()[:32]


def open_database(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection to the index database at ``path``, and whether an unusable database there
    was thrown away (then the returned one is new and empty). When no file can be created there
    either, an in-memory database (logged)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint()
    rebuilt = False
    for attempt in range(2):
        conn: sqlite3.Connection | None = None
        try:
            conn = _connect(path)
            if _usable(conn, fingerprint):
                return conn, rebuilt
            reason = "built by another version"
        except sqlite3.DatabaseError as exc:
            reason = f"unreadable ({exc})"
        if conn is not None:
            conn.close()
        if attempt == 0:
            log.warning("index database %s %s: rebuilding it", path, reason)
        _delete_files(path)
        rebuilt = True
    # Both attempts failed (the cache folder is not writable?): keep the index in memory.
    log.error("cannot create the index database %s; using an in-memory index", path)
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.executescript(SCHEMA)
    _write_meta(conn, fingerprint)
    return conn, rebuilt


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-16000")
    return conn


def _usable(conn: sqlite3.Connection, fingerprint: str) -> bool:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        conn.executescript(SCHEMA)
        _write_meta(conn, fingerprint)
        return True
    if "meta" not in tables:
        return False
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        return False
    if meta.get("fingerprint") != fingerprint:
        return False
    conn.execute("SELECT count(*) FROM files").fetchone()
    # A cold index drops the lookup indexes while it writes and builds them at its end; a
    # process killed in between left them out: build them now (a no-op when they exist).
    conn.executescript(SCHEMA)
    return True


def _write_meta(conn: sqlite3.Connection, fingerprint: str) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        [("schema_version", str(SCHEMA_VERSION)), ("fingerprint", fingerprint)],
    )


def _delete_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = path.with_name(path.name + suffix)
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot delete %s: %s", p, exc)
