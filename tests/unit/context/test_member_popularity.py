"""A class cut to fit the budget keeps the members the workspace uses most."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import ContextAssembler
from quill.context.candidates import Candidate
from quill.context.render import member_order

from .helpers import project_index

METHODS = "".join(
    f"    def method_{i}(self, value: int) -> int:\n        return value\n" for i in range(30)
)
FILES = {
    "lib/__init__.py": "",
    "lib/console.py": "class Console:\n" + METHODS,
    **{
        f"app/use_{n}.py": (
            "from lib.console import Console\n\n\ndef use(console: Console) -> None:\n"
            "    console.method_27(1)\n"
        )
        for n in range(3)
    },
    "app/main.py": (
        "from lib.console import Console\n\n\ndef run(console: Console) -> None:\n    \n"
    ),
}


def test_the_members_used_most_in_the_workspace_are_kept(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        assembler = ContextAssembler(index)
        assert assembler.popularity("method_27") == 3
        assert assembler.popularity("method_3") == 0
        text = (index.root / "app/main.py").read_text()
        result = assembler.assemble(
            "app/main.py", text, 4, 4, 64, count_tokens=lambda t: len(t) // 4 + 1
        )
    assert "class Console:" in result.text
    assert "def method_27(self, value: int) -> int:" in result.text
    assert "def method_29(" not in result.text


def test_member_order_puts_popular_members_after_the_used_ones(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        console = index.definitions("Console")[0]
        members = index.members_of("Console")
    candidate = Candidate(
        "import", console, 1.0, members, frozenset({"method_5"}), popular={"method_27": 3}
    )
    names = [m.name for m in member_order(candidate, frozenset({"method_9"}))]
    assert names[:4] == ["method_5", "method_9", "method_27", "method_0"]
