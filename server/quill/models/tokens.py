"""The one token counter: every budget in Quill is measured with it.

Counting with a model's own tokenizer costs far too much for the typing path (llama.cpp's
tokenizer takes milliseconds for a screen of code), so budgets are spent with a fast estimate,
characters divided by a ratio, and that ratio is calibrated now and then against the model's
tokenizer where one is loaded (the embedded model) or reachable. The same counter packs the
context, cuts the file and checks the whole prompt, so a part that fitted once is never cut
again; ``exact`` gives the tokenizer's figure for reports such as ``quill.lastPrompt``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["DEFAULT_CHARS_PER_TOKEN", "TokenCounter", "estimate_tokens"]

#: characters per token for code when nothing has been measured yet (on the low side, so an
#: estimate errs towards more tokens and a budget is not overrun)
DEFAULT_CHARS_PER_TOKEN = 3.2
#: calibrate on every this many-th sample offered
CALIBRATE_EVERY = 16
#: samples shorter than this say little about the ratio
MIN_SAMPLE_CHARS = 200
#: measured ratios are shrunk by this much: staying under budget matters more than filling it
SAFETY = 0.95

ExactCount = Callable[[str], "int | None"]


def estimate_tokens(text: str, chars_per_token: float = DEFAULT_CHARS_PER_TOKEN) -> int:
    """Tokens of ``text`` by the characters-per-token ratio (at least 1 for any text)."""
    if not text:
        return 0
    return int(len(text) / chars_per_token) + 1


class TokenCounter:
    """Token counts for one model: ``counter(text)`` is the fast calibrated estimate."""

    def __init__(
        self,
        exact: ExactCount | None = None,
        chars_per_token: float = DEFAULT_CHARS_PER_TOKEN,
    ) -> None:
        self._exact = exact
        self.chars_per_token = chars_per_token
        self._offered = 0
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        return estimate_tokens(text, self.chars_per_token)

    def exact(self, text: str) -> int:
        """The model tokenizer's count where one is at hand, else the estimate."""
        if self._exact is not None and text:
            found = self._exact(text)
            if found is not None:
                return found
        return self(text)

    def calibrate(self, sample: str, *, force: bool = False) -> bool:
        """Now and then (or when ``force``), measure ``sample`` exactly and move the ratio
        towards what was measured. Returns True when the ratio was updated."""
        if self._exact is None or len(sample) < MIN_SAMPLE_CHARS:
            return False
        with self._lock:
            self._offered += 1
            if not force and (self._offered - 1) % CALIBRATE_EVERY:
                return False
        exact = self._exact(sample)
        if not exact:
            return False
        measured = len(sample) / exact * SAFETY
        with self._lock:
            self.chars_per_token = 0.5 * self.chars_per_token + 0.5 * measured
        return True
