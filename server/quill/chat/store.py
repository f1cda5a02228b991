"""Chat memory in SQLite: sessions and their messages, persisted across restarts.

The database lives in the user state directory (``platformdirs.user_state_dir("quill")``)
unless a path is given. It runs in WAL mode with ``synchronous=NORMAL``: every message is
written in one transaction of its own, so a process killed at any moment (``kill -9``) loses
at most the answer it was still streaming (which is written only when it ends); readers never
wait for a writer, and two Quill processes may share the file.

Every method may be called from any thread (one connection behind a lock; each call is
short). The connection is opened on first use, so building a store touches nothing.

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`)::

    sessions(id TEXT PK, title, created, updated, model, message_count, summary, summary_upto)
        index sessions_by_updated(updated DESC)
    messages(id INTEGER PK AUTOINCREMENT, session_id → sessions ON DELETE CASCADE, role,
             content, thinking, created, model, tokens, prompt_tokens, pinned, stopped,
             context JSON)
        index messages_by_session(session_id, id); partial index messages_pinned WHERE pinned
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs

from quill.chat.records import ChatSession, ContextItem, Role, StoredMessage

__all__ = ["SCHEMA_VERSION", "ChatStore", "default_database_path"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    model TEXT,
    message_count INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    summary_upto INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_updated ON sessions(updated DESC);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    thinking TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    model TEXT,
    tokens INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    pinned INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0,
    context TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE INDEX IF NOT EXISTS messages_pinned ON messages(session_id, id) WHERE pinned = 1;
"""

_MESSAGE_COLUMNS = (
    "id, session_id, role, content, created, model, tokens, prompt_tokens, pinned, stopped, "
    "thinking, context"
)
_SESSION_COLUMNS = "id, title, created, updated, model, message_count, summary, summary_upto"


def default_database_path() -> Path:
    """Where chat history lives when no path is given: the user state directory."""
    return Path(platformdirs.user_state_dir("quill")) / "chat.sqlite3"


