"""Quill's code actions in real editors, configured exactly as README.md "Editor set-up" says.

Each editor (Neovim 0.11, Neovim 0.7, Emacs 28 with eglot 1.9) opens geometry.py of the
project whose path holds a space and drives its own code-action command: Neovim's
`vim.lsp.buf.code_action()` (menu through `vim.ui.select`, then `codeAction/resolve` and the
edit applied by Neovim), eglot's `eglot-code-actions` (menu through `completing-read`, then
the action's edit applied, or its command executed and the server's `workspace/applyEdit`
applied by eglot). A stand-in for the user picks from the menu (see the harness files). One
editor run per client serves the checks: the menu (cursor on a name, and in the indentation),
the static quick fix, and "Add docstring" written by the embedded model (applied, parses and
keeps the function; or refused with a message and the buffer untouched), plus a stricter check
that the docstring is all it changed.
"""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clients import harness
from tests.clients.harness import Session
from tests.clients.workspace import Spec

NEOVIM_HARNESS = harness.HERE / "nvim" / "quill_actions.lua"
EMACS_HARNESS = harness.HERE / "emacs" / "quill-actions.el"

#: the menu's Quill actions for a function, and the command each runs where it is a command
ACTIONS = {
    "explain": "Quill: Explain function {name}",
    "refactor": "Quill: Refactor function {name}",
    "findBugs": "Quill: Find bugs in function {name}",
    "generateTests": "Quill: Generate tests for function {name}",
    "addDocstring": "Quill: Add docstring to function {name}",
}
EDIT_ACTIONS = {"refactor", "generateTests", "addDocstring"}
#: the static rule that flags `x == None` with a mechanical fix
FIX_RULE = "singleton-comparison"

PARSE = (
    "import ast, json, sys\n"
    "tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n"
    "print(json.dumps({n.name: ast.get_docstring(n) for n in ast.walk(tree)"
    " if isinstance(n, ast.FunctionDef)}))\n"
)


def _neovim_init(config_name: str) -> Callable[[Path, Spec], Path]:
    return harness.neovim_init(config_name, NEOVIM_HARNESS)


_emacs_init = harness.emacs_init


def _neovim(binary: Callable[[], Path], major_minor: str, resolves: bool) -> dict[str, Any]:
    name = f"neovim-{major_minor}"
    return {
        "binary": binary,
        "expect_version": f"NVIM v{major_minor}.",
        "command": ["{binary}", "--headless", "--clean", "-u", "{init}", "geometry.py"],
        "write_init": _neovim_init(name),
        "resolves": resolves,
    }


CLIENTS: dict[str, dict[str, Any]] = {
    # Both Neovims announce codeAction/resolve for `edit`: the edit actions come lazily.
    "neovim-0.11": _neovim(harness.neovim_011, "0.11", resolves=True),
    "neovim-0.7": _neovim(harness.neovim_07, "0.7", resolves=True),
    # eglot 1.9 has no codeAction/resolve: every action is a command.
    "emacs-eglot": {
        "binary": harness.emacs,
        "expect_version": "GNU Emacs 28.",
        "command": ["{binary}", "--batch", "-l", "{init}", "-l", str(EMACS_HARNESS)],
        "write_init": _emacs_init,
        "resolves": False,
    },
}


@pytest.fixture(scope="module", params=list(CLIENTS))
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Session:
    name = request.param
    client = CLIENTS[name]
    binary = client["binary"]()
    version = harness.version_line(binary)
    assert version.startswith(client["expect_version"]), (
        f"{binary} is {version!r}, expected {client['expect_version']}*: {harness.INSTALL_HINT}"
    )
    command = [part.replace("{binary}", str(binary)) for part in client["command"]]
    tmp = tmp_path_factory.mktemp(f"actions-{name}")
    return harness.run_editor(name, version, tmp, command, client["write_init"])


def _started(session: Session) -> None:
    assert session.result.get("client"), session.explain(
        "the editor never got a running `quill` client from the README's configuration"
    )


