"""``check`` as an API: the catalogue, the fixtures, ignore comments, positions, failures."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest
import tree_sitter

from quill.actions import rules
from quill.actions.rules import RULES, Finding, RuleInfo, check, engine, python_rules, rules_for
from quill.index.languages import get_parser, language_for_path
from tests.conftest import REPO_ROOT
from tests.unit.actions.rules_helpers import span

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "rules"
EXPECT = re.compile(r"expect: ([\w, -]+)$")
SEVERITIES = {"error", "warning", "information", "hint"}


def test_the_catalogue() -> None:
    assert len(RULES) == 16
    for rule_id, info in RULES.items():
        assert isinstance(info, RuleInfo)
        assert info.id == rule_id
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", rule_id)
        assert info.severity in SEVERITIES
        assert info.message.endswith(".")
        assert set(info.languages) <= set(engine.QUERY_FILES)
    with pytest.raises(TypeError):
        RULES["x"] = RULES["bare-except"]  # type: ignore[index]
    assert "unreachable-code" in rules_for("go")
    assert rules_for("rust") == ()


@pytest.mark.parametrize("language", sorted(engine.QUERY_FILES))
def test_every_rules_query_compiles(language: str) -> None:
    assert isinstance(engine.rules_query(language), tree_sitter.Query)


def _expected(path: Path) -> set[tuple[int, str]]:
    expected = set()
    for row, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
        match = EXPECT.search(line)
        if match:
            expected |= {(row, rule.strip()) for rule in match.group(1).split(",")}
    return expected


@pytest.mark.parametrize("name", ["bugs.py", "bugs.js", "bugs.ts", "bugs.go"])
def test_fixture_bugs_are_found_exactly(name: str) -> None:
    path = FIXTURES / name
    language = language_for_path(path)
    assert language is not None
    findings = check(path.read_text(encoding="utf-8"), language)
    assert {(f.start[0], f.rule) for f in findings} == _expected(path)


def test_every_rule_has_a_fixture() -> None:
    covered = set()
    for path in FIXTURES.glob("bugs.*"):
        language = language_for_path(path)
        assert language is not None
        covered |= {(rule, language) for _, rule in _expected(path)}
    for rule_id, info in RULES.items():
        assert any((rule_id, language) in covered for language in info.languages), rule_id


@pytest.mark.parametrize("name", ["lookalikes.py", "lookalikes.js", "lookalikes.go"])
def test_fixture_lookalikes_are_not_flagged(name: str) -> None:
    path = FIXTURES / name
    language = language_for_path(path)
    assert language is not None
    assert check(path.read_text(encoding="utf-8"), language) == []


def test_findings_are_sorted_and_plain() -> None:
    text = (FIXTURES / "bugs.py").read_text(encoding="utf-8")
    findings = check(text, "python")
    assert findings == sorted(findings, key=lambda f: (f.start, f.end, f.rule))
    assert all(isinstance(f, Finding) and f.severity in SEVERITIES for f in findings)
    assert {f.rule for f in findings if f.fix is not None} <= {
        r for r, info in RULES.items() if info.has_fix
    }


def test_unsupported_or_unparsable_input_gives_nothing() -> None:
    assert check("fn main() { let x = x; }", "rust") == []
    assert check("anything", "no-such-language") == []
    assert check("", "python") == []
    assert check("\x00\x01 def (((:", "python") == []
    assert isinstance(check("if (a == b", "javascript"), list)


def test_disabled_rules() -> None:
    text = "def f(x=[]):\n    return x == None\n"
    assert {f.rule for f in check(text, "python")} == {
        "mutable-default-argument",
        "singleton-comparison",
    }
    assert [f.rule for f in check(text, "python", disabled={"singleton-comparison"})] == [
        "mutable-default-argument"
    ]
    assert check(text, "python", disabled=rules_for("python")) == []


def test_ignore_comments() -> None:
    text = (
        "def f(x=[], y={}):  # quill: ignore[mutable-default-argument]\n"
        "    a = x == None  # quill: ignore\n"
        "    b = x == None  # quill: ignore[bare-except, singleton-comparison]\n"
        "    c = x == None  # quill: ignore[bare-except]\n"
        '    d = "# quill: ignore" if x == None else 1\n'
        "    e = x == None  # quill:ignored\n"
        "    return a, b, c, d, e\n"
    )
    assert [(f.rule, f.start[0]) for f in check(text, "python")] == [
        ("singleton-comparison", 3),
        ("singleton-comparison", 4),
        ("singleton-comparison", 5),
    ]


def test_ignore_comments_use_the_languages_line_comment() -> None:
    text = "if (a == b) {}  // quill: ignore[loose-equality]\nif (a == b) {}  # quill: ignore\n"
    assert [f.start[0] for f in check(text, "javascript")] == [1]
    go = "package p\n\nfunc f(x int) {\n\tx = x // quill: ignore[self-assignment]\n}\n"
    assert check(go, "go") == []


def test_columns_are_string_indexes() -> None:
    text = "ok = ('€𝄞' == None)\n"
    finding = check(text, "python")[0]
    assert (finding.start, finding.end) == span(text, "'€𝄞' == None")
    fix = finding.fix
    assert fix is not None
    assert (fix.edits[0].start, fix.edits[0].end) == span(text, "==")


def test_a_given_tree_is_used() -> None:
    text = "x = f'plain'\n"
    tree = get_parser("python").parse(text.encode())
    assert [f.rule for f in check(text, "python", tree=tree)] == ["fstring-without-placeholders"]


def test_one_failing_rule_does_not_cost_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(report: object, caps: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(python_rules, "CHECKS", (broken, *python_rules.CHECKS))
    with caplog.at_level(logging.ERROR, logger="quill.actions.rules.engine"):
        findings = check("x = f'plain'\n", "python")
    assert [f.rule for f in findings] == ["fstring-without-placeholders"]
    assert "broken" in caplog.text and "boom" in caplog.text


def test_a_long_assignment_chain_stays_linear() -> None:
    names = " = ".join(f"a{i}" for i in range(1500))
    text = f"def f():\n    {names} = None\n    return a0\n"
    started = time.perf_counter()
    findings = check(text, "python")
    assert time.perf_counter() - started < 2.0
    assert len(findings) == 1499


def test_speed_on_a_large_file() -> None:
    """A loose bound (the bench measures the real figure): 4,000 lines well under a second."""
    text = (REPO_ROOT / "server" / "quill" / "actions" / "rules" / "python_rules.py").read_text()
    big = "\n".join([text] * max(1, 4000 // text.count("\n")))
    check(big, "python")
    started = time.perf_counter()
    check(big, "python")
    per_1k = (time.perf_counter() - started) * 1000 / (big.count("\n") / 1000)
    assert per_1k < 100, f"{per_1k:.1f} ms per 1,000 lines"


def test_the_public_names() -> None:
    assert set(rules.__all__) >= {"RULES", "Finding", "Fix", "RuleInfo", "TextReplacement", "check"}
