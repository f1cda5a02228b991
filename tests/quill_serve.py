"""``quill serve`` as a subprocess for the tests: started with a kept token file, its stdout
read until it prints where it listens, stopped at the end of the block."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

START_TIMEOUT_S = 90.0
_PAGE = re.compile(r"chat page:\s+(http://127\.0\.0\.1:(\d+))/\?token=(\S+)")


@dataclass
class Serving:
    proc: subprocess.Popen[str]
    base: str  # http://127.0.0.1:PORT
    port: int
    token: str
    out: str  # what it printed on starting

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.contextmanager
def quill_serve(
    workspace: Path,
    env: dict[str, str],
    log: Path,
    *,
    token_file: Path | None = None,
    args: Sequence[str] = (),
) -> Iterator[Serving]:
    """Run ``quill serve --port 0`` on ``workspace`` (its stderr to ``log``) for the block."""
    command = [sys.executable, "-m", "quill.cli", "serve", "--port", "0"]
    command += ["--workspace", str(workspace), *args]
    if token_file is not None:
        command += ["--token-file", str(token_file)]
    with log.open("w") as err:
        proc = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert proc.stdout is not None
        out = ""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and "token file:" not in out:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        found = _PAGE.search(out)
        assert found, out + log.read_text(errors="replace")[-2000:]
        yield Serving(proc, found.group(1), int(found.group(2)), found.group(3), out)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
