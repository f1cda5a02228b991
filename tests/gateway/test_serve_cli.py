"""`quill serve` as a user runs it: it prints the chat page's URL with the token, serves on
127.0.0.1, keeps the token in a 0600 file, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO_ROOT, clean_environment
from tests.quill_serve import quill_serve

from .conftest import make_workspace


def test_quill_serve_prints_its_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    workspace, _outside = make_workspace(tmp_path)
    env = clean_environment(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    (tmp_path / "run").mkdir(mode=0o700)
    proc = subprocess.Popen(
        [sys.executable, "-m", "quill.cli", "serve", "--port", "0", "--workspace", str(workspace)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("  token file:"):
                break
        out = "".join(lines)
        found = re.search(r"chat page:\s+(http://127\.0\.0\.1:(\d+))/\?token=(\S+)", out)
        assert found, out
        base, token = found.group(1), found.group(3)
        token_file = Path(out.split("token file:")[1].split()[0])
        assert token_file.is_relative_to(tmp_path / "run")
        assert token_file.read_text().strip() == token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/v1/models", headers=auth).status_code == 200
        assert httpx.get(f"{base}/v1/models").status_code == 401
        page = httpx.get(f"{base}/?token={token}", follow_redirects=True)
        assert page.status_code == 200 and "Quill chat" in page.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not token_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_quill_serve_uses_the_token_kept_in_its_token_file(tmp_path: Path) -> None:
    workspace, _outside = make_workspace(tmp_path)
    env = clean_environment(tmp_path)
    kept = tmp_path / "kept" / "quill.token"
    with quill_serve(workspace, env, tmp_path / "serve.log", token_file=kept) as served:
        assert served.token == kept.read_text().strip()
        assert httpx.get(f"{served.base}/v1/models", headers=served.auth).status_code == 200
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=30) == 0
    assert kept.exists()  # the user's file outlives the launch


def test_quill_serve_refuses_a_bad_port_and_workspace(tmp_path: Path) -> None:
    env = clean_environment(tmp_path)
    for args in (["--port", "70000"], ["--workspace", str(tmp_path / "missing")]):
        done = subprocess.run(
            [sys.executable, "-m", "quill.cli", "serve", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "quill:" in done.stderr
    assert os.environ.get("QUILL_CONFIG_FILE")  # the suite's isolation is in place
