"""Python rules: what each must find (exact ranges, fixes applied) and look-alikes it must not."""

from __future__ import annotations

import ast
import textwrap

import pytest

from quill.actions.rules import check
from tests.unit.actions.rules_helpers import apply_fix, found, none_of, only, span, word


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --------------------------------------------------------------------------- mutable defaults


def test_mutable_default_literal_and_fix() -> None:
    text = src(
        '''
        def add(item, bucket=[]):
            """Add it."""
            bucket.append(item)
            return bucket
        '''
    )
    finding = only(text, "python", "mutable-default-argument")
    assert (finding.start, finding.end) == span(text, "[]")
    assert "bucket" in finding.message
    fixed = apply_fix(text, finding)
    assert fixed == src(
        '''
        def add(item, bucket=None):
            """Add it."""
            if bucket is None:
                bucket = []
            bucket.append(item)
            return bucket
        '''
    )
    ast.parse(fixed)
    none_of(fixed, "python", {"mutable-default-argument"})


@pytest.mark.parametrize(
    "default",
    ["{}", "set()", "list()", "dict(a=1)", "{1, 2}", "[x for x in y]", "collections.deque()"],
)
def test_mutable_default_kinds(default: str) -> None:
    text = f"def f(x={default}):\n    return x\n"
    finding = only(text, "python", "mutable-default-argument")
    assert (finding.start, finding.end) == span(text, default)


def test_mutable_default_fix_docstring_only_and_nested_indent() -> None:
    text = src(
        '''
        class A:
            async def m(self, opts={}):
                """Only a docstring."""
        '''
    )
    fixed = apply_fix(text, only(text, "python", "mutable-default-argument"))
    assert fixed == src(
        '''
        class A:
            async def m(self, opts=None):
                """Only a docstring."""
                if opts is None:
                    opts = {}
        '''
    )


def test_mutable_default_without_fix_where_it_gets_complicated() -> None:
    one_line = "def f(x=[]): return x\n"
    typed = "def f(x: list[int] = []):\n    return x\n"
    lam = "g = lambda x=[]: x\n"
    for text in (one_line, typed, lam):
        assert only(text, "python", "mutable-default-argument").fix is None


def test_mutable_default_lookalikes() -> None:
    text = src(
        """
        def f(a=(), b=None, c=frozenset(), d="[]", e=tuple(), g=foo(), h=0):
            x = []
            return x
        def k(seq: Sequence[int] = [], m: Mapping[str, int] = {}, o: Optional[Sequence[int]] = []):
            pass
        f(a=[])
        """
    )
    none_of(text, "python", {"mutable-default-argument"})


# --------------------------------------------------------------------------- except


def test_bare_except_and_fix() -> None:
    text = "try:\n    run()\nexcept:\n    log()\n"
    finding = only(text, "python", "bare-except")
    assert (finding.start, finding.end) == span(text, "except")
    assert apply_fix(text, finding) == "try:\n    run()\nexcept Exception:\n    log()\n"


def test_bare_except_that_reraises_is_fine() -> None:
    text = "try:\n    run()\nexcept:\n    cleanup()\n    raise\n"
    none_of(text, "python", {"bare-except"})
    none_of("try:\n    run()\nexcept ValueError:\n    pass\n", "python", {"bare-except"})


@pytest.mark.parametrize(
    "clause", ["except Exception:", "except BaseException:", "except Exception as exc:"]
)
def test_broad_except_pass(clause: str) -> None:
    text = f"try:\n    run()\n{clause}\n    # nothing to do\n    pass\n"
    finding = only(text, "python", "broad-except-pass")
    caught = clause.split()[1].rstrip(":")
    assert finding.start == (2, 0)
    assert finding.end == span(text, caught)[1]


def test_broad_except_lookalikes() -> None:
    text = src(
        """
        try:
            run()
        except ValueError:
            pass
        except Exception:
            log()
        except Exception:
            pass
            log()
        except (Exception, KeyError):
            pass
        """
    )
    none_of(text, "python", {"broad-except-pass"})


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("expr", "operator", "fixed"),
    [
        ("x == None", "==", "x is None"),
        ("x != None", "!=", "x is not None"),
        ("None == x", "==", "None is x"),
        ("flag == True", "==", "flag is True"),
        ("flag != False", "!=", "flag is not False"),
    ],
)
def test_singleton_comparison(expr: str, operator: str, fixed: str) -> None:
    text = f"if {expr}:\n    pass\n"
    finding = only(text, "python", "singleton-comparison")
    assert (finding.start, finding.end) == span(text, expr)
    assert apply_fix(text, finding) == f"if {fixed}:\n    pass\n"


def test_singleton_comparison_in_a_chain() -> None:
    text = "ok = a < b == None\n"
    finding = only(text, "python", "singleton-comparison")
    assert (finding.start, finding.end) == span(text, "b == None")


