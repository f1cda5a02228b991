"""Go rules: findings with exact ranges and the look-alikes."""

from __future__ import annotations

import pytest

from tests.unit.actions.rules_helpers import apply_fix, found, none_of, only, span, word


def func(body: str) -> str:
    return "package p\n\nfunc f(x int) int {\n" + body + "}\n"


@pytest.mark.parametrize("exit_", ["return 1", 'panic("no")', "break", "continue"])
def test_unreachable(exit_: str) -> None:
    text = func(f"\tfor {{\n\t\t{exit_}\n\t\t// why\n\t\ta()\n\t\tb()\n\t}}\n\treturn 0\n")
    finding = only(text, "go", "unreachable-code")
    assert finding.start == span(text, "a()")[0]
    assert finding.end == span(text, "b()")[1]


def test_unreachable_in_a_case_stops_at_a_label() -> None:
    text = func(
        "\tswitch x {\n\tcase 1:\n\t\treturn 1\n\t\tcleanup()\n\t}\n"
        "\tgoto done\n\tskipped()\ndone:\n\treturn 0\n"
    )
    assert found(text, "go", "unreachable-code") == [
        ("unreachable-code", span(text, "cleanup()")),
        ("unreachable-code", span(text, "skipped()")),
    ]


def test_unreachable_lookalikes() -> None:
    text = func(
        "\tif x > 0 {\n\t\treturn 1\n\t} else {\n\t\tpanic(x)\n\t}\n"
        "\tdefer func() { recover() }()\n"
        "\tmypanic()\n\tlog.Panic(x)\n\treturn 0\n"
    )
    none_of(text, "go", {"unreachable-code"})


def test_self_assignment_and_fix() -> None:
    text = func("\tx = x\n\treturn x\n")
    finding = only(text, "go", "self-assignment")
    assert (finding.start, finding.end) == span(text, "x = x")
    assert apply_fix(text, finding) == func("\treturn x\n")


def test_self_assignment_in_a_tuple_and_selectors() -> None:
    text = func("\ta, b := 1, 2\n\ta, b = a, c\n\ts.f = s.f\n\tv[i] = v[i]\n\treturn a + b\n")
    assert found(text, "go", "self-assignment") == [
        ("self-assignment", word(text, "a", 2)),
        ("self-assignment", span(text, "s.f = s.f")),
        ("self-assignment", span(text, "v[i] = v[i]")),
    ]
    # half a tuple assigned to itself: no fix, the other half matters
    assert only(func("\ta, b = a, c\n\treturn a\n"), "go", "self-assignment").fix is None


def test_self_assignment_lookalikes() -> None:
    text = func(
        "\tfor _, x := range xs {\n\t\tx := x\n\t\tgo use(x)\n\t}\n"
        "\ta, b = b, a\n\tx += x\n\tx = f(x)\n\tv[g()] = v[g()]\n\treturn x\n"
    )
    none_of(text, "go", {"self-assignment"})
