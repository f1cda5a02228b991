"""The modules split out of tags, languages, store and live: their helpers, and the old import
paths still answering with the same objects."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from quill.index import lexical_registry, live_region, store_schema, tag_records
from quill.index.lexical_registry import (
    UNKNOWN_COMMENTS,
    CommentSyntax,
    LexicalSyntax,
    build_lexical_table,
)
from quill.index.live import LiveDocuments
from quill.index.store_schema import SCHEMA_VERSION, open_database
from quill.index.tag_records import build_tags, unpack_refs
from quill.index.tags import extract_file, extract_raw
from quill.index.trees import TreeCache
from quill.index.worker import FileResult, parse_source

SOURCE = b"""\
import os


def helper(x):
    return os.path.join(x, helper(x))


class Box:
    def open(self):
        return helper(self)
"""

MOVED = {
    "quill.index.tags": (tag_records, [*tag_records.__all__]),
    "quill.index.languages": (lexical_registry, ["CommentSyntax", "LexicalSyntax"]),
    "quill.index.store": (store_schema, ["SCHEMA_VERSION", "database_path"]),
}


@pytest.mark.parametrize("old_path", sorted(MOVED))
def test_moved_names_keep_their_old_import_path(old_path: str) -> None:
    module, names = MOVED[old_path]
    old = importlib.import_module(old_path)
    for name in names:
        if name == "build_tags":  # new with the split: lives in tag_records only
            continue
        assert getattr(old, name) is getattr(module, name), name


def test_build_tags_from_raw_rows_is_what_extraction_returns() -> None:
    raw = extract_raw(SOURCE, "python", "a.py")
    tags = build_tags(raw.defs, unpack_refs(raw.ref_names, raw.ref_data))
    assert tags == extract_file(SOURCE, "python", "a.py").tags
    kinds = [(t.name, t.kind, t.is_definition) for t in tags]
    assert ("helper", "function", True) in kinds and ("open", "method", True) in kinds
    assert tags == sorted(tags, key=lambda t: (t.start_line, t.start_col, not t.is_definition))


def test_unpack_refs_of_one_name_keeps_only_that_name() -> None:
    raw = extract_raw(SOURCE, "python", "a.py")
    every = unpack_refs(raw.ref_names, raw.ref_data)
    target = raw.ref_names.index("helper")
    only = unpack_refs(raw.ref_names, raw.ref_data, target)
    assert only == [r for r in every if r[0] == "helper"]
    assert len(only) == 2 and {r[6] for r in only} == {"helper", "Box.open"}


def test_file_result_from_raw_matches_parse_source() -> None:
    raw = extract_raw(SOURCE, "python", "a.py")
    assert FileResult.from_raw("a.py", "python", 7, len(SOURCE), raw) == parse_source(
        "a.py", "python", SOURCE, 7, len(SOURCE)
    )


def test_lexical_table_without_a_file() -> None:
    hash_only = LexicalSyntax(line_comments=("#",))
    families = {
        "c": {"line_comment": "//", "block_comment": ["/*", "*/"], "language_ids": ["kotlin"]},
        "generic": {"line_comment": "%"},
    }
    table = build_lexical_table({"python": hash_only}, families)
    assert table.syntax(" Python ") is hash_only
    assert table.comments("kotlin") == CommentSyntax(line="//", block=("/*", "*/"))
    assert table.syntax("other").line_comments == ("%",)
    assert table.comments("other") is UNKNOWN_COMMENTS and table.comments(None) is UNKNOWN_COMMENTS


def test_open_database_rebuilds_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "db" / "index.sqlite"
    conn, rebuilt = open_database(path)
    assert not rebuilt
    conn.close()
    path.write_bytes(b"not a database" * 100)
    conn, rebuilt = open_database(path)
    try:
        assert rebuilt
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        assert meta["schema_version"] == str(SCHEMA_VERSION)
        assert conn.execute("SELECT count(*) FROM files").fetchone() == (0,)
    finally:
        conn.close()


@pytest.mark.parametrize("make", [TreeCache, LiveDocuments])
def test_bounded_documents_drop_the_least_recent(make: type) -> None:
    docs = make(2)
    for key in ("a.py", "b.py", "c.py"):
        if isinstance(docs, LiveDocuments):
            assert docs.update(key, "python", SOURCE) is not None
        else:
            assert docs.parse(key, "python", SOURCE) is not None
    assert "a.py" not in docs and "b.py" in docs and "c.py" in docs and len(docs) == 2
    docs.drop("b.py")
    assert "b.py" not in docs
    docs.clear()
    assert len(docs) == 0


def test_settle_region_covers_a_whole_definition() -> None:
    from quill.index.languages import get_parser, get_tags_query

    parser, query = get_parser("python"), get_tags_query("python")
    assert parser is not None and query is not None
    tree = parser.parse(SOURCE)
    inside = SOURCE.index(b"join")
    region = live_region.settle_region(
        "python",
        query,
        SOURCE,
        tree.root_node,
        inside,
        inside + 1,
        edit_start=inside,
        delta=0,
        old_def_pos=[],
        old_by_name={},
    )
    assert region.start <= SOURCE.index(b"def helper")
    assert region.end >= SOURCE.index(b"\n\n\nclass")
