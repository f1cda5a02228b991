"""The bases of a type in scope are shown, but their members may take only a small part of
the budget: the subclass's own members and the other types come first."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import assemble_context

from .helpers import project_index

BASE_METHODS = "".join(
    f"    def base_method_{i}(self, value: int) -> int:\n        return value\n" for i in range(60)
)
FILES = {
    "lib/__init__.py": "",
    "lib/nodes.py": (
        "class Element:\n" + BASE_METHODS + "\n\nclass title(Element):\n"
        "    def astext(self) -> str:\n        return ''\n"
    ),
    "lib/other.py": "class Reporter:\n    def warning(self, message: str) -> None:\n        pass\n",
    "app/main.py": (
        "from lib.nodes import title\nfrom lib.other import Reporter\n\n\n"
        "def run(node: title, reporter: Reporter):\n    \n"
    ),
}


def test_a_base_class_takes_a_small_share(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        text = (index.root / "app/main.py").read_text()
        result = assemble_context(
            index, "app/main.py", text, 5, 4, 1200, count_tokens=lambda t: len(t) // 4 + 1
        )
    by_name = {item.name: item for item in result.items}
    assert "def astext(self) -> str:" in result.text
    assert "def warning(self, message: str) -> None:" in result.text
    assert "class Element:" in result.text
    assert 96 <= by_name["Element"].tokens <= 1200 // 8  # not the third of others
