"""aider's RepoMap, run by aider's own interpreter (a separate virtualenv) for the
comparisons of ``quill bench context`` (one :mod:`~quill.bench.aider_context_driver` process
per project) and ``quill bench index`` (map timings)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AiderRun", "find_aider_python", "run_aider_context", "time_aider_maps"]

AIDER_TIMEOUT_S = 1800


def find_aider_python() -> Path | None:
    """aider's interpreter, or ``None`` when it is not installed. ``$QUILL_AIDER_PYTHON``,
    when set, is the only place looked at (a path that does not exist: not installed)."""
    env = os.environ.get("QUILL_AIDER_PYTHON")
    if env:
        path = Path(env).expanduser()
        return path if path.is_file() else None
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / ".bench-venvs" / "aider" / "bin" / "python"
        if candidate.is_file():
            return candidate
    return None


@dataclass(slots=True)
class AiderRun:
    """What the context driver answered for one project (or why it could not run)."""

    available: bool
    why: str = ""
    version: str = ""
    load_s: float = 0.0
    texts: dict[int, str] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def run_aider_context(
    python: Path,
    root: Path,
    files: Sequence[str],
    queries: Sequence[tuple[int, str, str, list[str]]],
    budget: int,
) -> AiderRun:
    """One driver process for the project, answering every query (id, file, text, idents)."""
    request = {
        "root": str(root),
        "budget": budget,
        "files": list(files),
        "cases": [
            {"id": qid, "file": rel, "text": text, "mentioned_idents": idents}
            for qid, rel, text, idents in queries
        ],
    }
    driver = Path(__file__).with_name("aider_context_driver.py")
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    env.pop("PYTHONPATH", None)
    try:
        proc = subprocess.run(
            [str(python), str(driver)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=AIDER_TIMEOUT_S,
            env=env,
            cwd=str(root),
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return AiderRun(False, why=f"aider driver failed: {exc}")
    run = AiderRun(True)
    done = False
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        event = item.get("event")
        if event == "ready":
            run.version = str(item.get("version", ""))
            run.load_s = float(item.get("load_s", 0.0))
        elif event == "done":
            done = True
        elif "error" in item:
            run.errors += 1
            run.first_error = run.first_error or str(item["error"])
        elif "id" in item:
            run.texts[int(item["id"])] = str(item.get("text") or "")
            run.ms.append(float(item.get("ms", 0.0)))
    if proc.returncode != 0 or not done:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return AiderRun(False, why=f"aider driver exited {proc.returncode}: {tail[0][:200]}")
    return run


#: run by aider's interpreter: ROOT FILE_LIST BUDGET -> one JSON line of map timings
_AIDER_INDEX_DRIVER = r"""
import json, os, sys, tempfile, time
from pathlib import Path

root, file_list, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.chdir(root)
files = [line for line in Path(file_list).read_text().splitlines() if line]

from aider import repomap as rm

class Model:
    def token_count(self, text):
        return len(text) // 4 + 1 if text else 0

class IO:
    def read_text(self, fname, silent=False):
        try:
            with open(fname, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError):
            return None
    def tool_output(self, *args, **kwargs): pass
    def tool_warning(self, *args, **kwargs): pass
    def tool_error(self, *args, **kwargs): pass

def _start(node):
    return getattr(node, "start_byte", 0)

if hasattr(rm.RepoMap, "_run_captures"):
    original = rm.RepoMap._run_captures
    def sorted_captures(self, *args, **kwargs):
        caps = original(self, *args, **kwargs)
        if isinstance(caps, dict):
            return {k: sorted(v, key=_start) for k, v in sorted(caps.items())}
        try:
            return sorted(caps, key=lambda c: (_start(c[0]), str(c[1])))
        except (TypeError, IndexError):
            return caps
    rm.RepoMap._run_captures = sorted_captures

rm.RepoMap.TAGS_CACHE_DIR = tempfile.mkdtemp(prefix="aider-tags-")
repo_map = rm.RepoMap(map_tokens=budget, root=root, main_model=Model(), io=IO(),
                      refresh="always")
started = time.perf_counter()
text = repo_map.get_repo_map([], files) or ""
first = time.perf_counter() - started
later = []
for _ in range(3):
    started = time.perf_counter()
    repo_map.get_repo_map([], files, force_refresh=True)
    later.append(time.perf_counter() - started)
later.sort()
print(json.dumps({"first_s": first, "later_s": later[1], "tokens": Model().token_count(text),
                  "files": len(files)}))
"""


def time_aider_maps(
    root: Path, files: Sequence[str], budget: int, timeout_s: float
) -> dict[str, Any]:
    """aider's first map of ``root`` (which parses every file) and a later one, with the
    same file list; ``{"available": False, "why": ...}`` when it cannot be run."""
    python = find_aider_python()
    if python is None:
        return {
            "available": False,
            "why": "no aider virtualenv ($QUILL_AIDER_PYTHON or .bench-venvs/aider/bin/python)",
        }
    with tempfile.TemporaryDirectory(prefix="quill-aider-") as tmp:
        driver = Path(tmp) / "driver.py"
        driver.write_text(_AIDER_INDEX_DRIVER, encoding="utf-8")
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(files) + "\n", encoding="utf-8")
        env = dict(os.environ, PYTHONHASHSEED="0")
        try:
            proc = subprocess.run(
                [str(python), str(driver), str(root), str(listing), str(budget)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=env,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return {"available": False, "why": f"aider driver failed: {exc}"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"available": False, "why": f"aider driver exited {proc.returncode}: {tail[0]}"}
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"available": False, "why": "aider driver printed no result"}
    data["available"] = True
    return dict(data)
