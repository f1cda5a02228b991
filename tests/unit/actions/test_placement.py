"""Where a generated test goes: synthetic workspaces (paths plus file texts) per convention."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from quill.actions.placement import TestFilePlan, plan_test_file


def plan(source: str, language: str, files: Mapping[str, str] | list[str]) -> TestFilePlan:
    texts = dict(files) if isinstance(files, Mapping) else dict.fromkeys(files, "")
    texts.setdefault(source, "")
    return plan_test_file(source, language, list(texts), read_text=texts.get)


PYTEST_TEST = (
    "import pytest\n\nfrom app.core import thing\n\n\ndef test_thing():\n    assert thing\n"
)


# ---------------------------------------------------------------------------- Python


def test_python_src_layout_flat_tests_folder() -> None:
    files = {
        "pyproject.toml": "[tool.pytest.ini_options]\n",
        "src/app/__init__.py": "",
        "src/app/core.py": "",
        "src/app/geometry/__init__.py": "",
        "src/app/geometry/layout.py": "",
        "tests/test_core.py": PYTEST_TEST,
        "tests/conftest.py": "",
    }
    p = plan("src/app/geometry/layout.py", "python", files)
    assert p == TestFilePlan(
        "tests/test_layout.py", False, "pytest", "app.geometry.layout", "import pytest\n"
    )


def test_python_mirrored_tests_folder_with_and_without_the_top_package() -> None:
    files = {
        "app/__init__.py": "",
        "app/core.py": "",
        "app/db/__init__.py": "",
        "app/db/models.py": "",
        "app/geometry/__init__.py": "",
        "app/geometry/layout.py": "",
        "tests/app/db/test_models.py": PYTEST_TEST,
    }
    p = plan("app/geometry/layout.py", "python", files)
    assert (p.path, p.module, p.exists) == (
        "tests/app/geometry/test_layout.py",
        "app.geometry.layout",
        False,
    )
    # this repository's own shape: tests/unit/<subpackage>/test_x.py, top package left out
    files = {
        "server/quill/__init__.py": "",
        "server/quill/config.py": "",
        "server/quill/index/__init__.py": "",
        "server/quill/index/store.py": "",
        "server/quill/actions/__init__.py": "",
        "server/quill/actions/placement.py": "",
        "tests/unit/test_config.py": PYTEST_TEST,
        "tests/unit/index/test_store.py": PYTEST_TEST,
        "tests/unit/index/__init__.py": "",
    }
    p = plan("server/quill/actions/placement.py", "python", files)
    assert (p.path, p.module) == ("tests/unit/actions/test_placement.py", "quill.actions.placement")


def test_python_existing_test_file_is_appended_to() -> None:
    files = {
        "app/__init__.py": "",
        "app/core.py": "",
        "tests/test_core.py": PYTEST_TEST,
    }
    p = plan("app/core.py", "python", files)
    assert (p.path, p.exists, p.header, p.module) == ("tests/test_core.py", True, "", "app.core")
    # an existing test of the module elsewhere in the tests folder is found by its name
    files = {"app/__init__.py": "", "app/util/__init__.py": "", "app/util/text.py": ""}
    files |= {"tests/test_other.py": PYTEST_TEST, "tests/legacy/test_text.py": PYTEST_TEST}
    assert plan("app/util/text.py", "python", files).path == "tests/legacy/test_text.py"


def test_python_unittest_style_and_tests_beside_the_code_with_relative_imports() -> None:
    unit = (
        "import unittest\n\nfrom .core import thing\n\n\nclass CoreTest(unittest.TestCase): ...\n"
    )
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": "",
        "pkg/test_core.py": unit,
        "pkg/shapes/__init__.py": "",
        "pkg/shapes/circle.py": "",
    }
    p = plan("pkg/shapes/circle.py", "python", files)
    assert p == TestFilePlan(
        "pkg/shapes/test_circle.py", False, "unittest", ".circle", "import unittest\n"
    )
    # tests in a package of their own inside the code, importing relatively
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": "",
        "pkg/shapes/__init__.py": "",
        "pkg/shapes/circle.py": "",
        "pkg/tests/__init__.py": "",
        "pkg/tests/test_core.py": "from ..core import thing\n\n\ndef test_x():\n    pass\n",
    }
    p = plan("pkg/shapes/circle.py", "python", files)
    assert (p.path, p.framework, p.module) == (
        "pkg/tests/test_circle.py",
        "pytest",
        "..shapes.circle",
    )


def test_python_defaults_without_tests_and_unittest_in_a_pytest_runner() -> None:
    p = plan("tool.py", "python", ["tool.py", "README.md"])
    assert p == TestFilePlan("tests/test_tool.py", False, "pytest", "tool", "import pytest\n")
    # a project with a src/ layout and no tests: tests/ goes next to src/
    p = plan("proj/src/lib/mod.py", "python", ["proj/src/lib/__init__.py", "proj/src/lib/mod.py"])
    assert (p.path, p.module) == ("proj/tests/test_mod.py", "lib.mod")
    # `from unittest import mock` does not make a pytest project unittest-style
    files = {
        "a/__init__.py": "",
        "a/b.py": "",
        "tests/test_a.py": "from unittest import mock\n\ndef test_a():\n    pass\n",
    }
    assert plan("a/b.py", "python", files).framework == "pytest"


def test_python_suffix_naming_and_src_prefixed_imports() -> None:
    files = {
        "src/app/__init__.py": "",
        "src/app/core.py": "",
        "src/app/io.py": "",
        "tests/core_test.py": "from src.app.core import thing\n\ndef test_x():\n    pass\n",
    }
    p = plan("src/app/io.py", "python", files)
    assert (p.path, p.module) == ("tests/io_test.py", "src.app.io")


def test_python_never_overwrites_a_non_test_file() -> None:
    files = {
        "app/__init__.py": "",
        "app/core.py": "",
        "tests/test_core.py": "not a test, but a name",
    }
    # a test-named file is a test file: it is appended to
    assert plan("app/core.py", "python", files).exists
    # the source file itself is a test: it is the test file
    p = plan("tests/test_core.py", "python", files)
    assert (p.path, p.exists) == ("tests/test_core.py", True)


def test_paths_outside_the_workspace_are_refused() -> None:
    with pytest.raises(ValueError):
        plan_test_file("../elsewhere/x.py", "python", [], read_text=lambda _: None)
    with pytest.raises(ValueError):
        plan_test_file("/etc/x.py", "python", [], read_text=lambda _: None)
    # stray outside paths in the workspace list are ignored
    p = plan_test_file("a.py", "python", ["../x/tests/test_a.py", "a.py"], read_text=lambda _: "")
    assert p.path == "tests/test_a.py"


# ---------------------------------------------------------------------------- JS / TS


def test_vitest_beside_the_file_with_the_spec_naming() -> None:
    files = {
        "package.json": '{"devDependencies": {"vitest": "^1.0.0", "typescript": "5"}}',
        "src/util.ts": "",
        "src/math.ts": "",
        "src/math.spec.ts": "import { describe, it, expect } from 'vitest';\n",
    }
    p = plan("src/util.ts", "typescript", files)
    header = "import { describe, expect, it } from 'vitest';\n"
    assert p == TestFilePlan("src/util.spec.ts", False, "vitest", "./util", header)


def test_vitest_with_globals_needs_no_import() -> None:
    files = {
        "package.json": '{"devDependencies": {"vitest": "1"}}',
        "src/a.ts": "",
        "src/b.ts": "",
        "src/b.test.ts": "describe('b', () => { it('works', () => {}) })\n",
    }
    assert plan("src/a.ts", "typescript", files).header == ""


def test_jest_under_dunder_tests_and_tsx() -> None:
    files = {
        "package.json": '{"devDependencies": {"jest": "29", "ts-jest": "29"}}',
        "src/components/Button.tsx": "",
        "src/components/Card.tsx": "",
        "src/components/__tests__/Card.test.tsx": "test('x', () => {})\n",
    }
    p = plan("src/components/Button.tsx", "typescriptreact", files)
    assert p == TestFilePlan(
        "src/components/__tests__/Button.test.tsx", False, "jest", "../Button", ""
    )


def test_js_default_is_beside_with_test_naming_and_an_existing_file() -> None:
    files = {
        "package.json": '{"scripts": {"test": "jest"}}',
        "lib/util.js": "",
        "lib/util.test.js": "",
    }
    p = plan("lib/util.js", "javascript", files)
    assert (p.path, p.exists, p.framework, p.module) == ("lib/util.test.js", True, "jest", "./util")
    p = plan("index.jsx", "javascriptreact", ["index.jsx"])
    assert (p.path, p.framework, p.module, p.header) == ("index.test.jsx", "unknown", "./index", "")


def test_mocha_tests_folder_mirrors_src_and_requires_chai() -> None:
    files = {
        "package.json": '{"devDependencies": {"mocha": "10", "chai": "4"}}',
        "src/util.js": "",
        "src/db/query.js": "",
        "src/db/pool.js": "",
        "test/db/pool.test.js": "const { expect } = require('chai');\n",
    }
    p = plan("src/db/query.js", "javascript", files)
    header = "const { expect } = require('chai');\n"
    assert p == TestFilePlan("test/db/query.test.js", False, "mocha", "../../src/db/query", header)


def test_monorepo_uses_the_nearest_package_json() -> None:
    files = {
        "package.json": '{"devDependencies": {"jest": "29"}}',
        "packages/web/package.json": '{"devDependencies": {"vitest": "1"}}',
        "packages/web/src/app.ts": "",
    }
    assert plan("packages/web/src/app.ts", "typescript", files).framework == "vitest"
    files["packages/api/src/server.ts"] = ""
    assert plan("packages/api/src/server.ts", "typescript", files).framework == "jest"


# ---------------------------------------------------------------------------- Go, Rust, Java


def test_go_same_package_next_to_the_file() -> None:
    files = {
        "go.mod": "module example.com/shop\n",
        "cart/cart.go": "package cart\n\nfunc Total() {}\n",
    }
    p = plan("cart/cart.go", "go", files)
    assert p == TestFilePlan(
        "cart/cart_test.go", False, "go", "cart", 'package cart\n\nimport "testing"\n'
    )
    # an existing external test package imports the package by its path
    files["cart/cart_test.go"] = "package cart_test\n"
    p = plan("cart/cart.go", "go", files)
    assert (p.exists, p.module, p.header) == (True, "example.com/shop/cart", "")


def test_rust_in_file_tests_module() -> None:
    files = {
        "Cargo.toml": '[package]\nname = "geo-kit"\n',
        "src/lib.rs": "",
        "src/shape.rs": "pub fn area() {}\n",
    }
    p = plan("src/shape.rs", "rust", files)
    assert (p.path, p.exists, p.framework, p.module) == ("src/shape.rs", True, "cargo", "super")
    assert p.header == "\n#[cfg(test)]\nmod tests {\n    use super::*;\n" and p.footer == "}\n"
    files["src/shape.rs"] = "pub fn area() {}\n\n#[cfg(test)]\nmod tests {\n}\n"
    p = plan("src/shape.rs", "rust", files)
    assert (p.header, p.footer) == ("", "")


def test_rust_integration_tests_folder() -> None:
    files = {
        "Cargo.toml": '[package]\nname = "geo-kit"\n',
        "src/lib.rs": "",
        "src/shapes/mod.rs": "",
        "src/shapes/circle.rs": "",
        "tests/smoke.rs": "",
    }
    p = plan("src/shapes/circle.rs", "rust", files)
    assert p == TestFilePlan("tests/circle.rs", False, "cargo", "geo_kit::shapes::circle", "")
    assert plan("src/shapes/mod.rs", "rust", files).path == "tests/shapes.rs"
    # a binary's main.rs keeps in-file tests
    files["src/main.rs"] = ""
    assert plan("src/main.rs", "rust", files).path == "src/main.rs"


def test_java_mirrors_main_to_test() -> None:
    source = "src/main/java/com/acme/geo/Layout.java"
    files = {
        "pom.xml": "<artifactId>junit-jupiter</artifactId>",
        source: "package com.acme.geo;\n\nclass Layout {}\n",
    }
    p = plan(source, "java", files)
    assert p.path == "src/test/java/com/acme/geo/LayoutTest.java"
    assert (p.exists, p.framework, p.module) == (False, "junit", "com.acme.geo.Layout")
    assert p.header == (
        "package com.acme.geo;\n\nimport org.junit.jupiter.api.Test;\n\n"
        "import static org.junit.jupiter.api.Assertions.*;\n"
    )
    files["pom.xml"] = (
        "<dependency><groupId>junit</groupId><artifactId>junit</artifactId></dependency>"
    )
    assert "import org.junit.Test;" in plan(source, "java", files).header
    # a module of a multi-module build
    p = plan("core/src/main/java/Util.java", "java", ["core/src/main/java/Util.java"])
    assert (p.path, p.module) == ("core/src/test/java/UtilTest.java", "Util")


def test_a_tests_folder_without_tests_yet_and_unknown_languages() -> None:
    files = ["pyproject.toml", "lib/__init__.py", "lib/core.py", "tests/conftest.py"]
    assert plan("lib/core.py", "python", files).path == "tests/test_core.py"
    p = plan("src/x.c", "c", ["src/x.c"])
    assert (p.path, p.framework, p.module, p.header) == ("src/x_test.c", "unknown", "", "")


def test_language_ids_and_extensions_both_name_the_language() -> None:
    files = {"go.mod": "module m\n", "x/x.go": "package x\n"}
    assert plan("x/x.go", "golang", files).framework == "go"
    assert plan("x/x.go", "", files).framework == "go"  # from the extension
