"""A package under a source folder (``src/pkg``) imported from a folder beside it (tests/)."""

from __future__ import annotations

from pathlib import Path

from quill.context.assemble import assemble_context
from quill.context.imports import resolve_imports

from .helpers import project_index

FILES = {
    "src/pkg/__init__.py": "from .models import Model\n",
    "src/pkg/models.py": "class Model:\n    def save(self) -> None:\n        pass\n",
    "src/pkg/http.py": "def parse_header(value: str) -> dict[str, str]:\n    return {}\n",
    "scripts/tools.py": "def other() -> int:\n    return 2\n",
    "tests/test_http.py": (
        "import pkg\nfrom pkg import http\nimport tools\n\n\ndef test_parse():\n    \n"
    ),
}


def test_a_package_in_src_is_importable_from_tests(tmp_path: Path) -> None:
    with project_index(tmp_path, FILES) as index:
        imports = {i.local_name: i for i in resolve_imports(index, "tests/test_http.py")}
        assert (imports["pkg"].kind, imports["pkg"].module_path) == (
            "module",
            "src/pkg/__init__.py",
        )
        assert [d.name for d in imports["pkg"].definitions] == ["Model"]
        assert (imports["http"].kind, imports["http"].module_path) == ("module", "src/pkg/http.py")
        # A lone module in an unrelated folder is still not importable from here.
        assert imports["tools"].module_path is None
        text = (index.root / "tests/test_http.py").read_text()
        result = assemble_context(index, "tests/test_http.py", text, 6, 4, 512)
    assert "def parse_header(value: str) -> dict[str, str]:" in result.text
