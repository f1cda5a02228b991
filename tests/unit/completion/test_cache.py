"""The completion cache: exact hits, type-through, LRU eviction, hit counts."""

from __future__ import annotations

import pytest

from quill.completion.cache import CacheHit, CompletionCache

URI = "file:///work/a.py"
MODEL = "qwen2.5-coder:1.5b"
PREFIX = "def total(items):\n    return "
SUFFIX = "\n\nprint(total([1, 2]))\n"
SUGGESTION = "sum(item.price for item in items)"


def _filled() -> CompletionCache:
    cache = CompletionCache(max_entries=8)
    cache.put(URI, PREFIX, SUFFIX, MODEL, SUGGESTION)
    return cache


def test_exact_hit() -> None:
    assert _filled().get(URI, PREFIX, SUFFIX, MODEL) == CacheHit(SUGGESTION, "exact")


@pytest.mark.parametrize(
    ("uri", "prefix", "suffix", "model"),
    [
        ("file:///work/b.py", PREFIX, SUFFIX, MODEL),
        (URI, PREFIX + "x", SUFFIX, MODEL),
        (URI, PREFIX, "\n\nprint(other)\n", MODEL),
        (URI, PREFIX, SUFFIX, "starcoder2:3b"),
        (URI, PREFIX[:-1], SUFFIX, MODEL),
    ],
)
def test_miss_when_any_part_of_the_key_differs(
    uri: str, prefix: str, suffix: str, model: str
) -> None:
    assert _filled().get(uri, prefix, suffix, model) is None


def test_type_through_returns_the_rest_of_the_suggestion() -> None:
    cache = _filled()
    for typed_len in (1, 4, len("sum(item.price"), len(SUGGESTION) - 1):
        typed = SUGGESTION[:typed_len]
        hit = cache.get(URI, PREFIX + typed, SUFFIX, MODEL)
        assert hit == CacheHit(SUGGESTION[typed_len:], "type_through", typed)


def test_type_through_stops_when_the_typing_diverges() -> None:
    cache = _filled()
    assert cache.get(URI, PREFIX + "sum(x", SUFFIX, MODEL) is None
    # Typing all of it leaves nothing to show.
    assert cache.get(URI, PREFIX + SUGGESTION, SUFFIX, MODEL) is None


def test_type_through_across_a_line_break() -> None:
    cache = CompletionCache()
    cache.put(URI, "def f():", "\n", MODEL, "\n    return 1")
    hit = cache.get(URI, "def f():\n    ", "\n", MODEL)
    assert hit is not None
    assert hit.text == "return 1"
    assert hit.typed == "\n    "


def test_type_through_prefers_the_longest_cached_prefix() -> None:
    cache = CompletionCache()
    cache.put(URI, "x = ", "", MODEL, "foo(bar)")
    cache.put(URI, "x = foo(", "", MODEL, "baz)")
    # Both entries fit the typing; the one cached at "x = foo(" is the longer prefix.
    hit = cache.get(URI, "x = foo(b", "", MODEL)
    assert hit is not None
    assert hit.text == "az)"
    assert hit.typed == "b"
    # Where only the older one fits, it serves.
    hit = cache.get(URI, "x = foo(bar", "", MODEL)
    assert hit is not None and hit.text == ")"
    assert hit.typed == "foo(bar"


def test_type_through_with_long_prefixes_uses_the_tail_key() -> None:
    cache = CompletionCache(prefix_chars=50)
    long_prefix = "# filler line\n" * 200 + "value = "
    cache.put(URI, long_prefix, "", MODEL, "compute(42)")
    hit = cache.get(URI, long_prefix + "comp", "", MODEL)
    assert hit is not None and hit.text == "ute(42)"


def test_lru_eviction_drops_the_least_recently_used() -> None:
    cache = CompletionCache(max_entries=3)
    for name in ("a", "b", "c"):
        cache.put(URI, f"{name} = ", "", MODEL, name)
    assert cache.get(URI, "a = ", "", MODEL) is not None  # "a" is now the most recent
    cache.put(URI, "d = ", "", MODEL, "d")
    assert len(cache) == 3
    assert cache.peek(URI, "b = ", "", MODEL) is None
    for name in ("a", "c", "d"):
        assert cache.peek(URI, f"{name} = ", "", MODEL) == name


def test_put_replaces_an_entry_without_growing() -> None:
    cache = CompletionCache(max_entries=2)
    cache.put(URI, "a", "", MODEL, "1")
    cache.put(URI, "a", "", MODEL, "2")
    assert len(cache) == 1
    assert cache.peek(URI, "a", "", MODEL) == "2"


def test_empty_completions_are_cached_as_exact_hits() -> None:
    cache = CompletionCache()
    cache.put(URI, "x", "", MODEL, "")
    assert cache.get(URI, "x", "", MODEL) == CacheHit("", "exact")


def test_hit_counts_and_rate() -> None:
    cache = _filled()
    assert cache.stats().hit_rate == 0.0
    cache.get(URI, PREFIX, SUFFIX, MODEL)
    cache.get(URI, PREFIX + "s", SUFFIX, MODEL)
    cache.get(URI, PREFIX + "zzz", SUFFIX, MODEL)
    cache.get(URI, "other", SUFFIX, MODEL)
    stats = cache.stats()
    assert (stats.exact_hits, stats.type_through_hits, stats.misses) == (1, 1, 2)
    assert stats.hits == 2 and stats.lookups == 4
    assert stats.hit_rate == pytest.approx(0.5)
    cache.reset_stats()
    assert cache.stats().lookups == 0


def test_invalidate_forgets_one_document() -> None:
    cache = _filled()
    cache.put("file:///other.py", PREFIX, SUFFIX, MODEL, "x")
    assert cache.invalidate(URI) == 1
    assert cache.peek(URI, PREFIX, SUFFIX, MODEL) is None
    assert cache.peek("file:///other.py", PREFIX, SUFFIX, MODEL) == "x"


def test_rejects_an_empty_cache() -> None:
    with pytest.raises(ValueError):
        CompletionCache(max_entries=0)
