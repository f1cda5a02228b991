"""Fitting context sections and the text around the cursor into a token budget."""

from __future__ import annotations

import pytest

from quill.context.budget import ContextSection, cut_prefix_suffix, fit_sections


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def _lines(tag: str, count: int) -> str:
    return "".join(f"{tag}{index} x\n" for index in range(count))  # two tokens a line


def test_everything_fits() -> None:
    sections = [ContextSection("a", "one two", 1), ContextSection("b", "three", 2)]
    assert fit_sections(sections, 10, words) == sections


def test_highest_priority_is_kept_and_the_lowest_trimmed() -> None:
    repo_map = ContextSection("repo_map", _lines("m", 10), priority=1)
    definition = ContextSection("definition", _lines("d", 3), priority=3)
    recent = ContextSection("recent_edit", _lines("r", 4), priority=2)
    kept = fit_sections([repo_map, definition, recent], 16, words)
    # Original order; the definition (6) and recent edit (8) whole, 2 tokens of the map left.
    assert [section.source for section in kept] == ["repo_map", "definition", "recent_edit"]
    assert kept[1] == definition and kept[2] == recent
    assert kept[0].truncated
    assert kept[0].text == "m0 x\n"
    assert sum(words(section.text) for section in kept) <= 16


def test_lower_priorities_are_dropped_once_one_is_trimmed() -> None:
    big = ContextSection("definition", _lines("d", 10), priority=5)
    small = ContextSection("recent_edit", "tiny", priority=1)
    kept = fit_sections([small, big], 7, words)
    assert [section.source for section in kept] == ["definition"]
    assert kept[0].text == _lines("d", 3)


def test_a_section_whose_first_line_is_too_big_is_cut_by_characters() -> None:
    section = ContextSection("definition", "a b c d e f g h\nmore", priority=1)
    kept = fit_sections([section], 3, words)
    assert len(kept) == 1
    assert words(kept[0].text) <= 3
    assert kept[0].text.startswith("a b c")


@pytest.mark.parametrize("budget", [0, -5])
def test_no_budget_keeps_nothing(budget: int) -> None:
    assert fit_sections([ContextSection("a", "x", 1)], budget, words) == []


def test_blank_sections_are_dropped() -> None:
    assert fit_sections([ContextSection("a", "  \n", 9)], 10, words) == []


PREFIX = _lines("p", 20) + "    cursor here"  # 40 + 2 tokens
SUFFIX = " tail\n" + _lines("s", 20)  # 1 + 40 tokens


def test_cut_keeps_everything_when_it_fits() -> None:
    assert cut_prefix_suffix("a b\nc", "d\ne", 10, words) == ("a b\nc", "d\ne")


def test_cut_keeps_the_lines_nearest_the_cursor() -> None:
    prefix, suffix = cut_prefix_suffix(PREFIX, SUFFIX, 40, words, prefix_share=0.75)
    assert prefix.endswith("    cursor here")
    assert suffix.startswith(" tail\n")
    assert PREFIX.endswith(prefix) and SUFFIX.startswith(suffix)
    # Line boundaries: the prefix starts at a line start, the suffix ends at one.
    assert prefix.startswith("p")
    assert suffix.endswith("\n")
    assert words(prefix) <= 30
    assert words(prefix) + words(suffix) <= 40
    # The prefix share is honoured (not the whole budget for either side).
    assert words(prefix) >= 25 and words(suffix) >= 5


def test_unused_share_goes_to_the_other_side() -> None:
    prefix, suffix = cut_prefix_suffix("short prefix", SUFFIX, 30, words, prefix_share=0.75)
    assert prefix == "short prefix"
    assert words(suffix) > 30 * 0.25
    assert words(prefix) + words(suffix) <= 30
    prefix, suffix = cut_prefix_suffix(PREFIX, "end", 30, words, prefix_share=0.5)
    assert suffix == "end"
    # 29 tokens left for the prefix: the cursor line (2) and thirteen whole lines (26).
    assert words(prefix) == 28


def test_an_overlong_cursor_line_is_cut_by_characters() -> None:
    prefix, suffix = cut_prefix_suffix("a b c d e f g h i j", "", 4, words)
    assert suffix == ""
    assert words(prefix) <= 4 and prefix.endswith("j") and prefix.strip()


def test_zero_budget_cuts_everything() -> None:
    assert cut_prefix_suffix(PREFIX, SUFFIX, 0, words) == ("", "")
