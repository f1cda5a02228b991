"""Real parts the trust tests share: llama-cpp-python's own OpenAI-compatible server serving
the embedded model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quill.models.quantize import weights_for
from tests.llama_server import llama_server as serve_gguf


@pytest.fixture(scope="module")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` on 127.0.0.1, serving the embedded model (converted to
    Q4_0 as Quill runs it, for speed); yields its base URL without ``/v1``."""
    work = tmp_path_factory.mktemp("llama-server")
    model = weights_for(gguf_path, "q4_0", cache_dir=work)
    with serve_gguf(model, work / "server.log", n_ctx=4096, extra=["--n_threads", "1"]) as url:
        yield url.removesuffix("/v1")