class ChatStore:
    """Sessions and messages in one SQLite file (see the module docstring for the schema)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_database_path()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._closed = False

    # ------------------------------------------------------------ connection

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._open(self.path)
        except sqlite3.OperationalError:
            raise  # locked, full, read-only: not the file's fault
        except OSError as exc:
            log.warning("chat history %s cannot be written (%s); kept in memory", self.path, exc)
            return self._open(":memory:")
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            log.warning("chat history %s is unreadable (%s); moved to %s", self.path, exc, aside)
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return self._open(self.path)

    def _open(self, path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=5000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                log.warning("chat history %s has a newer schema (%d)", self.path, version)
            db.executescript(_SCHEMA)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the chat store is closed")
            if self._db is None:
                self._db = self._connect()
            yield self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: everything in the block is written, or nothing."""
        with self._read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; later calls raise."""
        with self._lock:
            self._closed = True
            db, self._db = self._db, None
            if db is not None:
                db.close()

    # ------------------------------------------------------------ sessions

    def create_session(
        self, title: str, *, model: str | None = None, now: float | None = None
    ) -> ChatSession:
        created = time.time() if now is None else now
        session = ChatSession(uuid.uuid4().hex, title, created, created, model)
        with self._write() as db:
            db.execute(
                "INSERT INTO sessions (id, title, created, updated, model) VALUES (?, ?, ?, ?, ?)",
                (session.id, title, created, created, model),
            )
        return session

    def session(self, session_id: str) -> ChatSession | None:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        return _session(row) if row else None

    def sessions(self, *, limit: int = 50, offset: int = 0) -> list[ChatSession]:
        """Sessions, most recently updated first."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY updated DESC, id "
                "LIMIT ? OFFSET ?",
                (max(0, limit), max(0, offset)),
            ).fetchall()
        return [_session(row) for row in rows]

    def rename(self, session_id: str, title: str) -> bool:
        with self._write() as db:
            cursor = db.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))
        return cursor.rowcount > 0

    def delete(self, session_id: str) -> bool:
        """Delete a session and all its messages."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cursor.rowcount > 0

    def set_summary(
        self, session_id: str, summary: str, upto: int, *, expected_upto: int | None = None
    ) -> bool:
        """Store the running summary (covering messages up to id ``upto``). With
        ``expected_upto`` only if the stored summary still covers exactly that much (a
        summary made in the background does not overwrite a newer one)."""
        sql = "UPDATE sessions SET summary = ?, summary_upto = ? WHERE id = ?"
        args: tuple[Any, ...] = (summary, upto, session_id)
        if expected_upto is not None:
            sql += " AND summary_upto = ?"
            args += (expected_upto,)
        with self._write() as db:
            cursor = db.execute(sql, args)
        return cursor.rowcount > 0

    # ------------------------------------------------------------ messages

    def add_message(
        self,
        session_id: str,
        role: Role,
        content: str,
        *,
        model: str | None = None,
        tokens: int = 0,
        prompt_tokens: int | None = None,
        pinned: bool = False,
        stopped: bool = False,
        thinking: str = "",
        context: Sequence[ContextItem] = (),
        now: float | None = None,
    ) -> StoredMessage:
        """Append a message (and touch its session) in one transaction."""
        created = time.time() if now is None else now
        items = tuple(context)
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO messages (session_id, role, content, thinking, created, model, "
                "tokens, prompt_tokens, pinned, stopped, context) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    role,
                    content,
                    thinking,
                    created,
                    model,
                    tokens,
                    prompt_tokens,
                    int(pinned),
                    int(stopped),
                    json.dumps([item.to_json() for item in items]),
                ),
            )
            db.execute(
                "UPDATE sessions SET updated = ?, message_count = message_count + 1, "
                "model = COALESCE(?, model) WHERE id = ?",
                (created, model, session_id),
            )
        message_id = cursor.lastrowid
        assert message_id is not None
        return StoredMessage(
            message_id,
            session_id,
            role,
            content,
            created,
            model,
            tokens,
            prompt_tokens,
            pinned,
            stopped,
            thinking,
            items,
        )

    def message(self, message_id: int) -> StoredMessage | None:
        with self._read() as db:
            row = db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return _message(row) if row else None

    def messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        before: int | None = None,
        after: int | None = None,
    ) -> list[StoredMessage]:
        """Messages of a session in order; with ``limit`` the *last* ``limit`` of those with
        an id below ``before`` and above ``after`` (a page of history, newest at the end)."""
        sql = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE session_id = ?"
        args: list[Any] = [session_id]
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        if after is not None:
            sql += " AND id > ?"
            args.append(after)
        if limit is None:
            sql += " ORDER BY id"
        else:
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(max(0, limit))
        with self._read() as db:
            rows = db.execute(sql, args).fetchall()
        if limit is not None:
            rows.reverse()
        return [_message(row) for row in rows]

    def protected_messages(
        self, session_id: str, *, upto: int, keywords: Sequence[str] = ()
    ) -> list[StoredMessage]:
        """Messages up to id ``upto`` that are pinned or whose text contains one of
        ``keywords`` (case-insensitive for ASCII; callers check the match exactly)."""
        words = [k for k in keywords if k.strip()]
        condition = " OR ".join(["pinned = 1"] + ["content LIKE ? ESCAPE '\\'"] * len(words))
        args: list[Any] = [session_id, upto] + [f"%{_escape_like(k)}%" for k in words]
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages "
                f"WHERE session_id = ? AND id <= ? AND ({condition}) ORDER BY id",
                args,
            ).fetchall()
        return [_message(row) for row in rows]

    def set_pinned(self, message_id: int, pinned: bool) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE messages SET pinned = ? WHERE id = ?", (int(pinned), message_id)
            )
        return cursor.rowcount > 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _session(row: Sequence[Any]) -> ChatSession:
    return ChatSession(
        id=row[0],
        title=row[1],
        created=row[2],
        updated=row[3],
        model=row[4],
        message_count=row[5],
        summary=row[6],
        summary_upto=row[7],
    )


def _message(row: Sequence[Any]) -> StoredMessage:
    try:
        items = tuple(ContextItem.from_json(item) for item in json.loads(row[11] or "[]"))
    except (ValueError, TypeError, AttributeError):
        items = ()
    return StoredMessage(
        id=row[0],
        session_id=row[1],
        role=row[2],
        content=row[3],
        created=row[4],
        model=row[5],
        tokens=row[6],
        prompt_tokens=row[7],
        pinned=bool(row[8]),
        stopped=bool(row[9]),
        thinking=row[10],
        context=items,
    )
