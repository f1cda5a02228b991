"""SQLite storage of the index: one database per workspace in the user cache directory.

``<cache_dir>/<sha256 of the resolved workspace root, 20 hex digits>/index.sqlite``, WAL mode.
The ``meta`` table records the schema version and a fingerprint of the tags queries and grammar
versions; a database that is corrupt, from another schema, or built with other queries is
deleted and rebuilt from scratch (logged, never fatal).

Tables: ``files`` (one row per indexed or skipped file, with its stat and per-kind counts),
``defs`` (one row per definition), ``refs`` (one row per file: reference names and packed
positions, see :mod:`quill.index.worker`), ``imports`` (one row per imported name).

This module is not thread-safe by itself: :class:`quill.index.service.WorkspaceIndex`
serialises access with a lock.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from quill.index.languages import language_specs, load_query_source
from quill.index.worker import FileResult

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "FileRow", "IndexStore", "database_path"]

SCHEMA_VERSION = 4

_SCHEMA = """
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


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    path: str
    language: str
    mtime_ns: int
    size: int
    skipped: str | None


def database_path(root: Path, cache_dir: Path) -> Path:
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


class IndexStore:
    """The SQLite database of one workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rebuilt = False  # True when an unusable database was thrown away
        self._bulk_indexes = False
        self.conn = self._open()

    # ------------------------------------------------------------------ lifecycle

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fingerprint = _fingerprint()
        for attempt in range(2):
            conn: sqlite3.Connection | None = None
            try:
                conn = self._connect()
                if self._usable(conn, fingerprint):
                    return conn
                reason = "built by another version"
            except sqlite3.DatabaseError as exc:
                reason = f"unreadable ({exc})"
            if conn is not None:
                conn.close()
            if attempt == 0:
                log.warning("index database %s %s: rebuilding it", self.path, reason)
            self._delete_files()
            self.rebuilt = True
        # Both attempts failed (the cache folder is not writable?): keep the index in memory.
        log.error("cannot create the index database %s; using an in-memory index", self.path)
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        conn.executescript(_SCHEMA)
        self._write_meta(conn, fingerprint)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-16000")
        return conn

    def _usable(self, conn: sqlite3.Connection, fingerprint: str) -> bool:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            conn.executescript(_SCHEMA)
            self._write_meta(conn, fingerprint)
            return True
        if "meta" not in tables:
            return False
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            return False
        if meta.get("fingerprint") != fingerprint:
            return False
        conn.execute("SELECT count(*) FROM files").fetchone()
        return True

    @staticmethod
    def _write_meta(conn: sqlite3.Connection, fingerprint: str) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [("schema_version", str(SCHEMA_VERSION)), ("fingerprint", fingerprint)],
        )

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = self.path.with_name(self.path.name + suffix)
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("cannot delete %s: %s", p, exc)

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            log.debug("closing the index database failed", exc_info=True)

    # ------------------------------------------------------------------ writes

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def start_bulk(self, empty: bool) -> None:
        """Many writes ahead (a cold index). The database is a rebuildable cache, so it is
        written without syncing; on an empty database the definition indexes are built once
        at the end instead of row by row."""
        self.conn.execute("PRAGMA synchronous=OFF")
        self._bulk_indexes = empty
        if empty:
            self.conn.execute("DROP INDEX IF EXISTS defs_name")
            self.conn.execute("DROP INDEX IF EXISTS defs_file")

    def end_bulk(self) -> None:
        if getattr(self, "_bulk_indexes", False):
            self.conn.execute("CREATE INDEX IF NOT EXISTS defs_name ON defs(name)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS defs_file ON defs(file_id, name)")
            self._bulk_indexes = False
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def load_files(self) -> dict[str, FileRow]:
        return {
            row[1]: FileRow(*row)
            for row in self.conn.execute(
                "SELECT id, path, language, mtime_ns, size, skipped FROM files"
            )
        }

    def write_result(self, result: FileResult, existing_id: int | None) -> int:
        """Store one file's result (replacing its previous rows); returns its file id."""
        conn = self.conn
        skipped = None if result.status == "ok" else result.status
        counts = _kind_counts(result)
        values = (
            result.language,
            result.mtime_ns,
            result.size,
            skipped,
            result.lines,
            int(result.has_error),
            *counts,
            len(result.defs),
            len(result.ref_data) // 28,
        )
        if existing_id is None:
            cur = conn.execute(
                "INSERT INTO files(language, mtime_ns, size, skipped, lines, has_error, "
                "n_modules, n_classes, n_functions, n_methods, n_defs, n_refs, path) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, result.rel),
            )
            fid = cur.lastrowid
            assert fid is not None
        else:
            fid = existing_id
            conn.execute(
                "UPDATE files SET language=?, mtime_ns=?, size=?, skipped=?, lines=?, "
                "has_error=?, n_modules=?, n_classes=?, n_functions=?, n_methods=?, n_defs=?, "
                "n_refs=? WHERE id=?",
                (*values, fid),
            )
            self._delete_rows(fid)
        if result.defs:
            conn.executemany(
                f"INSERT INTO defs(file_id, {DEF_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(fid, *d) for d in result.defs],
            )
        if result.ref_data:
            conn.execute(
                "INSERT INTO refs(file_id, names, data) VALUES (?,?,?)",
                (fid, "\n".join(result.ref_names), result.ref_data),
            )
        if result.imports:
            conn.executemany(
                "INSERT INTO imports(file_id, module, name, alias, line) VALUES (?,?,?,?,?)",
                [(fid, i.module, i.name, i.alias, i.line) for i in result.imports],
            )
        return fid

    def _delete_rows(self, fid: int) -> None:
        self.conn.execute("DELETE FROM defs WHERE file_id=?", (fid,))
        self.conn.execute("DELETE FROM refs WHERE file_id=?", (fid,))
        self.conn.execute("DELETE FROM imports WHERE file_id=?", (fid,))

    def remove(self, fid: int) -> None:
        self._delete_rows(fid)
        self.conn.execute("DELETE FROM files WHERE id=?", (fid,))

    # ------------------------------------------------------------------ reads

    def defs_by_name(self, name: str) -> list[tuple]:
        return self.conn.execute(
            f"SELECT f.path, f.language, {_prefixed('d')} FROM defs d JOIN files f "
            "ON f.id = d.file_id WHERE d.name=? ORDER BY f.path, d.line, d.col",
            (name,),
        ).fetchall()

    def defs_of_file(self, fid: int) -> list[tuple]:
        return self.conn.execute(
            f"SELECT {DEF_COLUMNS} FROM defs WHERE file_id=? ORDER BY ext_line, ext_col, line",
            (fid,),
        ).fetchall()

    def defs_named_in_file(self, fid: int, name: str) -> list[tuple]:
        return self.conn.execute(
            f"SELECT {DEF_COLUMNS} FROM defs WHERE file_id=? AND name=? ORDER BY line, col",
            (fid, name),
        ).fetchall()

    def all_def_names(self) -> list[tuple[str, int]]:
        return self.conn.execute("SELECT name, count(*) FROM defs GROUP BY name").fetchall()

    def defs_matching(self, names: Iterable[str]) -> list[tuple]:
        out: list[tuple] = []
        wanted = list(names)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out.extend(
                self.conn.execute(
                    f"SELECT f.path, f.language, {_prefixed('d')} FROM defs d JOIN files f "
                    f"ON f.id = d.file_id WHERE d.name IN ({marks})",
                    chunk,
                )
            )
        return out

    def defs_in_scope(self, scope: str, fid: int | None = None) -> list[tuple]:
        suffix = "." + scope
        sql = (
            f"SELECT f.path, f.language, {_prefixed('d')} FROM defs d JOIN files f "
            "ON f.id = d.file_id WHERE (d.scope = ? OR substr(d.scope, -?) = ?)"
        )
        params: list[object] = [scope, len(suffix), suffix]
        if fid is not None:
            sql += " AND d.file_id = ?"
            params.append(fid)
        return self.conn.execute(sql + " ORDER BY f.path, d.line, d.col", params).fetchall()

    def refs_of_file(self, fid: int) -> tuple[str, bytes] | None:
        row = self.conn.execute("SELECT names, data FROM refs WHERE file_id=?", (fid,)).fetchone()
        return (row[0], row[1]) if row else None

    def iter_refs(self) -> Iterator[tuple[int, str, bytes]]:
        yield from self.conn.execute("SELECT file_id, names, data FROM refs")

    def iter_def_names(self) -> Iterator[tuple[int, str]]:
        yield from self.conn.execute("SELECT file_id, name FROM defs")

    def imports_of_file(self, fid: int) -> list[tuple]:
        return self.conn.execute(
            "SELECT module, name, alias, line FROM imports WHERE file_id=? ORDER BY line, rowid",
            (fid,),
        ).fetchall()

    def language_totals(self) -> list[tuple]:
        return self.conn.execute(
            "SELECT language, count(*), sum(lines), sum(n_modules), sum(n_classes), "
            "sum(n_functions), sum(n_methods), sum(n_defs), sum(n_refs), sum(has_error) "
            "FROM files WHERE skipped IS NULL GROUP BY language ORDER BY language"
        ).fetchall()

    def skipped_count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM files WHERE skipped IS NOT NULL").fetchone()
        return int(row[0])


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in DEF_COLUMNS.split(","))


def _kind_counts(result: FileResult) -> tuple[int, int, int, int]:
    modules = classes = functions = methods = 0
    for d in result.defs:
        kind = d[1]
        if kind == "function":
            functions += 1
        elif kind == "method":
            functions += 1
            methods += 1
        elif kind == "class" or kind == "interface":
            classes += 1
        elif kind == "module":
            modules += 1
    return modules, classes, functions, methods