def _menu(session: Session, step: dict[str, Any] | None, what: str) -> dict[str, Any]:
    step = step or {}
    menu = step.get("menu")
    assert isinstance(menu, dict), session.explain(
        f"{what}: the editor showed no code-action menu (error: {step.get('error')}; "
        f"notifications: {json.dumps(session.result.get('notified'), ensure_ascii=False)})"
    )
    return menu


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def _menu_problems(session: Session, key: str, column: int, where: str) -> list[str]:
    """What is wrong with the menu the harness recorded under ``key``."""
    spec = session.spec
    step = session.result.get(key) or {}
    menu = step.get("menu")
    at = f"geometry.py:{spec.action_line}:{column} ({where}, in {spec.action_function})"
    if not isinstance(menu, dict):
        return [f"at {at} the editor showed no code-action menu (error: {step.get('error')})"]
    titles = list(menu.get("titles") or [])
    sent = f"the editor asked about range {json.dumps(menu.get('range'))}"
    expected = {k: t.format(name=spec.action_function) for k, t in ACTIONS.items()}
    # Quick fixes may come along: a client may send diagnostics from elsewhere in the context
    # (eglot 1.9 sends the whole buffer's when the range is empty).
    quill = [
        a.get("title")
        for a in menu.get("actions") or []
        if str(a.get("title")).startswith("Quill:") and a.get("kind") != "quickfix"
    ]
    if sorted(quill) != sorted(expected.values()):
        rng = menu.get("range") or {}
        why = (
            "; no selection was made, but the editor sent a non-empty range (eglot 1.9 sends "
            "the bounds of the sexp at point) and Quill took it for a selection"
            if rng and rng.get("start") != rng.get("end")
            else ""
        )
        return [
            f"at {at} the menu should list each of {list(expected.values())} once and no other "
            f"Quill action but quick fixes; it showed {titles} ({sent}){why}"
        ]
    # How each action gets run must suit what this editor supports.
    by_title = {a.get("title"): a for a in menu.get("actions") or []}
    resolves = CLIENTS[session.client]["resolves"]
    wrong = []
    for action_id, title in expected.items():
        action = by_title.get(title) or {}
        if resolves and action_id in EDIT_ACTIONS:
            ok = action.get("has_data") and not action.get("has_edit") and not action.get("command")
            want = "data to resolve, no edit yet"
        else:
            ok = action.get("command") == f"quill.{action_id}" and not action.get("has_edit")
            want = f"the command quill.{action_id}"
        if not ok:
            wrong.append(f"at {at}, {title!r} should carry {want}: {action}")
    return wrong


def test_menu_lists_the_quill_actions(session: Session) -> None:
    _started(session)
    spec = session.spec
    problems = _menu_problems(session, "list", spec.action_character, "the cursor on `math`")
    problems += _menu_problems(
        session, "list_indent", spec.action_indent_character, "the cursor in the indentation"
    )
    assert not problems, session.explain(*problems)


def test_static_quick_fix(session: Session) -> None:
    _started(session)
    spec = session.spec
    fix = session.result.get("fix") or {}
    diagnostics = fix.get("diagnostics") or []
    where = f"geometry.py:{spec.fix_line} ({spec.fix_before.strip()!r})"
    assert any(d.get("code") == FIX_RULE and d.get("has_fix") for d in diagnostics), (
        session.explain(
            f"the editor should hold a `quill` diagnostic {FIX_RULE!r} with a fix on {where}; "
            f"it holds {_show(diagnostics)} there ({fix.get('all_diagnostics')} in the buffer)"
        )
    )
    menu = _menu(session, fix, f"code actions on {where}")
    fixes = [a for a in menu.get("actions") or [] if a.get("kind") == "quickfix"]
    assert fixes and all(a.get("has_edit") for a in fixes), session.explain(
        f"the menu on {where} should offer a quick fix that carries its edit; "
        f"it showed {_show(menu.get('actions'))}"
    )
    assert str(menu.get("chosen", "")).startswith("Quill: "), session.explain(
        f"the quick fix chosen should be Quill's; got {menu.get('chosen')!r}"
    )
    assert fix.get("line") == spec.fix_after, session.explain(
        f"after the quick fix {menu.get('chosen')!r} the line should read "
        f"{spec.fix_after!r}; it reads {fix.get('line')!r}"
    )
    before = str(fix.get("before"))
    lines = before.split("\n")
    lines[spec.fix_line] = spec.fix_after
    assert fix.get("after") == "\n".join(lines), session.explain(
        "the quick fix should change that line and nothing else; the buffer reads:\n"
        + str(fix.get("after"))
    )


