"""A bounded LRU cache of completions, with type-through.

Keys are (document uri, the last few hundred characters of the prefix, the first characters
of the suffix, model id): the text near the cursor decides a completion, and the same text at
the same place gives the same answer. Besides exact hits, the cache serves *type-through*:
when the user types the first characters of a suggestion they were shown, the new prefix is
the old prefix plus those characters and the rest of the suggestion is still right. The
lookup tries the longest cached prefix first (the fewest typed characters).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

__all__ = ["CacheHit", "CacheKey", "CacheStats", "CompletionCache"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheKey:
    """What a cached completion is filed under."""

    uri: str
    prefix_tail: str
    suffix_head: str
    model_id: str


@dataclass(frozen=True)
class CacheHit:
    """A completion served from the cache.

    ``typed`` is what the user typed since the suggestion was cached (``""`` for an exact
    hit); ``text`` is what is left to show.
    """

    text: str
    kind: Literal["exact", "type_through"]
    typed: str = ""


@dataclass(frozen=True)
class CacheStats:
    """Lookup counts since the cache was made (or last reset)."""

    exact_hits: int
    type_through_hits: int
    misses: int
    entries: int

    @property
    def hits(self) -> int:
        return self.exact_hits + self.type_through_hits

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Hits per lookup, 0.0 before the first lookup."""
        return self.hits / self.lookups if self.lookups else 0.0


class CompletionCache:
    """Least-recently-used completions, bounded by ``max_entries``."""

    def __init__(
        self,
        max_entries: int = 512,
        *,
        prefix_chars: int = 400,
        suffix_chars: int = 160,
        max_typed_chars: int = 256,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._prefix_chars = max(1, prefix_chars)
        self._suffix_chars = max(0, suffix_chars)
        self._max_typed = max(0, max_typed_chars)
        self._entries: OrderedDict[CacheKey, str] = OrderedDict()
        self._longest = 0
        self._exact_hits = 0
        self._type_through_hits = 0
        self._misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def key(self, uri: str, prefix: str, suffix: str, model_id: str) -> CacheKey:
        """The key for a completion at the cursor between ``prefix`` and ``suffix``."""
        return CacheKey(
            uri=uri,
            prefix_tail=prefix[-self._prefix_chars :],
            suffix_head=suffix[: self._suffix_chars],
            model_id=model_id,
        )

    def put(self, uri: str, prefix: str, suffix: str, model_id: str, completion: str) -> None:
        """Remember ``completion`` (``""`` too: "the model had nothing here" is worth keeping)."""
        key = self.key(uri, prefix, suffix, model_id)
        self._entries[key] = completion
        self._entries.move_to_end(key)
        self._longest = max(self._longest, len(completion))
        while len(self._entries) > self._max_entries:
            evicted, _ = self._entries.popitem(last=False)
            logger.debug("completion cache evicted an entry for %s", evicted.uri)

    def get(self, uri: str, prefix: str, suffix: str, model_id: str) -> CacheHit | None:
        """An exact hit, else the type-through rest of a suggestion, else ``None`` (a miss)."""
        key = self.key(uri, prefix, suffix, model_id)
        exact = self._entries.get(key)
        if exact is not None:
            self._entries.move_to_end(key)
            self._exact_hits += 1
            return CacheHit(exact, "exact")
        hit = self._type_through(uri, prefix, suffix, model_id)
        if hit is not None:
            self._type_through_hits += 1
            return hit
        self._misses += 1
        return None

    def peek(self, uri: str, prefix: str, suffix: str, model_id: str) -> str | None:
        """The exact entry, without counting a lookup or touching the LRU order."""
        return self._entries.get(self.key(uri, prefix, suffix, model_id))

    def _type_through(self, uri: str, prefix: str, suffix: str, model_id: str) -> CacheHit | None:
        suffix_head = suffix[: self._suffix_chars]
        end = len(prefix)
        limit = min(self._max_typed, self._longest - 1, end)
        for typed_len in range(1, limit + 1):
            old_end = end - typed_len
            tail = prefix[max(0, old_end - self._prefix_chars) : old_end]
            key = CacheKey(uri, tail, suffix_head, model_id)
            cached = self._entries.get(key)
            if cached is None or len(cached) <= typed_len:
                continue
            typed = prefix[old_end:]
            if cached.startswith(typed):
                self._entries.move_to_end(key)
                return CacheHit(cached[typed_len:], "type_through", typed)
        return None

    def invalidate(self, uri: str) -> int:
        """Forget every entry of document ``uri`` (closed or replaced); how many were dropped."""
        doomed = [key for key in self._entries if key.uri == uri]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        """Forget every entry (the counters stay)."""
        self._entries.clear()
        self._longest = 0

    def stats(self) -> CacheStats:
        return CacheStats(
            exact_hits=self._exact_hits,
            type_through_hits=self._type_through_hits,
            misses=self._misses,
            entries=len(self._entries),
        )

    def reset_stats(self) -> None:
        self._exact_hits = self._type_through_hits = self._misses = 0
