"""JavaScript / TypeScript / TSX rules: findings with exact ranges and the look-alikes."""

from __future__ import annotations

import pytest

from quill.actions.rules import check
from tests.unit.actions.rules_helpers import apply_fix, found, none_of, only, span, word

LANGUAGES = ("javascript", "typescript", "tsx")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("op", "strict"), [("==", "==="), ("!=", "!==")])
def test_loose_equality_and_fix(language: str, op: str, strict: str) -> None:
    text = f"if (a {op} b) {{ go(); }}\n"
    finding = only(text, language, "loose-equality")
    assert (finding.start, finding.end) == span(text, f"a {op} b")
    assert apply_fix(text, finding) == f"if (a {strict} b) {{ go(); }}\n"


@pytest.mark.parametrize("language", LANGUAGES)
def test_loose_equality_lookalikes(language: str) -> None:
    text = (
        "if (a == null || null != b) {}\n"
        "if (typeof x == 'string' || 'number' != typeof y) {}\n"
        "if (a === b || a !== c) {}\n"
        "const t = a <= b;\n"
    )
    none_of(text, language, {"loose-equality"})


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("exit_", ["return x;", "throw new Error('no');", "break;", "continue;"])
def test_unreachable(language: str, exit_: str) -> None:
    text = (
        f"function f(x) {{\n  for (;;) {{\n    {exit_}\n    // why\n    a();\n    b();\n  }}\n}}\n"
    )
    finding = only(text, language, "unreachable-code")
    assert finding.start == span(text, "a();")[0]
    assert finding.end == span(text, "b();")[1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_unreachable_in_a_switch_case(language: str) -> None:
    text = "switch (x) {\n  case 1:\n    return 1;\n    cleanup();\n  default:\n    break;\n}\n"
    finding = only(text, language, "unreachable-code")
    assert (finding.start, finding.end) == span(text, "cleanup();")


@pytest.mark.parametrize("language", LANGUAGES)
def test_unreachable_lookalikes(language: str) -> None:
    text = (
        "function f(x) {\n"
        "  return helper(x);\n"
        "  function helper(y) { return y; }\n"
        "  var hoisted;\n"
        "}\n"
        "function g(x) {\n"
        "  if (x) { return 1; } else { return 2; }\n"
        "}\n"
        "switch (x) { case 1: a(); break; case 2: b(); }\n"
    )
    none_of(text, language, {"unreachable-code"})


def test_unreachable_lookalikes_typescript_declarations() -> None:
    text = (
        "function f(x: number): number {\n  return g(x);\n  type T = number;\n  interface I {}\n}\n"
    )
    none_of(text, "typescript", {"unreachable-code"})


@pytest.mark.parametrize("language", LANGUAGES)
def test_duplicate_keys_and_fix(language: str) -> None:
    text = "const o = {a: 1, 'a': 2, 1: 0, 1.0: 0, \"x\": y, x: y};\n"
    assert found(text, language, "duplicate-key") == [
        ("duplicate-key", span(text, "'a'")),
        ("duplicate-key", span(text, "1.0")),
        ("duplicate-key", word(text, "x", 2)),
    ]
    last = [f for f in check(text, language) if f.rule == "duplicate-key"][-1]
    assert apply_fix(text, last) == "const o = {a: 1, 'a': 2, 1: 0, 1.0: 0, \"x\": y};\n"


@pytest.mark.parametrize("language", LANGUAGES)
def test_duplicate_key_lookalikes(language: str) -> None:
    text = (
        "const o = {get v() { return 1; }, set v(x) {}, [k]: 1, [k]: 2, ...a, ...a,"
        " b: 1, c: 2, 'b ': 3, B: 4, 10: 5, '1e1x': 6};\n"
    )
    none_of(text, language, {"duplicate-key"})


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "statement", ["if (x = next()) {}", "while (x = next()) {}", "do {} while (x = next());"]
)
def test_assignment_in_condition(language: str, statement: str) -> None:
    text = statement + "\n"
    finding = only(text, language, "assignment-in-condition")
    assert (finding.start, finding.end) == span(text, "x = next()")
    assert finding.fix is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_assignment_in_condition_lookalikes(language: str) -> None:
    text = (
        "if ((x = next())) {}\n"
        "while ((m = re.exec(s)) !== null) {}\n"
        "if (x === next()) {}\n"
        "for (let i = 0; i < 3; i++) {}\n"
        "const y = (x = 1);\n"
    )
    none_of(text, language, {"assignment-in-condition"})


def test_tsx_component() -> None:
    text = (
        "export function A(p: {n: number}) {\n  return <div>{p.n == 1 ? 'one' : 'many'}</div>;\n}\n"
    )
    finding = only(text, "tsx", "loose-equality")
    assert (finding.start, finding.end) == span(text, "p.n == 1")


def test_language_ids() -> None:
    text = "if (a == b) {}\n"
    assert only(text, "typescriptreact", "loose-equality")
    assert only(text, "javascriptreact", "loose-equality")
