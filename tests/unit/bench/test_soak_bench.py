"""`quill bench soak`: a short real run of completions, actions and chat against `quill lsp`
and the embedded model, with memory and tasks sampled from `quill/status`."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from quill.bench.soak_bench import run_soak, run_soak_bench
from tests.conftest import REPO_ROOT, clean_environment


def test_a_short_soak_drives_every_feature_and_counts_tasks(
    tmp_path: Path, gguf_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    source = REPO_ROOT / "server" / "quill" / "context" / "budget.py"
    shutil.copyfile(source, workspace / "budget.py")
    result = run_soak(
        workspace,
        [Path("budget.py")],
        duration_s=14,
        warmup_share=0.3,
        sample_every_s=2,
        action_every_s=6,
        chat_every_s=6,
        env=clean_environment(tmp_path),
        log=tmp_path / "server.log",
    )
    report = result.to_json()
    assert report["aliveAtEnd"] is True
    assert report["sent"]["completion"] > 20
    assert report["sent"]["action"] >= 1 and report["sent"]["chat"] >= 1
    assert report["errors"] == {}, report["errorExamples"]
    assert len(report["samples"]) >= 3
    assert all(s["rssMiB"] > 10 and s["tasks"] >= 1 for s in report["samples"])
    assert report["tasksAfterWarmup"] is not None and report["tasksIdleAtEnd"] is not None
    assert report["latencyMs"]["completion"]["n"] > 0
    assert isinstance(report["rssGrowth"], float)
    json.dumps(report)  # the JSON line can be written


def test_bad_arguments_get_one_line(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_soak_bench(tmp_path / "nowhere", out) == 2
    assert "is not a folder" in out.getvalue()
    out = io.StringIO()
    assert run_soak_bench(tmp_path, out, duration_s=1) == 2
    assert "at least 10 seconds" in out.getvalue()
