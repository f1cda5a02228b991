"""Fitting a completion prompt into a token budget.

:func:`fit_sections` keeps the most important context sections whole and trims the last one
that only partly fits; :func:`cut_prefix_suffix` shortens the text around the cursor at line
boundaries, keeping the lines nearest to the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from quill.context.sections import ContextSection

__all__ = [
    "ContextSection",
    "cut_prefix_suffix",
    "file_window",
    "fit_sections",
    "rough_window",
    "snap_to_line_grid",
]

CountTokens = Callable[[str], int]


def fit_sections(
    sections: Sequence[ContextSection], budget_tokens: int, count_tokens: CountTokens
) -> list[ContextSection]:
    """The sections that fit ``budget_tokens``, in their original order.

    Sections are taken by descending priority (ties: earlier first). The first one that does
    not fit whole is cut to its leading lines that fit (``truncated=True``) and the sections
    of lower priority are dropped. Sections with blank text are dropped.
    """
    remaining = budget_tokens
    order = sorted(range(len(sections)), key=lambda index: (-sections[index].priority, index))
    kept: dict[int, ContextSection] = {}
    for index in order:
        if remaining <= 0:
            break
        section = sections[index]
        if not section.text.strip():
            continue
        cost = count_tokens(section.text)
        if cost <= remaining:
            kept[index] = section
            remaining -= cost
            continue
        head = _keep_head_lines(section.text, remaining, count_tokens)
        if head.strip():
            kept[index] = replace(section, text=head, truncated=True)
            break
        # Not even its first line fits; a smaller section further down still may.
    return [kept[index] for index in sorted(kept)]


def cut_prefix_suffix(
    prefix: str,
    suffix: str,
    budget_tokens: int,
    count_tokens: CountTokens,
    prefix_share: float = 0.75,
) -> tuple[str, str]:
    """Shorten ``prefix`` from the top and ``suffix`` from the bottom to fit the budget.

    The prefix gets ``prefix_share`` of the budget and the suffix the rest; a side that needs
    less than its share leaves the difference to the other. Cuts fall on line boundaries,
    except that the cursor line itself is cut by characters when it alone is too long.
    """
    if budget_tokens <= 0:
        return "", ""
    prefix_tokens = count_tokens(prefix)
    suffix_tokens = count_tokens(suffix)
    if prefix_tokens + suffix_tokens <= budget_tokens:
        return prefix, suffix
    share = min(max(prefix_share, 0.0), 1.0)
    prefix_budget = int(budget_tokens * share)
    suffix_budget = budget_tokens - prefix_budget
    if prefix_tokens <= prefix_budget:
        prefix_budget = prefix_tokens
    elif suffix_tokens <= suffix_budget:
        prefix_budget = budget_tokens - suffix_tokens
    new_prefix = (
        prefix
        if prefix_tokens <= prefix_budget
        else _keep_tail_lines(prefix, prefix_budget, count_tokens)
    )
    suffix_budget = budget_tokens - count_tokens(new_prefix)
    new_suffix = (
        suffix
        if suffix_tokens <= suffix_budget
        else _keep_head_lines(suffix, suffix_budget, count_tokens)
    )
    return new_prefix, new_suffix


def rough_window(prefix: str, suffix: str, limit_chars: int) -> tuple[str, str]:
    """A first cut to ``limit_chars`` on each side of the cursor (at a line start above it),
    so that counting tokens afterwards stays cheap on a huge file."""
    head = prefix
    if len(prefix) > limit_chars:
        head = prefix[-limit_chars:]
        newline = head.find("\n")
        head = head[newline + 1 :] if newline != -1 else head
    return head, suffix[:limit_chars]


def snap_to_line_grid(prefix: str, cursor_line: int, grid: int) -> str:
    """Drop a few more lines from the top of ``prefix`` (which ends on ``cursor_line``) so
    that its first line is a multiple of ``grid``: while the user types, the prompt's first
    line then stays put and a model's prefix (KV) cache keeps hitting."""
    kept_lines = prefix.count("\n")
    first = cursor_line - kept_lines
    if first <= 0:
        return prefix
    snapped = -(-first // grid) * grid
    drop = snapped - first
    if drop <= 0 or drop >= kept_lines:
        return prefix
    cut = 0
    for _ in range(drop):
        cut = prefix.index("\n", cut) + 1
    return prefix[cut:]


def file_window(text: str, line: int | None, budget_tokens: int, count_tokens: CountTokens) -> str:
    """The part of ``text`` that fits ``budget_tokens``: the lines around ``line`` (more of
    them above than below), or from the top when no line is given. Cut lines are marked."""
    if count_tokens(text) <= budget_tokens:
        return text
    marker = "… (cut)\n"
    budget = max(0, budget_tokens - 2 * count_tokens(marker))
    if line is None:
        head = _keep_head_lines(text, budget, count_tokens)
        return head + ("" if head.endswith("\n") else "\n") + marker
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    split = sum(len(x) + 1 for x in lines[: line + 1])
    before, after = cut_prefix_suffix(
        text[:split], text[split:], budget, count_tokens, prefix_share=0.6
    )
    out = before + after
    if len(before) < split:
        out = marker + out
    if len(after) < len(text) - split:
        out = out + ("" if out.endswith("\n") else "\n") + marker
    return out


def _largest_fitting(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [0, count] with ``fits(n)``, given that ``fits`` is monotone."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _keep_head_lines(text: str, budget: int, count_tokens: CountTokens) -> str:
    """The leading whole lines of ``text`` that fit; the first line by characters if need be."""
    if budget <= 0:
        return ""
    lines = text.splitlines(keepends=True)
    n = _largest_fitting(len(lines), lambda k: count_tokens("".join(lines[:k])) <= budget)
    if n > 0:
        return "".join(lines[:n])
    first = lines[0] if lines else ""
    chars = _largest_fitting(len(first), lambda k: count_tokens(first[:k]) <= budget)
    return first[:chars]


def _keep_tail_lines(text: str, budget: int, count_tokens: CountTokens) -> str:
    """The trailing whole lines of ``text`` that fit; the last line by characters if need be."""
    if budget <= 0:
        return ""
    lines = text.split("\n")
    pieces = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    n = _largest_fitting(
        len(pieces), lambda k: count_tokens("".join(pieces[-k:] if k else [])) <= budget
    )
    if n > 0:
        return "".join(pieces[-n:])
    last = pieces[-1]
    chars = _largest_fitting(len(last), lambda k: count_tokens(last[len(last) - k :]) <= budget)
    return last[len(last) - chars :]
