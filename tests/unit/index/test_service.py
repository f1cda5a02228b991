"""WorkspaceIndex against real files, real tree-sitter and real SQLite."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from quill.index import languages
from quill.index.service import WorkspaceIndex
from quill.index.store import SCHEMA_VERSION, database_path

from .conftest import FIXTURES


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_cold_then_warm_restart_parses_nothing(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        stats = index.index_all()
        assert stats.parsed == 8 and stats.files == 8
        assert index.parse_count == 8
        assert stats.languages["python"].functions >= 8
        assert stats.languages["python"].classes == 2
        assert stats.languages["python"].modules == 8  # each Python file is a module
    assert database_path(project, cache_dir).exists()

    with WorkspaceIndex(project, cache_dir) as again:
        stats = again.index_all()
        assert again.parse_count == 0  # warm: only stat() calls
        assert stats.parsed == 0 and stats.unchanged == 8 and stats.files == 8
        assert [d.path for d in again.definitions("PageLayout")] == ["app/geometry.py"]


def test_index_all_picks_up_changes_and_deletions(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        (project / "app" / "cli.py").unlink()
        write(project, "app/extra.py", "def brand_new_function():\n    pass\n")
        path = project / "app" / "units.py"
        path.write_text(path.read_text() + "\n\ndef to_inches(points: int) -> int:\n    return 0\n")
        os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
        progress: list[tuple[int, int]] = []
        stats = index.index_all(progress=lambda done, total: progress.append((done, total)))
        assert stats.parsed == 2 and stats.removed == 1
        assert progress[0] == (0, 2) and progress[-1] == (2, 2)
        assert index.definitions("command_line_main") == []
        assert [d.path for d in index.definitions("brand_new_function")] == ["app/extra.py"]
        assert [d.path for d in index.definitions("to_inches")] == ["app/units.py"]


def test_update_file_from_buffer_and_disk(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        main = project / "app" / "main.py"
        index.update_file(main, "def run_application_v2():\n    return 1\n")
        assert index.definitions("run_application") == []
        assert [d.path for d in index.definitions("run_application_v2")] == ["app/main.py"]
        # An overlaid buffer survives index_all (the disk copy is older).
        assert index.index_all().parsed == 0
        assert index.definitions("run_application") == []
        # Without text: re-read the disk, overlay ends.
        index.update_file(main)
        assert [d.name for d in index.definitions("run_application")] == ["run_application"]
        assert index.definitions("run_application_v2") == []
        # Bytes work, relative paths work, paths outside the workspace are ignored.
        index.update_file(Path("app/main.py"), b"class FromBytes:\n    pass\n")
        assert [d.kind for d in index.definitions("FromBytes")] == ["class"]
        index.update_file(project.parent / "elsewhere.py", "def outside(): pass\n")
        assert index.definitions("outside") == []
        # A file deleted from disk is removed by update_file(path).
        main.unlink()
        index.update_file(main)
        assert index.definitions("FromBytes") == []
        assert "app/main.py" not in index.indexed_files()


def test_remove_file(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        index.remove_file(project / "app" / "units.py")
        assert index.definitions("to_points") == []
        assert index.stats().files == 7
        index.remove_file(project / "app")  # a deleted folder
        assert index.stats().files == 0
        assert index.search_symbols("page") == []


def test_builtin_calls_are_references_but_not_graph_edges(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", "def len(x):\n    return 0\n")
    write(root, "b.py", "def uses():\n    return len([1])\n")
    with WorkspaceIndex(root, cache_dir) as index:
        index.index_all()
        assert [r.path for r in index.references("len")] == ["b.py"]
        graph = index._state.graph_locked()
        graph.ensure_edges()
        assert graph.edge_count() == 0


def test_document_symbols_are_hierarchical(cache_dir: Path) -> None:
    with WorkspaceIndex(FIXTURES, cache_dir) as index:
        index.index_all()
        symbols = index.document_symbols(FIXTURES / "sample.py")
        top = [(s.name, s.kind) for s in symbols]
        assert top == [
            ("MAX_WIDTH", "constant"),
            ("default_height", "variable"),
            ("Layout", "class"),
            ("compute_area", "function"),
        ]
        layout = symbols[2]
        assert [c.name for c in layout.children] == [
            "margin",
            "__init__",
            "area",
            "update_dimensions",
        ]
        update = layout.children[3]
        assert update.detail == "def update_dimensions(self, width: int) -> None:"
        assert [c.name for c in update.children] == ["clamp"]
        # The selection range (identifier) lies within the full range.
        assert update.range[0] <= update.selection_range[0] <= update.range[2]
        # Go: methods hang under their receiver type even though they are not nested.
        go = index.document_symbols(FIXTURES / "sample.go")
        layout_go = next(s for s in go if s.name == "Layout")
        assert "Resize" in [c.name for c in layout_go.children]


def test_search_symbols_ranking(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "ws"
    write(
        root,
        "a.py",
        "def layout(): pass\n"
        "def layout_manager(): pass\n"
        "class LayoutEngine: pass\n"
        "def page_layout_helper(): pass\n"
        "def list_all_your_objects(): pass\n"
        "def Layout(): pass\n",
    )
    with WorkspaceIndex(root, cache_dir) as index:
        index.index_all()
        names = [d.name for d in index.search_symbols("layout")]
        assert names == [
            "layout",  # exact
            "Layout",  # exact ignoring case
            "LayoutEngine",  # prefix, shorter first
            "layout_manager",
            "page_layout_helper",  # substring
            "list_all_your_objects",  # subsequence
        ]
        assert index.search_symbols("LE")[0].name == "LayoutEngine"  # word starts
        assert [d.name for d in index.search_symbols("layout", limit=2)] == ["layout", "Layout"]
        assert index.search_symbols("zzzz") == []


def test_references_file_tags_members_and_imports(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        refs = index.references("to_points")
        assert {(r.path, r.kind) for r in refs} == {
            ("app/geometry.py", "import"),
            ("app/geometry.py", "call"),
            ("app/render.py", "import"),
            ("app/render.py", "call"),
        }
        call = next(r for r in refs if r.path == "app/render.py" and r.kind == "call")
        assert call.scope == "draw_page"
        tags = index.file_tags(project / "app" / "geometry.py")
        assert any(t.is_definition and t.name == "PageLayout" for t in tags)
        assert any(not t.is_definition and t.name == "to_points" for t in tags)
        members = index.members_of("PageLayout")
        assert [m.name for m in members] == ["__init__", "update_dimensions"]
        assert all(m.kind == "method" for m in members)
        assert index.members_of("PageLayout", project / "app" / "render.py") == []
        imports = index.imports(project / "app" / "main.py")
        assert [(i.module, i.name) for i in imports] == [
            ("app.geometry", "PageLayout"),
            ("app.geometry", "compute_margins"),
            ("app.render", "draw_page"),
        ]
        in_file = index.definitions_in_file(project / "app" / "geometry.py")
        assert [d.qualified_name for d in in_file] == [
            "PageLayout",
            "PageLayout.__init__",
            "PageLayout.update_dimensions",
            "compute_margins",
        ]


def test_walk_rules(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "ws"
    write(root, ".gitignore", "generated/\n*.gen.py\n!keep.gen.py\n")
    write(root, ".quillignore", "secret_stuff.py\n")
    write(root, "src/good.py", "def good(): pass\n")
    write(root, "src/a.gen.py", "def generated_one(): pass\n")
    write(root, "src/keep.gen.py", "def kept(): pass\n")
    write(root, "generated/x.py", "def in_generated(): pass\n")
    write(root, "secret_stuff.py", "def secret(): pass\n")
    write(root, "sub/.gitignore", "local.py\n")
    write(root, "sub/local.py", "def nested_ignored(): pass\n")
    write(root, "sub/other.py", "def nested_kept(): pass\n")
    write(root, "node_modules/pkg/index.js", "function dep() {}\n")
    write(root, ".venv/lib/x.py", "def venv(): pass\n")
    write(root, "__pycache__/c.py", "def cached(): pass\n")
    write(root, "notes.txt", "def not_code(): pass\n")
    write(root, "blob.py", b"def binary(): pass\n\x00\x01\x02")
    write(root, "huge.py", "x = 1\n" * 5000)
    write(root, "extra/skip_me.py", "def extra_excluded(): pass\n")
    with WorkspaceIndex(root, cache_dir, max_file_bytes=20_000, extra_excludes=["extra/"]) as index:
        stats = index.index_all()
        assert index.indexed_files() == ["src/good.py", "src/keep.gen.py", "sub/other.py"]
        assert stats.skipped == 2  # binary and too large
        # Ignored files are not indexed through update_file either.
        index.update_file(root / "generated" / "x.py")
        assert index.definitions("in_generated") == []
    # The binary file is remembered: a restart does not read it again.
    with WorkspaceIndex(root, cache_dir, max_file_bytes=20_000, extra_excludes=["extra/"]) as again:
        assert again.index_all().parsed == 0


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlinks_are_not_followed(tmp_path: Path, cache_dir: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", "def outside_secret(): pass\n")
    root = tmp_path / "ws"
    write(root, "real/mod.py", "def real_function(): pass\n")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "real" / "again").symlink_to(root / "real", target_is_directory=True)
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "out_file.py").symlink_to(outside / "secret.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    with WorkspaceIndex(root, cache_dir) as index:
        index.index_all()
        assert index.indexed_files() == ["real/mod.py"]
        assert index.definitions("outside_secret") == []


def test_invalid_utf8_and_syntax_errors_are_indexed(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "ws"
    latin = "def caf\xe9_name(): pass\ndef plain(): pass\nx = '\xe9t\xe9'\ndef after(): pass\n"
    write(root, "latin.py", latin.encode("latin-1"))
    write(root, "broken.py", "def broken(:\n  pass\n\ndef survivor():\n    pass\n")
    write(root, "empty.py", "")
    with WorkspaceIndex(root, cache_dir) as index:
        stats = index.index_all()
        assert stats.files == 3
        assert stats.languages["python"].parse_errors >= 1
        assert [d.path for d in index.definitions("plain")] == ["latin.py"]
        assert [d.path for d in index.definitions("survivor")] == ["broken.py"]
        # Invalid UTF-8 inside an identifier breaks only that identifier.
        assert [d.path for d in index.definitions("after")] == ["latin.py"]
        assert [d.signature for d in index.definitions("x")] == ["x = '\ufffdt\ufffd'"]


def test_file_deleted_while_indexing(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", "def stays(): pass\n")
    write(root, "b.py", "def vanishes(): pass\n")
    from quill.index import indexer

    real_walk = indexer.walk_workspace

    def walk_then_delete(*args: object, **kwargs: object) -> object:
        result = real_walk(*args, **kwargs)  # type: ignore[arg-type]
        (root / "b.py").unlink()  # gone between the walk and the parse
        return result

    monkeypatch.setattr(indexer, "walk_workspace", walk_then_delete)
    with WorkspaceIndex(root, cache_dir) as index:
        progress: list[tuple[int, int]] = []
        index.index_all(progress=lambda d, t: progress.append((d, t)))
        assert progress[-1] == (2, 2)
        assert index.indexed_files() == ["a.py"]


def test_corrupt_database_is_rebuilt(
    project: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = database_path(project, cache_dir)
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING), WorkspaceIndex(project, cache_dir) as index:
        assert index.index_all().parsed == 8
        assert index.definitions("PageLayout")
    assert "rebuilding" in caplog.text
    with WorkspaceIndex(project, cache_dir) as again:
        assert again.index_all().parsed == 0


def test_old_schema_is_rebuilt(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
    db = database_path(project, cache_dir)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION - 1),))
    conn.commit()
    conn.close()
    with WorkspaceIndex(project, cache_dir) as again:
        assert again.index_all().parsed == 8


def test_query_that_fails_to_compile_skips_only_that_language(
    tmp_path: Path,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    grammars = tmp_path / "grammars"
    real = languages.grammars_dir()
    for lang in ("python", "go"):
        (grammars / lang).mkdir(parents=True)
    (grammars / "python" / "tags.scm").write_text((real / "python" / "tags.scm").read_text())
    (grammars / "go" / "tags.scm").write_text("(no_such_node name: (identifier) @name) @x\n")
    (grammars / "languages.toml").write_text(
        '[python]\nextensions = [".py"]\nmodule = "tree_sitter_python"\ntags = "python/tags.scm"\n'
        '[go]\nextensions = [".go"]\nmodule = "tree_sitter_go"\ntags = "go/tags.scm"\n'
    )
    languages._reset_caches_for_tests()
    monkeypatch.setattr(languages, "grammars_dir", lambda: grammars)
    try:
        root = tmp_path / "ws"
        write(root, "a.py", "def py_function(): pass\n")
        write(root, "b.go", "package b\nfunc GoFunction() {}\n")
        with caplog.at_level(logging.ERROR):
            with WorkspaceIndex(root, cache_dir) as index:
                index.index_all()
                assert index.indexed_files() == ["a.py"]
                assert index.definitions("py_function")
            assert languages.supported_languages() == ["python"]
        compile_errors = [r for r in caplog.records if "does not compile" in r.getMessage()]
        assert len(compile_errors) == 1  # logged once
    finally:
        monkeypatch.undo()
        languages._reset_caches_for_tests()


def test_parallel_cold_index_with_worker_processes(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "ws"
    for i in range(30):
        write(
            root, f"pkg/mod{i}.py", f"def function_{i}():\n    return function_{(i + 1) % 30}()\n"
        )
    write(root, "pkg/gone.py", "def whatever(): pass\n")
    with WorkspaceIndex(root, cache_dir) as index:
        stats = index.index_all(workers=2)
        assert stats.workers == 2
        assert stats.parsed == 31 and stats.files == 31
        assert index.parse_count == 31
        assert [d.path for d in index.definitions("function_7")] == ["pkg/mod7.py"]
        assert len(index.references("function_7")) == 1


def test_queries_while_indexing_from_another_thread(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                index.index_all()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=work)
        thread.start()
        for _ in range(20):
            index.search_symbols("page")
            index.definitions("PageLayout")
        thread.join()
        assert not errors
        assert index.definitions("PageLayout")


def test_editor_buffer_updates_are_incremental(project: Path, cache_dir: Path) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        path = project / "app" / "geometry.py"
        text = path.read_text()
        index.update_file(path, text)
        edited = text.replace("def update_dimensions", "def update_size")
        index.update_file(path, edited)
        assert index._live.incremental_updates == 1
        assert [d.scope for d in index.definitions("update_size")] == ["PageLayout"]
        assert index.definitions("update_dimensions") == []
        assert index.document_symbols(path)[0].children[1].name == "update_size"


def test_close_while_indexing_stops_cleanly(project: Path, cache_dir: Path) -> None:
    index = WorkspaceIndex(project, cache_dir)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        index.close()

    stats = index.index_all(progress=progress)
    assert calls[0] == (0, 8) and calls[-1] == (8, 8)
    assert stats.parsed < 8
    assert index.stats() is not None  # no database access after close


def test_worker_processes_write_nothing_to_stdout(tmp_path: Path) -> None:
    """A stdio language server's stdout is the protocol: indexing must not write to it."""
    import subprocess
    import sys

    root = tmp_path / "ws"
    for i in range(30):
        write(root, f"m{i}.py", f"def f{i}():\n    return f{(i + 1) % 30}()\n")
    write(root, "bad.py", b"\x00binary")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from quill.index import WorkspaceIndex\n"
        "if __name__ == '__main__':\n"
        "    ix = WorkspaceIndex(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "    stats = ix.index_all(workers=2)\n"
        "    ix.close()\n"
        "    sys.stderr.write(f'{stats.workers} {stats.files}')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.endswith("2 30")
