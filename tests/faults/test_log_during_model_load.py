"""The server log keeps every line written while the embedded model loads.

llama-cpp-python (``verbose=False``) points file descriptor 2 at /dev/null while it loads a
model, for the whole process: log lines written to stderr meanwhile (a model failure, say)
are lost unless the log handler writes to a descriptor of its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_environment

pytestmark = pytest.mark.model

SCRIPT = """
import logging, threading, time
from quill.cli import setup_logging
from quill.config import ModelSettings
from quill.models.local import LocalProvider

setup_logging("info", None)
log = logging.getLogger("probe")
provider = LocalProvider("local", ModelSettings(threads=1))
loading = threading.Thread(target=lambda: provider._load_blocking(provider._check_installed()))
loading.start()
sent = 0
while loading.is_alive():
    sent += 1
    log.warning("line %d while the model loads", sent)
    time.sleep(0.01)
log.warning("sent %d lines", sent)
"""


def test_no_log_line_is_lost_while_the_model_loads(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sent = int(done.stderr.rsplit("sent ", 1)[1].split()[0])
    assert sent > 0
    assert done.stderr.count("while the model loads") == sent
