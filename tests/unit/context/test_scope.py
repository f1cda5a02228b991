"""Scope and type inference at a cursor, on the fixture projects (real tree-sitter, real index)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.context.scope import (
    ScopeInfo,
    annotation_types,
    element_annotation,
    infer_scope,
    return_annotation,
    trees_of,
)
from quill.index.live import LiveDocuments
from quill.index.service import WorkspaceIndex
from quill.index.trees import TreeCache

from .helpers import CANVAS, index_copy


@pytest.fixture(scope="module")
def py_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceIndex]:
    with index_copy("pyproj", tmp_path_factory.mktemp("scope-py")) as index:
        yield index


def line_of(text: str, needle: str) -> int:
    """0-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.split("\n")):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def canvas(index: WorkspaceIndex) -> str:
    return (index.root / CANVAS).read_text()


def scope_at(index: WorkspaceIndex, rel: str, text: str, line: int, col: int) -> ScopeInfo:
    return infer_scope(index, rel, text, None, line, col)


def paths(info: ScopeInfo, type_name: str) -> list[str]:
    return [d.path for d in info.types.get(type_name, [])]


def test_self_and_its_attributes_on_an_empty_line_in_a_method(py_index: WorkspaceIndex) -> None:
    text = canvas(py_index)
    empty = line_of(text, "self.layout.update_dimensions") + 1
    assert text.split("\n")[empty] == ""
    info = scope_at(py_index, CANVAS, text, empty, 8)
    assert (info.enclosing_class, info.enclosing_function, info.self_name) == (
        "Canvas",
        "resize",
        "self",
    )
    assert info.variables["self"] == ("Canvas",)
    # `self.layout = layout` where `layout: Layout` is a parameter of __init__.
    assert info.variables["self.layout"] == ("Layout",)
    assert paths(info, "Layout") == ["app/geometry/layout.py"]
    assert info.origins["self.layout"] == "attribute"
    # `self.frame = Rect(...)` and `self.brush: Brush = Brush()`.
    assert info.variables["self.frame"] == ("Rect",)
    assert info.variables["self.brush"] == ("Brush",)
    assert paths(info, "Brush") == ["app/render/palette.py"]
    assert "self.title" not in info.variables  # a str: nothing to show
    # Parameters annotated with builtins say nothing.
    assert "width" not in info.variables


def test_parameters_locals_with_and_for(py_index: WorkspaceIndex) -> None:
    text = canvas(py_index)
    line = line_of(text, "print(style.bold")
    info = scope_at(py_index, CANVAS, text, line, 8)
    assert info.enclosing_function == "draw"
    expected = {
        "shapes": ("Rect",),  # `shapes: list[Rect]`
        "pen": ("Brush",),  # `pen: "Brush | None" = None`
        "square": ("Rect",),  # `unit_square()` declares `-> Rect`
        "page": ("Layout",),  # `make_layout(10)` declares `-> Layout`
        "session": ("Session",),  # `with Session() as session`
        "shape": ("Rect",),  # `for shape in shapes`
        "other": ("Session",),  # `open_session("x")` declares `-> Session`
    }
    for name, types in expected.items():
        assert info.variables.get(name) == types, name
    assert info.origins["shapes"] == "parameter"
    assert info.origins["page"] == "local"
    order = list(info.variables)
    assert order.index("self") < order.index("self.layout") < order.index("shapes")
    assert order.index("shapes") < order.index("square") < order.index("other")


def test_locals_are_bound_only_after_their_statement(py_index: WorkspaceIndex) -> None:
    text = canvas(py_index)
    line = line_of(text, "page = make_layout(10)")
    info = scope_at(py_index, CANVAS, text, line, 8)
    assert "square" in info.variables
    assert "page" not in info.variables and "session" not in info.variables


def test_an_editor_buffer_differs_from_the_disk(py_index: WorkspaceIndex) -> None:
    text = canvas(py_index).replace(
        "        square = unit_square()\n",
        "        square = unit_square()\n"
        "        scaled = self.frame.scale(2.0)\n"
        "        fresh = Layout(1, 2)\n"
        "        helper: Helper = Helper()\n"
        "        \n",
    )
    text += "\n\nclass Helper:\n    def go(self) -> None:\n        pass\n"
    line = line_of(text, "        helper: Helper") + 1
    info = scope_at(py_index, CANVAS, text, line, 8)
    assert info.variables["fresh"] == ("Layout",)
    assert info.variables["scaled"] == ("Rect",)  # `def scale(...) -> "Rect"` in the index
    assert info.variables["helper"] == ("Helper",)
    assert "Helper" not in info.types  # defined in this buffer only, not in the workspace


