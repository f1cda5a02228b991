"""An overloaded function is shown once, by its first header."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import assemble_context

from .helpers import project_index

FILES = {
    "lib/__init__.py": "from .decorators import command\n",
    "lib/decorators.py": (
        "from typing import overload\n\n\n"
        "@overload\ndef command(name: str) -> int: ...\n\n\n"
        "@overload\ndef command(name: None = None) -> str: ...\n\n\n"
        "def command(name=None):\n    return name\n"
    ),
    "app/main.py": "import lib\nfrom lib.decorators import command\n\n\ndef run():\n    \n",
}


def test_an_overloaded_function_is_shown_once(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        text = (index.root / "app/main.py").read_text()
        result = assemble_context(index, "app/main.py", text, 5, 4, 1024)
    assert "def command(name: str) -> int: ..." in result.text
    assert "def command(name: None = None) -> str: ..." not in result.text
    assert [item.name for item in result.items].count("command") == 1
