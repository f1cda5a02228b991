"""Quill in real editors, configured exactly as README.md "Editor set-up" says.

Each editor (Neovim 0.11, Neovim 0.7, Emacs 28 with eglot 1.9; `make test` installs them,
see clients.mk) runs headless in a temporary project whose path holds a space and whose
main.py has non-ASCII text before the name under the cursor. It starts the real `quill lsp`
(from PATH, default settings: the embedded model) through the README's configuration and asks,
over its own LSP client: go to definition, workspace symbols, an invoked completion; then it
quits, and the server must not outlive it. One editor run serves the four checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clients import harness
from tests.clients.harness import Session, locations, uri_path
from tests.clients.workspace import Spec

pytestmark = pytest.mark.model

NEOVIM_HARNESS = harness.HERE / "nvim" / "quill_test.lua"
EMACS_HARNESS = harness.HERE / "emacs" / "quill-test.el"


def _neovim_init(config_name: str) -> Callable[[Path, Spec], Path]:
    return harness.neovim_init(config_name, NEOVIM_HARNESS)


_emacs_init = harness.emacs_init


def _neovim(binary: Callable[[], Path], major_minor: str, config_name: str) -> dict[str, Any]:
    return {
        "binary": binary,
        "expect_version": f"NVIM v{major_minor}.",
        "command": ["{binary}", "--headless", "--clean", "-u", "{init}", "main.py"],
        "write_init": _neovim_init(config_name),
        "sends_shutdown": True,
    }


CLIENTS: dict[str, dict[str, Any]] = {
    "neovim-0.11": _neovim(harness.neovim_011, "0.11", "neovim-0.11"),
    "neovim-0.7": _neovim(harness.neovim_07, "0.7", "neovim-0.7"),
    # `emacs --batch` loads no user init file but does load Debian's site-start, which puts
    # elpa-eglot on the load-path as it does for every user (`-Q` would skip that).
    "emacs-eglot": {
        "binary": harness.emacs,
        "expect_version": "GNU Emacs 28.",
        "command": ["{binary}", "--batch", "-l", "{init}", "-l", str(EMACS_HARNESS)],
        "write_init": _emacs_init,
        "sends_shutdown": False,
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
    tmp = tmp_path_factory.mktemp(name)
    return harness.run_editor(name, version, tmp, command, client["write_init"])


def _started(session: Session) -> None:
    assert session.result.get("client"), session.explain(
        "the editor never got a running `quill` client from the README's configuration"
    )


def test_definition_after_non_ascii_text(session: Session) -> None:
    _started(session)
    spec = session.spec
    definition = session.result.get("definition") or {}
    sent = ((definition.get("params") or {}).get("position") or {}).get("character")
    what = (
        f"definition of {spec.name} at main.py:{spec.call_line} column {sent}"
        f" ({session.encoding}; expected column {spec.column(session.encoding)})"
    )
    assert "error" not in definition, session.explain(f"{what} failed: {definition.get('error')}")
    found = locations(definition.get("result"))
    answer = json.dumps(definition.get("result"), ensure_ascii=False)
    assert found, session.explain(f"{what} returned nothing: {answer}")
    hits = [
        (uri, rng)
        for uri, rng in found
        if uri_path(uri) == Path(spec.geometry)
        and (rng.get("start") or {}).get("line") == spec.def_line
    ]
    assert hits, session.explain(
        f"{what} should point at geometry.py line {spec.def_line}; got {answer}"
    )


def test_workspace_symbol(session: Session) -> None:
    _started(session)
    spec = session.spec
    symbol = session.result.get("symbol") or {}
    what = f"workspace/symbol {spec.symbol_query!r}"
    assert "error" not in symbol, session.explain(f"{what} failed: {symbol.get('error')}")
    result = symbol.get("result") or []
    answer = json.dumps(result, ensure_ascii=False)[:2000]
    named = [s for s in result if isinstance(s, dict) and s.get("name") == spec.name]
    assert named, session.explain(f"{what} should find {spec.name}; got {answer}")
    where = [
        s["location"]
        for s in named
        if uri_path(s["location"]["uri"]) == Path(spec.geometry)
        and s["location"].get("range", {}).get("start", {}).get("line", spec.def_line)
        == spec.def_line
    ]
    assert where, session.explain(
        f"{what}: {spec.name} should be located at geometry.py line {spec.def_line}; got {answer}"
    )


def _edit_range(item: dict[str, Any]) -> dict[str, Any] | None:
    edit = item.get("textEdit")
    if not isinstance(edit, dict):
        return None
    return edit.get("range") or edit.get("replace") or edit.get("insert")


def test_invoked_completion_offers_a_quill_suggestion(session: Session) -> None:
    _started(session)
    spec = session.spec
    attempts = (session.result.get("completion") or {}).get("attempts") or []
    summary = []
    good = None
    for n, attempt in enumerate(attempts, 1):
        result = attempt.get("result")
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        line = f"try {n}: {attempt.get('ms')} ms, "
        if attempt.get("error"):
            summary.append(line + f"error {attempt['error']}")
            continue
        incomplete = result.get("isIncomplete") if isinstance(result, dict) else None
        shown = [
            {k: i.get(k) for k in ("label", "detail", "textEdit") if k in i}
            for i in items[:3]
            if isinstance(i, dict)
        ]
        summary.append(line + f"{len(items)} items, isIncomplete={incomplete}: {shown}")
        for item in items:
            edit = item.get("textEdit") if isinstance(item, dict) else None
            rng = _edit_range(item) if isinstance(item, dict) else None
            if (
                good is None
                and item.get("detail") == spec.completion_detail
                and isinstance(edit, dict)
                and str(edit.get("newText", "")).strip()
                and rng is not None
                and rng["start"]["line"] == rng["end"]["line"] == spec.completion_line
            ):
                good = (n, item)
    params = attempts[0].get("params") if attempts else None
    assert good is not None, session.explain(
        f"an invoked completion at main.py:{spec.completion_line}:{spec.completion_character} "
        f"(params {json.dumps(params)}) should return an item with detail "
        f"{spec.completion_detail!r}, non-empty text and a textEdit on that line; "
        f"{len(attempts)} tries:\n  " + "\n  ".join(summary or ["(no request was made)"])
    )


def test_server_exits_with_the_editor(session: Session) -> None:
    _started(session)
    editor = session.report.get("editor") or {}
    assert not editor.get("timed_out"), session.explain(
        f"the editor did not finish within {harness.EDITOR_TIMEOUT_S} s"
    )
    orphans = session.report.get("orphans") or []
    left = [o for o in orphans if o.get("killed")]
    assert not left, session.explain(
        f"the server outlived the editor by more than {harness.EXIT_GRACE_S} s "
        f"(killed by the test): {left}"
    )
    # A server still running when the editor exits is re-parented to the test's reaper, which
    # sees how it ended. Neovim asks for `shutdown` when it quits, so the status must be 0;
    # eglot 1.9 sends nothing and Emacs hangs up on its processes (SIGHUP) as it exits.
    sends_shutdown = CLIENTS[session.client]["sends_shutdown"]
    for orphan in orphans:
        if sends_shutdown:
            assert orphan.get("code") == 0, session.explain(
                "the editor sent `shutdown` as it quit, so the server should exit with status 0 "
                "once its input closes (Neovim 0.11 quits without waiting for the reply, so the "
                f"input may close while `shutdown` is still being answered); it ended with {orphan}"
            )
        else:
            assert orphan.get("code") in (0, 1, None), session.explain(
                f"the server ended badly after the editor quit: {orphan}"
            )
