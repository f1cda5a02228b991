"""The direction of the arrows (docs/architecture.md), checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "server" / "quill"

#: Each module's layer; a module may import from its own layer and the layers below.
LAYERS = {
    # the bottom: data, models, safety, settings, the index; no transport, no features
    "config": 0,
    "settings_sources": 0,
    "settings_doc": 0,
    "stats": 0,
    "tasks": 0,
    "prompts": 0,
    "safety": 0,
    "models": 0,
    "index": 0,
    # what the model sees
    "context": 1,
    # the features, transport-free
    "completion": 2,
    "actions": 2,
    "chat": 2,
    # the one app object, and its status
    "app": 3,
    "status": 3,
    # the front doors
    "lsp": 4,
    "gateway": 4,
    # the command line and the benchmarks (which drive the front doors)
    "cli": 5,
    "bench": 5,
}
TRANSPORT = ("pygls", "lsprotocol", "fastapi", "starlette", "uvicorn", "websockets")
FRONT_DOORS = {"lsp", "gateway", "cli", "bench"}


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = rel.parts
        if parts == ("__init__",):
            continue
        found.append((parts[0], path))
    return found


def test_every_module_has_a_layer() -> None:
    unknown = {part for part, _ in _modules()} - set(LAYERS)
    assert not unknown, f"add {sorted(unknown)} to LAYERS and to docs/architecture.md"


def test_imports_point_down() -> None:
    wrong: list[str] = []
    for part, path in _modules():
        for name in _imports(path):
            if not name.startswith("quill."):
                continue
            target = _part(name)
            if target in LAYERS and LAYERS[target] > LAYERS[part]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, "imports against the arrows:\n" + "\n".join(wrong)


def test_no_transport_below_the_front_doors() -> None:
    wrong: list[str] = []
    for part, path in _modules():
        if part in FRONT_DOORS:
            continue
        for name in _imports(path):
            if name.split(".")[0] in TRANSPORT:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, "transport types below the front doors:\n" + "\n".join(wrong)


def test_the_map_names_every_layer() -> None:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [part for part in LAYERS if f"`{part}" not in text]
    assert not missing, f"docs/architecture.md does not mention {missing}"
