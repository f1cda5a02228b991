"""A real OpenAI-compatible server for the tests: ``python -m llama_cpp.server`` serving a GGUF
file on 127.0.0.1 (the model alias ``smollm2``), started and stopped around a block."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(
    weights: Path, log_path: Path, *, n_ctx: int = 1024, extra: Sequence[str] = ()
) -> Iterator[str]:
    """Serve ``weights`` until the block ends; yields the base URL (``http://…/v1``). The
    server's output goes to ``log_path``."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(weights)]
    command += ["--model_alias", "smollm2", "--n_ctx", str(n_ctx), *extra]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert proc.poll() is None, f"llama_cpp.server exited; see {log_path}"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "llama_cpp.server did not start"
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
