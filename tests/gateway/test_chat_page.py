"""The chat page in headless Chromium (Debian's ``chromium``, npm ``playwright-core``) against
a real gateway and the embedded model: the token link becomes a cookie, the health indicator,
Markdown with code blocks and their copy button, a streamed answer, and the stop button.

`make gateway-browser` (gateway.mk) installs Chromium and playwright-core."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from .conftest import Harness

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None or not CHROMIUM.exists():
        pytest.fail("needs node and /usr/bin/chromium: run `make test` (it installs them)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("needs playwright-core: run `make test` (it installs it)")
    return found


async def test_chat_page_in_headless_chromium(harness: Harness, node: str, gguf_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        node,
        str(BROWSER_DIR / "chat_page.mjs"),
        harness.running.page_url,
        cwd=BROWSER_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 300)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    lines = out.decode().strip().splitlines()
    assert lines, err.decode()[-2000:]
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], (result, err.decode()[-2000:])
    assert "local" in result["health"]
    assert len(result["reopened"]) == 2 and "6 messages" in result["continued"]
