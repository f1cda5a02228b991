"""Ranking and rendering of cross-file context into a token budget, on the fixture projects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.context.assemble import (
    AssembledContext,
    ContextAssembler,
    assemble_context,
    context_source,
    default_count_tokens,
)
from quill.context.sections import ContextQuery
from quill.index.service import WorkspaceIndex

from .helpers import CANVAS, index_copy


@pytest.fixture(scope="module")
def py_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceIndex]:
    with index_copy("pyproj", tmp_path_factory.mktemp("assemble-py")) as index:
        yield index


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.split("\n")):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def canvas_at_resize(index: WorkspaceIndex, budget: int, **kw: object) -> AssembledContext:
    text = (index.root / CANVAS).read_text()
    empty = line_of(text, "self.layout.update_dimensions") + 1
    assert text.split("\n")[empty] == ""
    return assemble_context(index, CANVAS, text, empty, 8, budget, **kw)  # type: ignore[arg-type]


def four_chars_a_token(text: str) -> int:
    """The counter these ranking tests were sized with (the ranking, not the counter, is
    under test here)."""
    return len(text) // 4 + 1


def test_the_class_of_self_layout_comes_first_within_256_tokens(
    py_index: WorkspaceIndex,
) -> None:
    result = canvas_at_resize(py_index, 256, count_tokens=four_chars_a_token)
    assert "def update_dimensions(self, width: int, height: int) -> None:" in result.text
    assert "# app/geometry/layout.py:\n" in result.text
    assert result.text.index("app/geometry/layout.py") < result.text.index("update_dimensions")
    assert result.tokens == four_chars_a_token(result.text) <= 256
    first = result.items[0]
    assert (first.source, first.path, first.name, first.kind) == (
        "type:self.layout",
        "app/geometry/layout.py",
        "Layout",
        "class",
    )
    assert [i.rank for i in result.items] == sorted((i.rank for i in result.items), reverse=True)
    # The header line as written, member headers under it, and no bodies.
    assert "#   class Layout(BaseLayout):\n#     margin: int = 4\n" in result.text
    assert "self.width = width" not in result.text
    assert "_recompute" not in result.text  # private members are left out
    # Comment lines only, and nothing from the file being edited.
    assert all(line.startswith("#") for line in result.text.splitlines())
    assert all(item.path != CANVAS for item in result.items)
    assert "class Canvas" not in result.text
    sources = {item.source for item in result.items}
    assert {"type:self.layout", "type:self.frame", "import", "module"} <= sources
    # Every imported name and used module helper keeps at least its header line.
    for header in ("class Brush:", "def open_session(", "def bold(", "def clamp("):
        assert header in result.text
    assert result.scope.variables["self.layout"] == ("Layout",)


def test_never_over_budget(py_index: WorkspaceIndex) -> None:
    def strict(text: str) -> int:  # a counter that is not additive over lines
        return len(text.split()) * 2 + len(text) // 3

    for count in (None, strict):
        counter = count or default_count_tokens
        for budget in (1, 5, 12, 20, 33, 48, 64, 100, 181, 256, 400, 1200):
            result = canvas_at_resize(py_index, budget, count_tokens=count)
            assert counter(result.text) <= budget if result.text else result.items == []
            assert result.tokens <= budget
            assert sum(item.tokens for item in result.items) <= budget
    assert canvas_at_resize(py_index, 0).text == ""


def test_a_tight_budget_keeps_the_members_used_near_the_cursor(py_index: WorkspaceIndex) -> None:
    result = canvas_at_resize(py_index, 48, count_tokens=four_chars_a_token)
    assert "def update_dimensions(" in result.text
    assert "def area(" not in result.text  # cut: not used here
    assert result.items[0].name == "Layout"


def test_imports_modules_and_repo_map_fill_a_large_budget(py_index: WorkspaceIndex) -> None:
    result = canvas_at_resize(py_index, 2000)
    sources = {item.source for item in result.items}
    assert {"import", "module", "repo_map"} <= sources
    keys = [(i.path, i.name, i.line) for i in result.items]
    assert len(keys) == len(set(keys))
    assert "def bold(text: str) -> str:" in result.text  # `import app.text.style as style`
    assert "def clamp(value: float, low: float, high: float) -> float:" in result.text
    # A member shown inside its class is not repeated by the repo map.
    assert result.text.count("def update_dimensions(") == 1
    assert result.tokens <= 2000


def test_parameters_and_locals_in_scope(py_index: WorkspaceIndex) -> None:
    text = (py_index.root / CANVAS).read_text()
    line = line_of(text, "other = open_session") + 1
    result = assemble_context(py_index, CANVAS, text, line, 8, 400)
    labels = {(item.source, item.name) for item in result.items}
    assert ("type:session", "Session") in labels or ("type:other", "Session") in labels
    assert any(src.startswith("type:") and name == "Rect" for src, name in labels)
    assert "def commit(self) -> None:" in result.text


def test_typescript_context_is_rendered_as_line_comments(tmp_path: Path) -> None:
    with index_copy("tsproj", tmp_path) as index:
        rel = "src/app/main.ts"
        text = (index.root / rel).read_text()
        line = line_of(text, "item.area();") + 1
        result = assemble_context(index, rel, text, line, 6, 256)
    assert all(line.startswith("//") for line in result.text.splitlines())
    assert "// src/lib/layout.ts:\n" in result.text
    assert "updateDimensions(width: number, height: number): void {" in result.text
    assert "export function makeLayout(width: number): Layout {" in result.text
    assert result.items[0].source in ("type:item", "type:this.layout", "type:items")
    assert result.tokens <= 256


def test_recent_edits_add_what_this_file_uses(py_index: WorkspaceIndex) -> None:
    text = "# calls a_func from the cycle module\n\n\n" + (py_index.root / CANVAS).read_text()
    empty = line_of(text, "self.layout.update_dimensions") + 1
    plain = assemble_context(py_index, CANVAS, text, empty, 8, 600)
    recent = assemble_context(
        py_index, CANVAS, text, empty, 8, 600, recent_files=["app/cyc_a.py", CANVAS]
    )
    assert "def a_func() -> int:" not in plain.text
    assert "def a_func() -> int:" in recent.text
    assert any(i.source == "recent_edit" and i.name == "a_func" for i in recent.items)


def test_identifiers_near_the_cursor(py_index: WorkspaceIndex) -> None:
    text = "def run() -> None:\n    x = b_func()\n    \n"
    result = assemble_context(py_index, "app/scratch.py", text, 2, 4, 200)
    assert any(i.source == "nearby" and i.name == "b_func" for i in result.items)
    assert "def b_func() -> int:" in result.text


def test_broken_unknown_and_circular_files_give_best_effort(py_index: WorkspaceIndex) -> None:
    broken = (py_index.root / "app/broken.py").read_text()
    for line in range(len(broken.split("\n"))):
        result = assemble_context(py_index, "app/broken.py", broken, line, 4, 128)
        assert result.tokens <= 128
    circular = (py_index.root / "app/cyc_a.py").read_text()
    result = assemble_context(py_index, "app/cyc_a.py", circular, 4, 4, 128)
    assert "def b_func() -> int:" in result.text
    for rel, text in (("notes.txt", "hello b_func\n"), ("lib.rs", "fn main() {}\n")):
        result = assemble_context(py_index, rel, text, 0, 0, 64)
        assert result.tokens <= 64
    result = assemble_context(py_index, "app/x.py", "x: Missing = nothing()\n", 1, 0, 64)
    assert result.tokens <= 64


def test_an_edited_workspace_file_is_seen_after_update(tmp_path: Path) -> None:
    with index_copy("pyproj", tmp_path) as index:
        assembler = ContextAssembler(index)
        text = (index.root / CANVAS).read_text()
        empty = line_of(text, "self.layout.update_dimensions") + 1
        before = assembler.assemble(CANVAS, text, empty, 8, 256)
        assert "def area(self) -> int:" in before.text
        layout = index.root / "app/geometry/layout.py"
        layout.write_text(
            layout.read_text().replace("def area(self) -> int:", "def surface(self) -> int:")
        )
        index.update_file(layout)
        assembler.clear()  # what other files define is otherwise kept a few seconds
        result = assembler.assemble(CANVAS, text, empty, 8, 256)
    assert "def surface(self) -> int:" in result.text and "def area(" not in result.text


def test_context_source_adapter(py_index: WorkspaceIndex) -> None:
    text = (py_index.root / CANVAS).read_text()
    empty = line_of(text, "self.layout.update_dimensions") + 1
    prefix = "\n".join([*text.split("\n")[:empty], "        "])
    query = ContextQuery("file:///x", CANVAS, "python", text, empty, prefix, 256)
    sections = context_source(lambda: ContextAssembler(py_index))(query)
    assert len(sections) == 1 and sections[0].source == "context"
    assert "def update_dimensions(" in sections[0].text
    assert context_source(lambda: None)(query) == []


def test_a_big_class_does_not_crowd_out_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "big"
    (root / "pkg").mkdir(parents=True)
    methods = "".join(
        f"    def method_number_{i}(self, value: int) -> int:\n        return value\n\n"
        for i in range(60)
    )
    (root / "pkg/big.py").write_text(f"class Big:\n{methods}")
    (root / "pkg/helpers.py").write_text("def tidy(text: str) -> str:\n    return text\n")
    (root / "pkg/__init__.py").write_text("")
    text = (
        "from pkg.big import Big\nfrom pkg.helpers import tidy\n\n\n"
        "def run(big: Big) -> None:\n    big.method_number_42(1)\n    \n"
    )
    with WorkspaceIndex(root, cache_dir=tmp_path / "cache") as index:
        index.index_all()
        result = assemble_context(index, "pkg/main.py", text, 6, 4, 400)
    big = next(item for item in result.items if item.name == "Big")
    assert big.source == "type:big" and big.tokens <= 200
    assert "def method_number_42(self, value: int) -> int:" in result.text  # used: kept
    assert "def method_number_59(" not in result.text
    assert "def tidy(text: str) -> str:" in result.text
    assert result.tokens <= 400


def test_imported_names_and_module_helpers_keep_their_header_lines(tmp_path: Path) -> None:
    """The header pass: big classes of values in scope and imported classes' members do not
    crowd out one header line for each imported name and each `mod.x` helper used."""
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    methods = "".join(
        f"    def method_number_{i}(self, value: int) -> int:\n        return value\n\n"
        for i in range(60)
    )
    (root / "pkg/big.py").write_text(f"class Big:\n{methods}\n\nclass Other:\n{methods}")
    helpers = "".join(
        f"def helper_number_{i}(text: str) -> str:\n    return text\n\n" for i in range(80)
    )
    (root / "pkg/helpers.py").write_text(helpers)
    (root / "pkg/tools.py").write_text("def tidy(text: str) -> str:\n    return text\n")
    (root / "pkg/__init__.py").write_text("")
    text = (
        "from pkg import helpers\nfrom pkg.big import Big, Other\nfrom pkg.tools import tidy\n"
        "\n\ndef first() -> None:\n    helpers.helper_number_77(tidy('x'))\n\n\n"
        "def run(big: Big, other: Other) -> None:\n"
        "    other.method_number_2(2)\n    big.method_number_1(1)\n    \n"
    )
    with WorkspaceIndex(root, cache_dir=tmp_path / "cache") as index:
        index.index_all()
        result = assemble_context(index, "pkg/main.py", text, 12, 4, 300)
    assert result.tokens <= 300
    assert "#   class Big:\n" in result.text
    assert "#   class Other:\n" in result.text
    assert "def helper_number_77(text: str) -> str:" in result.text  # used as `helpers.x`
    assert "def tidy(text: str) -> str:" in result.text
    assert "def method_number_1(self, value: int) -> int:" in result.text  # used near
    big = next(item for item in result.items if item.name == "Big")
    assert big.source == "type:big" and len(big.lines) > 1  # grown from its header line
