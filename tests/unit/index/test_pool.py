"""Planning and running the parse of many files (in this process: no workers started)."""

from __future__ import annotations

from pathlib import Path

from quill.index.pool import (
    BATCH_BYTES,
    BATCH_FILES,
    INPROCESS_MAX_FILES,
    make_batches,
    parse_files,
    worker_count,
)


def test_small_jobs_parse_here() -> None:
    few = [(f"f{i}.py", "python", 10) for i in range(INPROCESS_MAX_FILES)]
    assert worker_count(few, None) == 0
    assert worker_count(few * 10, 1) == 0  # asked for one: no pool
    assert worker_count(few[:3], 8) == 3  # never more workers than files


def test_batches_are_biggest_first_and_bounded() -> None:
    todo = [(f"f{i}.py", "python", (i % 7) * 40_000 + 1) for i in range(200)]
    batches = make_batches(todo)
    sizes = {rel: size for rel, _language, size in todo}
    assert sorted(rel for b in batches for rel, _ in b) == sorted(sizes)
    for batch in batches:
        assert len(batch) <= BATCH_FILES
        assert len(batch) == 1 or sum(sizes[rel] for rel, _ in batch) <= BATCH_BYTES
    firsts = [sizes[b[0][0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)


def test_parse_files_in_this_process(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def a():\n    return b()\n")
    (tmp_path / "b.py").write_bytes(b"\0binary")
    todo = [("a.py", "python", 24), ("b.py", "python", 7), ("gone.py", "python", 1)]
    results = [r for batch in parse_files(str(tmp_path), todo, 1_000_000, 0) for r in batch]
    status = {r.rel: r.status for r in results}
    assert status == {"a.py": "ok", "b.py": "binary", "gone.py": "gone"}
    assert [d[0] for d in next(r for r in results if r.rel == "a.py").defs] == ["a"]