@pytest.mark.model
def test_add_docstring(session: Session, record_property: Callable[[str, Any], None]) -> None:
    _started(session)
    spec = session.spec
    doc = session.result.get("docstring") or {}
    title = doc.get("title")
    menu = _menu(session, doc, f"code actions in {spec.action_function}")
    assert menu.get("chosen") == title, session.explain(
        f"the menu should offer {title!r}; it showed {menu.get('titles')}"
    )
    before, after = doc.get("before"), doc.get("after")
    outcome = doc.get("outcome")
    seen = (
        f"after {doc.get('ms')} ms (outcome {outcome!r}; messages "
        f"{_show(doc.get('shown') or doc.get('messages'))}; questions {doc.get('questions')}; "
        f"error {doc.get('error')})"
    )
    record_property("docstring_outcome", outcome)
    print(f"[{session.client}] Add docstring: {outcome} {seen}")
    on_disk = Path(spec.geometry).read_text(encoding="utf-8")
    assert doc.get("saved") and on_disk == after, session.explain(
        f"the editor should have saved the buffer {seen}"
    )
    if after == before:
        # Refused: the buffer must be untouched and the user told why.
        shown = [m for m in doc.get("shown") or [] if str(m.get("message", "")).startswith("Quill")]
        told = bool(shown) or "Server reports (type=" in str(doc.get("messages") or "")
        assert told, session.explain(
            f"{title!r} left the buffer unchanged, so the server should have shown a message {seen}"
        )
        return
    assert outcome == "changed", session.explain(f"unexpected outcome {seen}")
    parsed = subprocess.run(
        ["python3", "-c", PARSE, spec.geometry],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert parsed.returncode == 0, session.explain(
        f"{title!r} changed the buffer into code that does not parse {seen}:\n"
        f"{parsed.stderr}\nthe file reads:\n{after}"
    )
    functions = json.loads(parsed.stdout)
    assert spec.action_function in functions, session.explain(
        f"after {title!r} the file no longer defines {spec.action_function} {seen}:\n{after}"
    )
    assert functions[spec.action_function], session.explain(
        f"{title!r} changed the buffer but {spec.action_function} has no docstring {seen}:\n{after}"
    )
    others = {k: v for k, v in functions.items() if k != spec.action_function}
    assert others == _functions(str(before), spec.action_function), session.explain(
        f"{title!r} should change only {spec.action_function} {seen}:\n{after}"
    )


@pytest.mark.model
def test_add_docstring_changes_nothing_but_the_docstring(session: Session) -> None:
    """Stricter than the check above: where "Add docstring" changed the buffer, the function's
    code (signature and body, the docstring aside) must be what it was."""
    _started(session)
    spec = session.spec
    doc = session.result.get("docstring") or {}
    before, after = str(doc.get("before")), str(doc.get("after"))
    if after == before:
        return  # refused: test_add_docstring checks that the user was told
    name = spec.action_function
    old, new = _code(before, name), _code(after, name)
    assert old and new == old, session.explain(
        f"{doc.get('title')!r} should add a docstring and leave the code of {name} alone; "
        f"the buffer now reads:\n{after}"
    )


def _functions(text: str, skip: str) -> dict[str, str | None]:
    """Every function of ``text`` but ``skip``, with its docstring."""
    tree = ast.parse(text)
    return {
        n.name: ast.get_docstring(n)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name != skip
    }


def _code(text: str, name: str) -> str:
    """The function ``name`` of ``text`` without its docstring, as an AST dump ("" if none)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            body = node.body
            if ast.get_docstring(node) is not None:
                body = body[1:]
            returns = ast.dump(node.returns) if node.returns is not None else ""
            return ast.dump(ast.Module(body=body, type_ignores=[])) + ast.dump(node.args) + returns
    return ""
