"""Incremental re-tagging of editor buffers gives the same tags as tagging from scratch."""

from __future__ import annotations

import random

import pytest
import tree_sitter

from quill.index.languages import get_tags_query, language_for_path
from quill.index.live import LiveDocuments
from quill.index.tags import RawFileTags, _collect, count_lines, extract_raw, unpack_refs
from quill.index.trees import TreeCache

from .conftest import FIXTURES

SNIPPETS = [
    b"x",
    b" ",
    b"\n",
    b"(",
    b")",
    b"{",
    b"}",
    b":",
    b"def inserted(a, b):\n    return helper(a)\n",
    b"class Inserted(Base):\n    def method(self): pass\n",
    b"function inserted(a) { return helper(a); }\n",
    b"int inserted(void);\n",
    b"import os\n",
    b"    ",
    b"#",
    b'"',
]


def comparable(raw: RawFileTags) -> tuple:
    imports = sorted((i.line, i.name, i.module or "", i.alias or "") for i in raw.imports)
    refs = unpack_refs(raw.ref_names, raw.ref_data)
    return (raw.defs, refs, imports, raw.lines, raw.has_error)


def from_scratch_on_same_tree(live: LiveDocuments, language: str, source: bytes) -> RawFileTags:
    tree = live._docs["doc"].tree
    query = get_tags_query(language)
    assert query is not None
    matches = tree_sitter.QueryCursor(query).matches(tree.root_node)
    return _collect(source, language, matches, count_lines(source), tree.root_node.has_error)


def random_edit(rng: random.Random, text: bytes) -> bytes:
    pos = rng.randrange(len(text) + 1)
    if rng.random() < 0.6:
        return text[:pos] + rng.choice(SNIPPETS) + text[pos:]
    return text[:pos] + text[pos + rng.randrange(1, 30) :]


@pytest.mark.parametrize(
    "fixture", ["sample.py", "sample.ts", "sample.js", "sample.go", "sample.c", "Sample.java"]
)
def test_random_edits_match_a_full_extraction(fixture: str) -> None:
    path = FIXTURES / fixture
    language = language_for_path(path)
    assert language is not None
    text = (path.read_bytes() + b"\n") * 4
    rng = random.Random(fixture)
    live = LiveDocuments()
    live.update("doc", language, text)
    clean_checks = 0
    original = text
    for step in range(60):
        if step % 3 == 2:
            new = original  # undo back to a clean state now and then
        else:
            new = random_edit(rng, text)
        got = live.update("doc", language, new)
        assert got is not None
        # The splice equals a full query over the same (incrementally parsed) tree ...
        assert comparable(got) == comparable(from_scratch_on_same_tree(live, language, new))
        # ... and, whenever the buffer parses cleanly, a fresh parse from scratch.
        fresh = extract_raw(new, language)
        if not fresh.has_error:
            clean_checks += 1
            assert comparable(got) == comparable(fresh)
        text = new
    assert live.incremental_updates > 50
    assert clean_checks > 0


@pytest.mark.parametrize("fixture", ["sample.py", "sample.ts"])
def test_one_tree_cache_shared_with_another_consumer(fixture: str) -> None:
    """Re-tagging and scope inference use one tree cache: each text is parsed once, and the
    tags stay exact when the other consumer parsed newer texts first (a completion runs
    before the debounced index update)."""
    path = FIXTURES / fixture
    language = language_for_path(path)
    assert language is not None
    text = path.read_bytes() * 3
    trees = TreeCache()
    live = LiveDocuments(trees=trees)
    live.update("doc", language, text)
    rng = random.Random(fixture)
    for _ in range(40):
        new = random_edit(rng, text)
        roll = rng.random()
        if roll < 0.3:
            assert trees.parse("doc", language, new) is not None  # the same text, first
        elif roll < 0.6:
            skipped = random_edit(rng, text)  # a version the index never sees
            assert trees.parse("doc", language, skipped) is not None
            new = random_edit(rng, skipped)
            trees.parse("doc", language, new)
        got = live.update("doc", language, new)
        assert got is not None
        assert comparable(got) == comparable(from_scratch_on_same_tree(live, language, new))
        fresh = extract_raw(new, language)
        if not fresh.has_error:
            assert comparable(got) == comparable(fresh)
        text = new
    assert live.full_updates == 1


def test_in_order_each_text_is_parsed_once() -> None:
    trees = TreeCache()
    live = LiveDocuments(trees=trees)
    source = b"class A:\n    def f(self):\n        return 1\n"
    live.update("a.py", "python", source)
    for step in range(5):
        source += b"def g%d():\n    pass\n" % step
        assert live.update("a.py", "python", source) is not None
        assert trees.parse("a.py", "python", source) is live._docs["a.py"].tree  # scope inference
    assert (trees.full_parses, trees.incremental_parses) == (1, 5)
    assert live.trees is trees and LiveDocuments().trees is not trees


def test_typing_a_definition_then_renaming_its_class() -> None:
    live = LiveDocuments()
    source = b"class Old:\n    def keep(self):\n        return call_one()\n\nx = 1\n" * 3
    live.update("doc", "python", source)
    for step in range(1, 8):
        source = source.replace(b"x = 1\n", b"x = 1\ndef typed_%d():\n    pass\n" % step, 1)
        got = live.update("doc", "python", source)
        assert got is not None and comparable(got) == comparable(extract_raw(source, "python"))
    renamed = source.replace(b"class Old:", b"class New:", 1)
    got = live.update("doc", "python", renamed)
    assert got is not None
    assert comparable(got) == comparable(extract_raw(renamed, "python"))
    assert ("keep", "method") in {(d[0], d[1]) for d in got.defs if d[6] == "New"}


def test_documents_are_bounded_and_droppable() -> None:
    live = LiveDocuments(max_docs=2)
    for key in ("a", "b", "c"):
        live.update(key, "python", b"def f(): pass\n")
    assert "a" not in live and "b" in live and "c" in live
    live.drop("b")
    assert "b" not in live
    assert live.update("x", "cobol", b"whatever") is None
