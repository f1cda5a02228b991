"""The one tree cache: incremental parses (found or given edits) equal parses from scratch."""

from __future__ import annotations

import random
import threading

import pytest
import tree_sitter

from quill.index.languages import get_parser, language_for_path
from quill.index.trees import TextEdit, TreeCache, diff_edit, point_at

from .conftest import FIXTURES

Shape = list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]


def shape(tree: tree_sitter.Tree) -> Shape:
    """Every node of a tree: type, bytes and points, in document order."""
    out: Shape = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, node.start_point, node.end_point))
        stack.extend(reversed(node.children))
    return out


def fresh(language: str, source: bytes) -> Shape:
    parser = get_parser(language)
    assert parser is not None
    return shape(parser.parse(source))


def random_edit(rng: random.Random, text: bytes) -> bytes:
    pos = rng.randrange(len(text) + 1)
    if rng.random() < 0.6:
        return text[:pos] + rng.choice([b"x", b"\n", b"(", b"{ ", b'"', b"def f():\n"]) + text[pos:]
    return text[:pos] + text[pos + rng.randrange(1, 30) :]


@pytest.mark.parametrize("fixture", ["sample.py", "sample.ts", "sample.go", "sample.c"])
def test_parses_from_found_edits_equal_parses_from_scratch(fixture: str) -> None:
    language = language_for_path(fixture)
    assert language is not None
    text = (FIXTURES / fixture).read_bytes() * 2
    cache = TreeCache()
    rng = random.Random(fixture)
    cache.parse("doc", language, text)
    for _ in range(30):
        text = random_edit(rng, text)
        tree = cache.parse("doc", language, text)
        assert tree is not None and shape(tree) == fresh(language, text)
    assert (cache.full_parses, cache.incremental_parses) == (1, 30)


def lsp_change(text: bytes, start: int, end: int, insert: bytes) -> tuple[bytes, tuple]:
    """The new text and the edit an editor's ``didChange`` range gives (converted to bytes
    and points, as a front door would)."""
    new = text[:start] + insert + text[end:]
    new_end = start + len(insert)
    edit = (start, end, new_end, point_at(text, start), point_at(text, end), point_at(new, new_end))
    return new, edit


def test_given_edits_give_the_same_tree_as_a_parse_from_scratch() -> None:
    """The intended use of ``edit``: a front door feeds each didChange content change (in
    order, each in the coordinates left by the one before), then parses once."""
    text = (FIXTURES / "sample.py").read_bytes()
    cache = TreeCache()
    cache.parse("doc", "python", text)
    rng = random.Random(7)
    for _ in range(20):
        changes = rng.randrange(1, 4)  # one notification, one or several changes
        for _change in range(changes):
            start = rng.randrange(len(text) + 1)
            end = min(len(text), start + rng.randrange(0, 12))
            text, edit = lsp_change(text, start, end, rng.choice([b"", b"x", b"\n    y = (", b")"]))
            assert cache.edit("doc", *edit)
        change = cache.update("doc", "python", text)
        assert change is not None and shape(change.tree) == fresh("python", text)
        if changes == 1:
            assert change.edit == TextEdit(*edit)  # used as given
    # Edits are used as given, not found again: a replacement by the same bytes is kept.
    same, edit = lsp_change(text, 10, 20, text[10:20])
    assert cache.edit("doc", *edit)
    change = cache.update("doc", "python", same)
    assert change is not None and change.edit is not None
    assert (change.edit.start_byte, change.edit.old_end_byte) == (10, 20)
    assert shape(change.tree) == fresh("python", same)


def test_edits_that_do_not_match_the_text_are_ignored() -> None:
    text = b"def f(a):\n    return a\n\n\nclass C:\n    pass\n"
    cache = TreeCache()
    assert not cache.edit("doc", 0, 0, 1, (0, 0), (0, 0), (0, 1))  # no tree yet
    cache.parse("doc", "python", text)
    new = text.replace(b"class C", b"class Renamed")
    assert cache.edit("doc", 0, 1, 1, (0, 0), (0, 1), (0, 1))  # claims only byte 0 changed
    change = cache.update("doc", "python", new)
    assert change is not None and change.edit == diff_edit(text, new)
    assert shape(change.tree) == fresh("python", new)


def test_trees_handed_out_are_never_edited() -> None:
    cache = TreeCache()
    old = b"x = 1\ny = 2\n"
    first = cache.parse("doc", "python", old)
    assert first is not None
    before = shape(first)
    assert cache.parse("doc", "python", old) is first  # same text: the same tree
    cache.parse("doc", "python", b"x = 1\nz = [1, 2, 3]\ny = 2\n")
    assert shape(first) == before


