"""The wheel carries what Quill reads at run time: tags queries and prompt templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_grammars_and_prompts(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("quill_lsp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"):
        assert f"quill/grammars/{language}/tags.scm" in names
    assert "quill/grammars/languages.toml" in names
    assert "quill/prompts/completion/hole_filler_examples.toml" in names
    assert "quill/prompts/fim/qwen.toml" in names
    assert "quill/cli.py" in names
    assert not any(name.startswith(("tests/", "server/")) for name in names)
