"""SQLite storage of the index: writing one file's tags, and every lookup the index makes.

One database per workspace (where it lives, its schema and how an unusable one is rebuilt:
:mod:`quill.index.store_schema`, whose names are importable from here too).

This module is not thread-safe by itself: :class:`quill.index.service.WorkspaceIndex`
serialises access with a lock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from quill.index.store_schema import DEF_COLUMNS, SCHEMA_VERSION, database_path, open_database
from quill.index.worker import FileResult

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "FileRow", "IndexStore", "database_path"]


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    path: str
    language: str
    mtime_ns: int
    size: int
    skipped: str | None


class IndexStore:
    """The SQLite database of one workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._bulk_indexes = False
        # rebuilt: True when an unusable database was thrown away
        self.conn, self.rebuilt = open_database(path)

    # ------------------------------------------------------------------ lifecycle

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