def test_singleton_lookalikes() -> None:
    text = "a = x is None\nb = x is not True\nc = x == 0\nd = x == 'None'\ne = f(x=None)\n"
    none_of(text, "python", {"singleton-comparison", "is-literal"})


@pytest.mark.parametrize(
    ("expr", "fixed", "kind"),
    [
        ("x is 1", "x == 1", "number"),
        ("x is not 'a'", "x != 'a'", "str"),
        ("b'ab' is x", "b'ab' == x", "bytes"),
        ("x is -1.5", "x == -1.5", "number"),
        ("x is 'a' 'b'", "x == 'a' 'b'", "str"),
        ("x is ()", "x == ()", "tuple"),
        ("[] is not x", "[] != x", "list"),
    ],
)
def test_is_literal(expr: str, fixed: str, kind: str) -> None:
    text = f"ok = {expr}\n"
    finding = only(text, "python", "is-literal")
    assert (finding.start, finding.end) == span(text, expr)
    assert kind in finding.message
    assert apply_fix(text, finding) == f"ok = {fixed}\n"


def test_is_literal_lookalikes() -> None:
    text = "a = x is None\nb = x is y\nc = x is ...\nd = x is f'{y}'\ne = x == 1\nf = x in 'ab'\n"
    none_of(text, "python", {"is-literal"})


# --------------------------------------------------------------------------- unreachable


@pytest.mark.parametrize("exit_", ["return 1", "raise ValueError", "continue", "break"])
def test_unreachable_after_exit(exit_: str) -> None:
    text = f"def f():\n    for x in y:\n        {exit_}\n        # why\n        a()\n        b()\n"
    finding = only(text, "python", "unreachable-code")
    assert finding.start == span(text, "a()")[0]
    assert finding.end == span(text, "b()")[1]
    assert exit_.split()[0] in finding.message


def test_unreachable_lookalikes() -> None:
    text = src(
        """
        def f(x):
            if x:
                return 1
            else:
                raise ValueError
            # only a comment after
        def empty_generator():
            return
            yield
        def g(x):
            for y in x:
                if y:
                    break
                z()
            return x
        """
    )
    none_of(text, "python", {"unreachable-code"})


# --------------------------------------------------------------------------- duplicates


def test_duplicate_keys_and_fix() -> None:
    text = "d = {'a': 1, \"a\": 2, 1: 0, 1.0: 9, True: 3, b'a': 4, 'k': 5, 'k': 5}\n"
    assert found(text, "python", "duplicate-key") == [
        ("duplicate-key", span(text, '"a"')),
        ("duplicate-key", span(text, "1.0")),
        ("duplicate-key", span(text, "True")),
        ("duplicate-key", span(text, "'k'", 2)),
    ]
    findings = {f.start: f for f in check(text, "python")}
    assert findings[span(text, '"a"')[0]].fix is None  # which value is meant: the user says
    same = findings[span(text, "'k'", 2)[0]]
    assert apply_fix(text, same) == text.replace(", 'k': 5}", "}")


def test_duplicate_key_lookalikes() -> None:
    text = "d = {'a': 1, 'b': 2, x: 1, x: 2, f'{y}': 1, f'{y}': 2, b'a': 1, 'a'.upper(): 3}\n"
    none_of(text, "python", {"duplicate-key"})


def test_duplicate_parameters() -> None:
    text = "def f(a, b, *a, c=1, **b):\n    pass\ng = lambda x, x: x\n"
    assert found(text, "python", "duplicate-parameter") == [
        ("duplicate-parameter", span(text, "a", 2)),
        ("duplicate-parameter", span(text, "b", 2)),
        ("duplicate-parameter", span(text, "x", 2)),
    ]
    none_of("def f(a, b, *, c, **d):\n    pass\n", "python", {"duplicate-parameter"})


def test_duplicate_definitions() -> None:
    text = src(
        """
        def f():
            pass
        class C:
            def m(self):
                pass
            def m(self):
                pass
        def f():
            pass
        """
    )
    assert found(text, "python", "duplicate-definition") == [
        ("duplicate-definition", word(text, "m", 2)),
        ("duplicate-definition", word(text, "f", 2)),
    ]


def test_duplicate_definition_lookalikes() -> None:
    text = src(
        """
        import sys
        from typing import overload

        @overload
        def f(x: int) -> int: ...
        @overload
        def f(x: str) -> str: ...
        def f(x): return x

        class P:
            @property
            def x(self): return 1
            @x.setter
            def x(self, value): pass

        if sys.platform == "win32":
            def g(): pass
        else:
            def g(): pass
        try:
            from fast import h
        except ImportError:
            def h(): pass

        def k(): pass
        k()
        def k(): pass

        @register
        def _(): pass
        @register
        def _(): pass
        """
    )
    none_of(text, "python", {"duplicate-definition"})


# --------------------------------------------------------------------------- assert, f-strings