def test_class_body_and_module_level(py_index: WorkspaceIndex) -> None:
    text = canvas(py_index)
    between = line_of(text, "def resize") - 1  # the blank line between two methods
    info = scope_at(py_index, CANVAS, text, between, 4)
    assert info.enclosing_class == "Canvas" and info.enclosing_function is None
    assert info.self_name is None and "self" not in info.variables
    top = scope_at(py_index, CANVAS, text, line_of(text, "class Canvas") - 1, 0)
    assert top.enclosing_class is None and top.enclosing_function is None
    # Past the last line, indented: still inside the last method.
    end = scope_at(py_index, CANVAS, text + "\n", len(text.split("\n")), 8)
    assert end.enclosing_function == "draw"


def test_workspace_bases_of_the_enclosing_class(py_index: WorkspaceIndex) -> None:
    text = (
        "from app.geometry import Layout\n\n\n"
        "class Fancy(Layout):\n"
        "    def paint(self, scale: float) -> None:\n"
        "        pass\n"
    )
    info = scope_at(py_index, "app/fancy.py", text, 5, 8)
    assert info.enclosing_class == "Fancy" and info.class_bases == ("Layout",)
    assert paths(info, "Layout") == ["app/geometry/layout.py"]


def test_unparseable_and_unsupported_give_empty_results(py_index: WorkspaceIndex) -> None:
    broken = (py_index.root / "app/broken.py").read_text()
    for line in range(len(broken.split("\n")) + 2):
        for col in (0, 4, 100):
            info = scope_at(py_index, "app/broken.py", broken, line, col)
            assert isinstance(info, ScopeInfo)
    garbage = "def f(:\n    x = = Foo(\n  self.y = \n\x00\n"
    assert isinstance(scope_at(py_index, "app/garbage.py", garbage, 1, 4), ScopeInfo)
    for rel, text in (("main.rs", "fn main() {\n    let x = 1;\n}\n"), ("a.c", "int x;\n")):
        info = scope_at(py_index, rel, text, 1, 4)
        assert info.variables == {} and info.enclosing_class is None
    assert scope_at(py_index, "notes.txt", "hello\n", 0, 0).variables == {}
    assert scope_at(py_index, CANVAS, "", 0, 0).variables == {}


def test_missing_types_are_best_effort(py_index: WorkspaceIndex) -> None:
    text = (
        "from nowhere import Thing\n\n\n"
        "def run(a: Thing, b: 'Unknown[int]') -> None:\n"
        "    c = Thing()\n"
        "    d = mystery()\n"
        "    \n"
    )
    info = scope_at(py_index, "app/missing.py", text, 6, 4)
    assert info.variables["a"] == ("Thing",) and info.variables["c"] == ("Thing",)
    assert info.variables["b"] == ("Unknown",)
    assert "d" not in info.variables
    assert info.types == {}


def test_typescript_scope(tmp_path: Path) -> None:
    with index_copy("tsproj", tmp_path) as index:
        rel = "src/app/main.ts"
        text = (index.root / rel).read_text()
        inside_loop = line_of(text, "item.area();") + 1
        info = infer_scope(index, rel, text, "typescript", inside_loop, 6)
        assert (info.enclosing_class, info.enclosing_function, info.self_name) == (
            "App",
            "run",
            "this",
        )
        assert info.variables["this"] == ("App",)
        assert info.variables["this.layout"] == ("Layout",)  # `private layout: Layout;`
        assert info.variables["this.widget"] == ("Widget",)  # constructor parameter property
        assert info.variables["items"] == ("Layout",)  # `items: Layout[]`
        assert info.variables["first"] == ("Layout",)  # `mk(4)`: makeLayout(): Layout
        assert info.variables["second"] == ("Layout",)  # `let second: Layout`
        assert info.variables["item"] == ("Layout",)  # `for (const item of items)`
        assert [d.path for d in info.types["Layout"]] == ["src/lib/layout.ts"]
        assert [d.path for d in info.types["Widget"]] == ["src/lib/widget.tsx"]
        after_loop = line_of(text, "this.layout.updateDimensions")
        later = infer_scope(index, rel, text, "typescript", after_loop, 4)
        assert "item" not in later.variables  # block scoped
        assert later.variables["first"] == ("Layout",)


