"""Receivers nothing types, typed by their names (real parses, a real index)."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import assemble_context
from quill.context.infer_names import names_for
from quill.context.scope import infer_scope

from .helpers import project_index

FILES = {
    "lib/__init__.py": "",
    "lib/machine.py": (
        "class StateMachine:\n"
        "    def next_line(self, n: int = 1) -> str:\n        return ''\n"
        "class document:\n"
        "    def note_pending(self, pending) -> None:\n        pass\n"
        "class Context:\n"
        "    def forward(self, cmd) -> None:\n        pass\n"
    ),
    "app/states.py": (
        "from lib import machine\n"
        "from lib.machine import StateMachine, document, Context\n\n\n"
        "class Body:\n"
        "    def __init__(self, state_machine):\n"
        "        self.state_machine = state_machine\n\n"
        "    def other(self):\n"
        "        self.state_machine.document.note_pending(None)\n\n"
        "    def run(self, ctx, count):\n"
        "        \n"
        "        ctx.forward(count)\n"
        "        machine.StateMachine()\n"
    ),
}


def test_names_for() -> None:
    assert names_for("state_machine") == ("state_machine", "StateMachine")
    assert names_for("self._console") == ("console", "Console")
    assert names_for("ctx") == ("ctx", "Ctx", "Context")
    assert names_for("x") == ()


def test_untyped_receivers_are_typed_by_their_names(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        text = (index.root / "app/states.py").read_text()
        line = text.split("\n").index("    def run(self, ctx, count):") + 1
        info = infer_scope(index, "app/states.py", text, None, line, 8)
        # Used below the cursor in the function, and in another method of the class.
        assert info.variables["ctx"] == ("Context",)
        assert info.origins["ctx"] == "guess"
        assert info.variables["self.state_machine"] == ("StateMachine",)
        assert info.variables["self.state_machine.document"] == ("document",)
        assert [d.path for d in info.types["StateMachine"]] == ["lib/machine.py"]
        # No class is called `count`; a module's attribute is no value to guess.
        assert "count" not in info.variables
        assert "machine" not in info.variables
        result = assemble_context(index, "app/states.py", text, line, 8, 1024)
    assert "def next_line(self, n: int = 1) -> str:" in result.text
    assert "def forward(self, cmd) -> None:" in result.text


def test_an_inferred_type_wins_over_the_name(tmp_path: Path) -> None:
    files = dict(FILES)
    files["app/states.py"] = (
        "from lib.machine import StateMachine, Context\n\n\n"
        "def run(ctx: StateMachine):\n    \n    ctx.next_line()\n"
    )
    with project_index(tmp_path, files) as index:
        text = (index.root / "app/states.py").read_text()
        info = infer_scope(index, "app/states.py", text, None, 4, 4)
    assert info.variables["ctx"] == ("StateMachine",)
    assert info.origins["ctx"] == "parameter"
