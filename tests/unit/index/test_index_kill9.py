"""kill -9 in the middle of a cold index, then index again: the database is sound, the lookup
indexes that the cold index drops while it writes are back, and the result is the same as an
index built in one go."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO_ROOT, clean_environment

FILES = 1500


def _workspace(root: Path) -> Path:
    for i in range(FILES):
        folder = root / f"pkg{i // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(
            f'"""Module {i}."""\n\nimport os\n\n\n'
            f"class Shape{i}:\n    def area(self) -> int:\n        return {i}\n\n\n"
            f"def helper_{i}(x):\n    return Shape{i}().area() + x\n",
            encoding="utf-8",
        )
    return root


def _env(tmp: Path, cache: str) -> dict[str, str]:
    env = clean_environment(tmp)
    env["XDG_CACHE_HOME"] = str(tmp / cache)
    return env


def _database(cache: Path) -> Path:
    found = list(cache.glob("quill/*/index.sqlite"))
    assert len(found) == 1, found
    return found[0]


def _figures(db: Path) -> tuple[int, int, list[str]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        defs = conn.execute("SELECT count(*) FROM defs").fetchone()[0]
        indexes = sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        )
        return files, defs, [i for i in indexes if not i.startswith("sqlite_")]
    finally:
        conn.close()


def _index(workspace: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "quill.cli", "index", str(workspace)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_kill_9_during_a_cold_index_then_the_next_index_is_whole(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "ws")
    killed_env = _env(tmp_path, "killed-cache")
    proc = subprocess.Popen(
        [sys.executable, "-m", "quill.cli", "index", str(workspace)],
        env=killed_env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cache = tmp_path / "killed-cache"
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(cache.glob("quill/*/index.sqlite"))
        if found:
            try:
                conn = sqlite3.connect(found[0], timeout=1)
                written = conn.execute("SELECT count(*) FROM files").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                written = 0
            if written > 0:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the index finished before it could be killed: make it bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < written < FILES

    _index(workspace, killed_env)  # resumes (or rebuilds) after the kill
    resumed = _figures(_database(cache))
    _index(workspace, _env(tmp_path, "fresh-cache"))
    fresh = _figures(_database(tmp_path / "fresh-cache"))
    assert resumed == fresh
    assert resumed[0] == FILES and resumed[1] == FILES * 3
    assert {"defs_name", "defs_file", "imports_file"} <= set(resumed[2])
