"""Import resolution over a real index of the fixture projects (tree-sitter, SQLite)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from quill.context.imports import ImportResolver, ResolvedImport, resolve_imports
from quill.index.service import WorkspaceIndex

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "context"


def open_index(root: Path, cache: Path) -> WorkspaceIndex:
    index = WorkspaceIndex(root, cache_dir=cache)
    index.index_all()
    return index


@pytest.fixture(scope="module")
def py_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceIndex]:
    base = tmp_path_factory.mktemp("py")
    shutil.copytree(FIXTURES / "pyproj", base / "pyproj")
    with open_index(base / "pyproj", base / "cache") as index:
        yield index


@pytest.fixture(scope="module")
def ts_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceIndex]:
    base = tmp_path_factory.mktemp("ts")
    shutil.copytree(FIXTURES / "tsproj", base / "tsproj")
    with open_index(base / "tsproj", base / "cache") as index:
        yield index


def by_name(imports: list[ResolvedImport]) -> dict[str, ResolvedImport]:
    return {imp.local_name: imp for imp in imports}


def where(imp: ResolvedImport) -> list[tuple[str, str, str]]:
    return [(d.path, d.name, d.kind) for d in imp.definitions]


def test_python_import_kinds(py_index: WorkspaceIndex) -> None:
    imports = by_name(resolve_imports(py_index, "app/render/canvas.py"))

    # `from ..geometry import Layout`: a re-export through the package's __init__.
    layout = imports["Layout"]
    assert layout.kind == "name"
    assert where(layout) == [("app/geometry/layout.py", "Layout", "class")]

    # `from ..geometry.shapes import Rect, unit_square`: two dots, a module of a package.
    assert where(imports["Rect"]) == [("app/geometry/shapes.py", "Rect", "class")]
    assert where(imports["unit_square"]) == [("app/geometry/shapes.py", "unit_square", "function")]

    # `from app.text import wrap as wrap_text`: absolute, aliased, defined in an __init__.
    assert "wrap" not in imports
    assert where(imports["wrap_text"]) == [("app/text/__init__.py", "wrap", "function")]

    # `import app.text.style as style`: a module imported whole; private helpers left out.
    style = imports["style"]
    assert (style.kind, style.module_path) == ("module", "app/text/style.py")
    assert [d.name for d in style.definitions] == ["bold", "italic"]

    # `from app import utils` and `from . import palette`: submodules.
    assert (imports["utils"].kind, imports["utils"].module_path) == ("module", "app/utils.py")
    palette = imports["palette"]
    assert (palette.kind, palette.module_path) == ("module", "app/render/palette.py")
    assert {d.name for d in palette.definitions} == {"Brush", "Session", "open_session"}

    # `from .palette import Brush, Session, open_session`: one dot.
    assert where(imports["Session"]) == [("app/render/palette.py", "Session", "class")]


def test_python_modules_outside_the_workspace_and_missing_names(
    py_index: WorkspaceIndex, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="quill.context"):
        imports = by_name(resolve_imports(py_index, "app/render/canvas.py"))
    os_import = imports["os"]
    assert (os_import.kind, os_import.module_path, os_import.definitions) == ("module", None, [])
    missing = imports["nothing"]
    assert (missing.module_path, missing.definitions) == (None, [])
    assert any(".missing" in r.getMessage() for r in caplog.records)


def test_python_package_init_reexports_a_submodule(py_index: WorkspaceIndex) -> None:
    imports = by_name(resolve_imports(py_index, "app/__init__.py"))
    shapes = imports["shapes"]  # `from .geometry import shapes`
    assert (shapes.kind, shapes.module_path) == ("module", "app/geometry/shapes.py")
    assert [d.name for d in shapes.definitions] == ["Rect", "unit_square"]
    assert where(imports["Layout"]) == [("app/geometry/layout.py", "Layout", "class")]


def test_python_star_imports_bring_public_names(py_index: WorkspaceIndex) -> None:
    imports = resolve_imports(py_index, "app/star_user.py")
    assert imports and all(imp.star and imp.kind == "name" for imp in imports)
    names = {imp.local_name for imp in imports}
    # From shapes directly, and from the package (its own re-exports and its star import).
    assert {"Rect", "unit_square", "Layout", "BaseLayout", "make_layout"} <= names
    assert "_hidden_helper" not in names
    layout = next(imp for imp in imports if imp.local_name == "Layout")
    assert where(layout) == [("app/geometry/layout.py", "Layout", "class")]


def test_circular_imports_end_without_definitions(py_index: WorkspaceIndex) -> None:
    imports = by_name(resolve_imports(py_index, "app/cyc_a.py"))
    assert where(imports["b_func"]) == [("app/cyc_b.py", "b_func", "function")]
    # `ghost` is imported back and forth between the two modules and defined nowhere.
    assert imports["ghost"].definitions == []
    assert where(by_name(resolve_imports(py_index, "app/cyc_b.py"))["a_func"]) == [
        ("app/cyc_a.py", "a_func", "function")
    ]


def test_unparseable_file_still_resolves_what_it_can(py_index: WorkspaceIndex) -> None:
    imports = by_name(resolve_imports(py_index, "app/broken.py"))
    assert where(imports["clamp"]) == [("app/utils.py", "clamp", "function")]
    assert resolve_imports(py_index, "not/indexed.py") == []
    assert resolve_imports(py_index, "README.unknown-language") == []


def test_a_buffer_the_index_has_not_seen_uses_its_text(py_index: WorkspaceIndex) -> None:
    text = "from app.geometry import make_layout\n\nmake_layout()\n"
    imports = by_name(resolve_imports(py_index, "app/new_module.py", text=text))
    assert where(imports["make_layout"]) == [("app/geometry/layout.py", "make_layout", "function")]


def test_python_absolute_imports_from_a_source_folder(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    files = {
        "src/pkg/__init__.py": "",
        "src/pkg/models.py": "class Model:\n    def save(self) -> None:\n        pass\n",
        "tools/run.py": "from pkg.models import Model\nimport helpers\n",
        "tools/helpers.py": "def assist() -> int:\n    return 1\n",
        "scripts/helpers.py": "def other() -> int:\n    return 2\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with open_index(root, tmp_path / "cache") as index:
        imports = by_name(resolve_imports(index, "tools/run.py"))
    assert where(imports["Model"]) == [("src/pkg/models.py", "Model", "class")]
    # A lone module resolves next to the importing file, not in an unrelated folder.
    assert imports["helpers"].module_path == "tools/helpers.py"


def test_typescript_import_kinds(ts_index: WorkspaceIndex) -> None:
    imports = by_name(resolve_imports(ts_index, "src/app/main.ts"))

    # `import { Layout, clamp } from "../lib"`: index.ts, `export {..} from` and `export *`.
    assert where(imports["Layout"]) == [("src/lib/layout.ts", "Layout", "class")]
    assert where(imports["clamp"]) == [("src/lib/math.ts", "clamp", "function")]

    # `import { makeLayout as mk } from "@lib/layout"`: tsconfig paths (comments, commas).
    assert "makeLayout" not in imports
    assert where(imports["mk"]) == [("src/lib/layout.ts", "makeLayout", "function")]

    # `import Widget from "../lib/widget"`: the default export of a .tsx file.
    assert where(imports["Widget"]) == [("src/lib/widget.tsx", "Widget", "class")]

    # `import * as math from "@lib/math"`: a namespace.
    math = imports["math"]
    assert (math.kind, math.module_path) == ("module", "src/lib/math.ts")
    assert [d.name for d in math.definitions] == ["clamp", "lerp"]

    # `const strings = require("../util/strings")`: a CommonJS module.
    strings = imports["strings"]
    assert (strings.kind, strings.module_path) == ("module", "src/util/strings.js")
    assert [d.name for d in strings.definitions] == ["pad", "shout"]

    # A package from node_modules is outside the workspace.
    assert (imports["debounce"].module_path, imports["debounce"].definitions) == (None, [])


def test_typescript_base_url_and_js_extension(tmp_path: Path) -> None:
    root = tmp_path / "web"
    files = {
        "jsconfig.json": '{"compilerOptions": {"baseUrl": "lib"}}',
        "lib/shapes/index.js": "export function area(w, h) {\n  return w * h;\n}\n",
        "lib/util.ts": "export const TAU = 6.28;\nexport function twice(x: number): number {\n"
        "  return 2 * x;\n}\n",
        "app.js": 'import { area } from "shapes";\nimport { twice } from "./lib/util.js";\n',
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with open_index(root, tmp_path / "cache") as index:
        imports = by_name(resolve_imports(index, "app.js"))
    assert where(imports["area"]) == [("lib/shapes/index.js", "area", "function")]
    assert where(imports["twice"]) == [("lib/util.ts", "twice", "function")]


def test_go_package_import(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "goproj", tmp_path / "goproj")
    with open_index(tmp_path / "goproj", tmp_path / "cache") as index:
        imports = by_name(resolve_imports(index, "main.go"))
    geom = imports["g"]
    assert (geom.kind, geom.module_path) == ("module", "geom")
    assert [d.name for d in geom.definitions] == ["Point", "NewPoint"]  # exported only
    assert imports["fmt"].module_path is None


# ---------------------------------------------------------------------- open editor buffers


def write_project(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def buffers(
    open_files: dict[str, str], asked: list[str] | None = None
) -> Callable[[str], str | None]:
    """A ``read_text`` over the given open buffers (workspace-relative path → text)."""

    def read_text(rel: str) -> str | None:
        if asked is not None:
            asked.append(rel)
        return open_files.get(rel)

    return read_text


def test_an_open_init_buffer_is_read_before_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_project(
        root,
        {
            "pkg/__init__.py": "from .a import alpha\n",
            "pkg/a.py": "def alpha() -> int:\n    return 1\n",
            "pkg/b.py": "def beta() -> int:\n    return 2\n",
            "main.py": "from pkg import alpha, beta\nimport pkg\n",
        },
    )
    edited = "from .b import beta\n"  # unsaved: the package now re-exports beta instead
    with open_index(root, tmp_path / "cache") as index:
        on_disk = by_name(ImportResolver(index).resolve_file("main.py"))
        asked: list[str] = []
        resolver = ImportResolver(index, read_text=buffers({"pkg/__init__.py": edited}, asked))
        in_buffer = by_name(resolver.resolve_file("main.py"))

    assert where(on_disk["alpha"]) == [("pkg/a.py", "alpha", "function")]
    assert on_disk["beta"].definitions == []
    assert [d.name for d in on_disk["pkg"].definitions] == ["alpha"]

    assert in_buffer["alpha"].definitions == []
    assert where(in_buffer["beta"]) == [("pkg/b.py", "beta", "function")]
    assert [d.name for d in in_buffer["pkg"].definitions] == ["beta"]
    assert "pkg/__init__.py" in asked


def test_an_open_buffer_equal_to_the_disk_and_closed_files_read_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    files = {
        "pkg/__init__.py": "from .a import alpha\n",
        "pkg/a.py": "def alpha() -> int:\n    return 1\n",
        "main.py": "from pkg import alpha\n",
    }
    write_project(root, files)

    def no_parse(*args: object) -> None:
        raise AssertionError("an unmodified buffer is parsed again")

    with open_index(root, tmp_path / "cache") as index:
        monkeypatch.setattr("quill.context.imports_workspace.extract_raw", no_parse)
        resolver = ImportResolver(index, read_text=buffers({"pkg/a.py": files["pkg/a.py"]}))
        imports = by_name(resolver.resolve_file("main.py"))
        assert resolver.text_of("pkg/__init__.py") == files["pkg/__init__.py"]
    assert where(imports["alpha"]) == [("pkg/a.py", "alpha", "function")]


def test_the_text_passed_for_the_resolved_file_wins_over_its_buffer(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_project(
        root,
        {
            "lib.ts": "export default class Thing {}\n",
            "app.ts": 'import Widget from "./lib";\n',
        },
    )
    with open_index(root, tmp_path / "cache") as index:
        resolver = ImportResolver(index, read_text=buffers({"app.ts": "// stale\n"}))
        imports = by_name(resolver.resolve_file("app.ts", text='import Widget from "./lib";\n'))
    # A default import, as the passed text says (read as the buffer, it would be a named one).
    assert where(imports["Widget"]) == [("lib.ts", "Thing", "class")]


def test_tsconfig_and_barrel_buffers_are_read_before_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "web"
    write_project(
        root,
        {
            "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": {"@x/*": ["old/*"]}}}',
            "old/util.ts": "export function oldHelper(): void {}\n",
            "new/util.ts": "export function newHelper(): void {}\n",
            "lib/a.ts": "export function fromA(): void {}\n",
            "lib/b.ts": "export function fromB(): void {}\n",
            "lib/index.ts": 'export * from "./a";\n',
            "app.ts": 'import { newHelper } from "@x/util";\nimport { fromB } from "./lib";\n',
        },
    )
    open_files = {
        "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": {"@x/*": ["new/*"]}}}',
        "lib/index.ts": 'export * from "./a";\nexport * from "./b";\n',
    }
    with open_index(root, tmp_path / "cache") as index:
        on_disk = by_name(resolve_imports(index, "app.ts"))
        in_buffer = by_name(resolve_imports(index, "app.ts", read_text=buffers(open_files)))
    assert on_disk["newHelper"].module_path == "old/util.ts"
    assert on_disk["newHelper"].definitions == []
    assert on_disk["fromB"].definitions == []
    assert where(in_buffer["newHelper"]) == [("new/util.ts", "newHelper", "function")]
    assert where(in_buffer["fromB"]) == [("lib/b.ts", "fromB", "function")]


def test_a_go_mod_buffer_is_read_before_the_disk(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "goproj", tmp_path / "goproj")
    renamed = "module example.com/renamed\n\ngo 1.22\n"
    with open_index(tmp_path / "goproj", tmp_path / "cache") as index:
        imports = by_name(resolve_imports(index, "main.go", read_text=buffers({"go.mod": renamed})))
    # main.go imports example.com/shapes/geom, which the edited go.mod no longer declares.
    assert imports["g"].module_path is None
