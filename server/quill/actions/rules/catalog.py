"""The catalogue of static rules: every rule id, the languages it checks and what it means.

Settings and docs list rules from :data:`RULES`; each language module reports only ids named
here (a test checks that every id has fixtures)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from quill.actions.rules.findings import RuleInfo

__all__ = ["JS_LANGUAGES", "RULES", "rules_for"]

PY = ("python",)
JS_LANGUAGES = ("javascript", "typescript", "tsx")
GO = ("go",)

_ALL = (
    RuleInfo(
        "mutable-default-argument",
        PY,
        "A mutable default argument (list, dict, set) is created once and shared by every "
        "call; default to None and create the value in the body.",
        True,
    ),
    RuleInfo(
        "bare-except",
        PY,
        "A bare `except:` also catches KeyboardInterrupt and SystemExit; catch `Exception` "
        "or something narrower.",
        True,
    ),
    RuleInfo(
        "broad-except-pass",
        PY,
        "`except Exception: pass` silently swallows every error; handle or log it, or catch "
        "a narrower exception.",
        False,
    ),
    RuleInfo(
        "singleton-comparison",
        PY,
        "Compare to None, True or False with `is` / `is not`, not `==` / `!=`.",
        True,
    ),
    RuleInfo(
        "is-literal",
        PY,
        "`is` compares identity, not value; compare str, bytes and number literals (and "
        "tuple, list, dict and set displays) with `==` / `!=`.",
        True,
    ),
    RuleInfo(
        "unreachable-code",
        (*PY, *JS_LANGUAGES, *GO),
        "Code after a return, raise/throw, panic, break or continue in the same block never runs.",
        False,
    ),
    RuleInfo(
        "duplicate-key",
        (*PY, *JS_LANGUAGES),
        "A key repeated in a dict or object literal: the earlier value is silently replaced.",
        True,
    ),
    RuleInfo(
        "duplicate-parameter",
        PY,
        "Two parameters of one function share a name (a SyntaxError in Python).",
        False,
        "error",
    ),
    RuleInfo(
        "duplicate-definition",
        PY,
        "A function or class defined again in the same scope, with no use in between: the "
        "first definition is dead.",
        False,
    ),
    RuleInfo(
        "assert-tuple",
        PY,
        "`assert` on a non-empty tuple is always true; write `assert condition, message`.",
        True,
    ),
    RuleInfo(
        "fstring-without-placeholders",
        PY,
        "An f-string without placeholders: drop the `f` prefix.",
        True,
    ),
    RuleInfo(
        "loop-variable-overwritten",
        PY,
        "The `for` loop variable is assigned again in the loop body, so the rest of the "
        "iteration no longer sees the loop's value.",
        False,
    ),
    RuleInfo(
        "unused-variable",
        PY,
        "A local variable is assigned but never read in its function.",
        True,
    ),
    RuleInfo(
        "loose-equality",
        JS_LANGUAGES,
        "`==` / `!=` convert their operands before comparing; use `===` / `!==` "
        "(`== null` is allowed: it tests for null and undefined).",
        True,
    ),
    RuleInfo(
        "assignment-in-condition",
        JS_LANGUAGES,
        "An assignment used as an `if` / `while` condition is usually a mistyped comparison; "
        "wrap it in extra parentheses if it is meant.",
        False,
    ),
    RuleInfo(
        "self-assignment",
        GO,
        "A variable assigned to itself: the statement does nothing.",
        True,
    ),
)

#: every rule, by id (read-only)
RULES: Mapping[str, RuleInfo] = MappingProxyType({info.id: info for info in _ALL})


def rules_for(language: str) -> tuple[str, ...]:
    """The ids of the rules that check ``language`` (a language name)."""
    return tuple(info.id for info in _ALL if language in info.languages)