def test_assert_tuple_and_fix() -> None:
    text = "assert (x > 0, 'x must be positive')\n"
    finding = only(text, "python", "assert-tuple")
    assert (finding.start, finding.end) == span(text, "(x > 0, 'x must be positive')")
    assert apply_fix(text, finding) == "assert x > 0, 'x must be positive'\n"
    assert only("assert (a, b, c)\n", "python", "assert-tuple").fix is None
    none_of("assert x, (a, b)\nassert ()\nassert (x)\n", "python", {"assert-tuple"})


def test_fstring_without_placeholders_and_fix() -> None:
    text = "a = f'plain {{braces}}'\nb = rf\"raw\\d\"\nc = f'x' f'{y}'\nd = F'' 'e'\n"
    results = found(text, "python", "fstring-without-placeholders")
    assert results == [
        ("fstring-without-placeholders", span(text, "f'plain {{braces}}'")),
        ("fstring-without-placeholders", span(text, 'rf"raw\\d"')),
        ("fstring-without-placeholders", span(text, "F''")),
    ]
    first = only(text.split("\n")[0], "python", "fstring-without-placeholders")
    assert apply_fix(text.split("\n")[0], first) == "a = 'plain {braces}'"
    none_of(
        "a = f'{x}'\nb = 'plain'\nc = f'{x:>{w}}'\n", "python", {"fstring-without-placeholders"}
    )


# --------------------------------------------------------------------------- loops


def test_loop_variable_overwritten() -> None:
    text = src(
        """
        for line in lines:
            line = line.strip()
            for line in other:
                pass
            with open(p) as line:
                pass
        for i, (k, v) in items:
            v += 1
        """
    )
    assert found(text, "python", "loop-variable-overwritten") == [
        ("loop-variable-overwritten", word(text, "line", 2)),
        ("loop-variable-overwritten", word(text, "line", 4)),
        ("loop-variable-overwritten", word(text, "line", 5)),
        ("loop-variable-overwritten", word(text, "v", 2)),
    ]


def test_loop_variable_lookalikes() -> None:
    text = src(
        """
        for x in xs:
            y = x
            def inner():
                x = 1
                return x
            squares = [x for x in range(3)]
            self.x = 1
        x = 2
        for _ in range(3):
            _ = 1
        """
    )
    none_of(text, "python", {"loop-variable-overwritten"})


# --------------------------------------------------------------------------- unused variables


def test_unused_variables_and_fixes() -> None:
    text = src(
        """
        def f(path):
            total = compute(path)
            count = 0
            with open(path) as fh:
                pass
            try:
                run()
            except OSError as err:
                pass
            if (m := match(path)) is not None:
                pass
            return path
        """
    )
    results = found(text, "python", "unused-variable")
    assert results == [
        ("unused-variable", span(text, "total")),
        ("unused-variable", span(text, "count")),
        ("unused-variable", span(text, "fh")),
        ("unused-variable", span(text, "err")),
        ("unused-variable", word(text, "m")),
    ]
    fixes = {
        f.start: apply_fix(text, f) for f in check(text, "python") if f.rule == "unused-variable"
    }
    assert "    compute(path)\n" in fixes[span(text, "total")[0]]
    assert "count" not in fixes[span(text, "count")[0]]
    assert "    with open(path):\n" in fixes[span(text, "fh")[0]]
    assert "    except OSError:\n" in fixes[span(text, "err")[0]]
    assert "    if (match(path)) is not None:\n" in fixes[word(text, "m")[0]]
    for fixed in fixes.values():
        ast.parse(fixed)


def test_unused_variable_reported_once_at_its_last_binding() -> None:
    text = "def f():\n    x = 1\n    x = 2\n"
    finding = only(text, "python", "unused-variable")
    assert finding.start == (2, 4)
    assert "line 2" in finding.message


def test_unused_variable_lookalikes() -> None:
    text = src(
        """
        counter = 0
        def uses(a):
            b = a
            c = 1
            c += 1
            d, e = a
            _ignored = 2
            f = 3
            def inner():
                return f
            g = 4
            print(g)
            return b, inner
        def declares():
            global counter
            counter = 1
        def encloses():
            n = 0
            def bump():
                nonlocal n
                n = 1
            return bump
        def introspects():
            h = 1
            return locals()
        class K:
            attr = 1
        def loop():
            a = None
            while a is None:
                a = next_value()
        def releases():
            big, meta = allocate()
            check(meta)
            big = None
        def defaults():
            text = "x"
            def command(text=text):
                return text
            return command
        """
    )
    none_of(text, "python", {"unused-variable"})


def test_unused_variable_read_only_by_a_shadowing_parameter() -> None:
    text = "def f():\n    result = run()\n    def g(result):\n        return result\n    return g\n"
    finding = only(text, "python", "unused-variable")
    assert finding.start == span(text, "result")[0]


def test_except_target_is_scoped_to_its_clause() -> None:
    text = src(
        """
        def f():
            try:
                run()
            except ValueError as e:
                log(e)
            except TypeError as e:
                pass
        """
    )
    finding = only(text, "python", "unused-variable")
    assert finding.start == word(text, "e", 3)[0]