def test_change_relative_to_a_consumers_own_version() -> None:
    """A consumer keeping its own version (re-tagging) gets the change from it, even when
    another consumer (scope inference) parsed newer texts in between."""
    cache = TreeCache()
    v1 = b"def f():\n    return 1\n"
    mine = cache.update("doc", "python", v1)
    assert mine is not None and mine.old_tree is None
    v2 = v1 + b"def g():\n    pass\n"
    v3 = v2 + b"x = g()\n"
    cache.parse("doc", "python", v2)  # the other consumer
    change = cache.update("doc", "python", v3, base=(v1, mine.tree))
    assert change is not None and change.old_source == v1 and change.edit is not None
    assert (change.edit.start_byte, change.edit.old_end_byte) == (len(v1), len(v1))
    assert shape(change.tree) == fresh("python", v3)
    assert cache.parse("doc", "python", v3) is change.tree  # and it is the cached version


def test_bounded_droppable_and_per_language() -> None:
    cache = TreeCache(max_docs=2)
    for key in ("a", "b", "c"):
        cache.parse(key, "python", b"pass\n")
    assert "a" not in cache and "b" in cache and "c" in cache and len(cache) == 2
    cache.parse("b", "python", b"pass\n")  # used: now the most recent
    cache.parse("d", "python", b"pass\n")
    assert "b" in cache and "c" not in cache
    cache.drop("b")
    assert "b" not in cache
    tree = cache.parse("d", "javascript", b"let x = 1;\n")  # another language: from scratch
    assert tree is not None and tree.root_node.type == "program"
    assert cache.parse("x", "cobol", b"whatever") is None
    cache.clear()
    assert len(cache) == 0


def test_queries_are_compiled_once() -> None:
    cache = TreeCache()
    query = cache.query("python", "(identifier) @name")
    assert query is not None and cache.query("python", "(identifier) @name") is query
    assert cache.query("python", "(no_such_node) @x") is None
    assert cache.query("cobol", "(identifier) @name") is None


def test_threads_share_one_cache() -> None:
    cache = TreeCache(max_docs=4)
    base = (FIXTURES / "sample.py").read_bytes()
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        text = base
        try:
            for _ in range(15):
                text = random_edit(rng, text)
                key = f"doc{rng.randrange(6)}"
                tree = cache.parse(key, "python", text)
                assert tree is not None and shape(tree) == fresh("python", text)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) <= 4


def test_lsp_change_ranges_chain_into_the_same_tree_as_a_full_parse() -> None:
    from quill.index.trees import TreeCache

    def utf16_column(line: str, character: int) -> int:
        units = 0
        for index, ch in enumerate(line):
            if units >= character:
                return index
            units += 2 if ord(ch) > 0xFFFF else 1
        return len(line)

    cache = TreeCache()
    old = 'label = "é😀"\n\ndef area(r):\n    return r\n'
    cache.parse("a.py", "python", old.encode())
    # Two changes in one didChange, the second in the coordinates left by the first:
    # insert " * r" after "return r", then rename the parameter.
    assert cache.edit_text("a.py", (3, 12), (3, 12), " * r", utf16_column)
    assert cache.edit_text("a.py", (2, 9), (2, 10), "radius", utf16_column)
    new = 'label = "é😀"\n\ndef area(radius):\n    return r * r\n'
    assert cache._docs["a.py"].expected == new.encode()  # the cache followed both changes
    tree = cache.parse("a.py", "python", new.encode())
    assert tree is not None and cache.incremental_parses == 1 and cache.full_parses == 1
    fresh = TreeCache().parse("b.py", "python", new.encode())
    assert fresh is not None and str(tree.root_node) == str(fresh.root_node)
    # A change the cache cannot follow (wrong range) falls back to comparing texts.
    assert cache.edit_text("a.py", (0, 9), (0, 11), "x", utf16_column)
    third = 'label = "x"\n\ndef area(radius):\n    return r * r\n'
    other = cache.parse("a.py", "python", third.replace("x", "yy").encode())
    check = TreeCache().parse("c.py", "python", third.replace("x", "yy").encode())
    assert other is not None and check is not None
    assert str(other.root_node) == str(check.root_node)
    assert not cache.edit_text("missing.py", (0, 0), (0, 0), "x", utf16_column)
