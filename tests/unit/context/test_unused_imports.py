"""A name imported and not used yet is what the code being written is about to use: its
header line comes before those of the names the file already uses."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import assemble_context

from .helpers import project_index

HELPERS = "".join(
    f"def helper_{i}(value: int, other: int) -> int:\n    return 0\n" for i in range(30)
)
USES = "\n".join(f"    helper_{i}(1, 2)" for i in range(30))
FILES = {
    "lib/__init__.py": "",
    "lib/helpers.py": HELPERS + "def fresh_name(value: int) -> int:\n    return 0\n",
    "app/main.py": (
        "from lib.helpers import "
        + ", ".join(f"helper_{i}" for i in range(30))
        + ", fresh_name\n\n\ndef older():\n"
        + USES
        + "\n\n\ndef run():\n    \n"
    ),
}


def test_an_unused_import_gets_its_header_first(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        text = (index.root / "app/main.py").read_text()
        line = text.split("\n").index("def run():") + 1
        result = assemble_context(
            index, "app/main.py", text, line, 4, 96, count_tokens=lambda t: len(t) // 4 + 1
        )
    assert "def fresh_name(value: int) -> int:" in result.text
    # Not everything fits: the names already used wait.
    assert "def helper_29(" not in result.text