def test_javascript_this_assignments(tmp_path: Path) -> None:
    with index_copy("tsproj", tmp_path) as index:
        text = (
            'const { Layout } = require("./src/lib/layout");\n'
            "class Page {\n"
            "  constructor() {\n"
            "    this.layout = new Layout(1, 2);\n"
            "  }\n"
            "  draw() {\n"
            "    \n"
            "  }\n"
            "}\n"
        )
        info = infer_scope(index, "page.js", text, "javascript", 6, 4)
        assert info.variables["this.layout"] == ("Layout",)
        assert [d.path for d in info.types["Layout"]] == ["src/lib/layout.ts"]


def test_go_receiver_fields_params_and_locals(tmp_path: Path) -> None:
    with index_copy("goproj", tmp_path) as index:
        text = (index.root / "main.go").read_text()
        line = line_of(text, "q := g.NewPoint") + 1
        info = infer_scope(index, "main.go", text, "go", line, 1)
        assert (info.enclosing_class, info.enclosing_function, info.self_name) == (
            "Server",
            "Handle",
            "s",
        )
        assert info.variables["s"] == ("Server",)
        assert info.variables["s.origin"] == ("Point",)  # `origin *g.Point`
        assert info.variables["p"] == ("Point",)
        assert info.variables["q"] == ("Point",)  # `func NewPoint(x, y int) *Point`
        assert [d.path for d in info.types["Point"]] == ["geom/geom.go"]


def test_annotation_helpers() -> None:
    assert annotation_types("Optional[Foo]") == ("Foo",)
    assert annotation_types('"Brush | None"') == ("Brush",)
    assert annotation_types("dict[str, list[mod.Item]]") == ("mod.Item",)
    assert annotation_types("Promise<Res>", "typescript") == ("Res",)
    assert annotation_types("*g.Point", "go") == ("g.Point",)
    assert annotation_types("T") == ()
    assert element_annotation("list[Rect]", "python") == "Rect"
    assert element_annotation('Sequence["Rect"] | None', "python") == '"Rect"'
    assert element_annotation("Item[]", "typescript") == "Item"
    assert element_annotation("Array<Item>", "typescript") == "Item"
    assert element_annotation("[]*Point", "go") == "*Point"
    assert element_annotation("Rect", "python") is None
    assert return_annotation("def f(a: int = g(1)) -> Foo:", "f", "python") == "Foo"
    assert return_annotation("export function f(a: number): Foo {", "f", "typescript") == "Foo"
    assert return_annotation("func (p *P) New(x int) (*Foo, error) {", "New", "go") == "*Foo"
    assert return_annotation("def f(", "f", "python") is None


def test_return_annotation_of_a_header_broken_over_lines(py_index: WorkspaceIndex) -> None:
    text = (
        "from app.geometry.layout import build_layout\n\n\n"
        "def main() -> None:\n"
        "    built = build_layout(\n"
        "        3, 4\n"
        "    )\n"
        "    \n"
    )
    info = scope_at(py_index, "app/main.py", text, 7, 4)
    assert info.variables["built"] == ("Layout",)
    assert paths(info, "Layout") == ["app/geometry/layout.py"]


def test_buffers_are_parsed_through_one_tree_cache(py_index: WorkspaceIndex) -> None:
    """Scope inference parses through the tree cache it is given (by default the index's,
    the one its live documents use): the next version of a buffer is parsed incrementally,
    and a text the index already parsed is not parsed again."""
    assert trees_of(py_index) is trees_of(py_index)
    text = canvas(py_index)
    line = line_of(text, "self.layout.update_dimensions") + 1
    trees = TreeCache()
    first = infer_scope(py_index, CANVAS, text, None, line, 8, trees=trees)
    assert CANVAS in trees and (trees.full_parses, trees.incremental_parses) == (1, 0)
    edited = text.replace("        square = unit_square()\n", "        sq = unit_square()\n", 1)
    again = infer_scope(py_index, CANVAS, edited, None, line, 8, trees=trees)
    assert (trees.full_parses, trees.incremental_parses) == (1, 1)
    assert again.variables == infer_scope(py_index, CANVAS, edited, None, line, 8).variables
    assert first.variables["self.layout"] == again.variables["self.layout"] == ("Layout",)
    live = LiveDocuments(trees=trees)  # the index's re-tagging, sharing the cache
    assert live.update(CANVAS, "python", (edited + "\n").encode()) is not None
    parses = trees.incremental_parses
    infer_scope(py_index, CANVAS, edited + "\n", None, line, 8, trees=trees)
    assert trees.incremental_parses == parses
