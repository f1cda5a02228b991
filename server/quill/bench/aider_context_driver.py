"""Answers ``quill bench context`` cases with aider's RepoMap.

Run by aider's own interpreter (its separate virtualenv), never imported by Quill::

    .bench-venvs/aider/bin/python aider_context_driver.py < request.json

The request on stdin is one JSON object::

    {"root": "/abs/project", "budget": 1024, "files": ["pkg/a.py", ...],
     "cases": [{"id": 0, "file": "pkg/b.py", "text": "<the file, line removed>",
                "mentioned_idents": ["x", ...]}, ...]}

Answers are JSON lines on stdout: first ``{"event": "ready", ...}`` (after a warm-up map that
parses every file once), then one ``{"id": ..., "text": ..., "ms": ...}`` per case (or
``{"id": ..., "error": ...}``), then ``{"event": "done"}``.

What makes the comparison fair and the map stable (see DESIGN.md):

* the model's ``token_count`` is Quill's counter (``quill.index.repomap.estimate_tokens``:
  four characters per token), and the map is measured with it exactly instead of aider's
  line-sampled estimate;
* paths are relative to the workspace (the process runs in the project root);
* the captures of ``RepoMap._run_captures`` are sorted into document order (their order
  otherwise varies from process to process); the caller fixes ``PYTHONHASHSEED``;
* the tags cache is in memory, so nothing is written into the project;
* the case's file is the chat file, its text (with the line removed) is what aider reads for
  it, bypassing the mtime-keyed tags cache; all other files are the other files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def count_tokens(text: str) -> int:
    """The same counter as ``quill.index.repomap.estimate_tokens``."""
    return len(text) // 4 + 1 if text else 0


class Model:
    def token_count(self, text: str) -> int:
        return count_tokens(text)


class IO:
    """What RepoMap needs of aider's InputOutput: reading files, swallowing messages."""

    def __init__(self) -> None:
        self.overrides: dict[str, str] = {}

    def read_text(self, fname: str, silent: bool = False) -> str | None:
        if fname in self.overrides:
            return self.overrides[fname]
        try:
            with open(fname, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError):
            return None

    def tool_output(self, *args: Any, **kwargs: Any) -> None:
        pass

    def tool_warning(self, *args: Any, **kwargs: Any) -> None:
        pass

    def tool_error(self, *args: Any, **kwargs: Any) -> None:
        pass


def _position(node: Any) -> tuple[int, int]:
    return (getattr(node, "start_byte", 0), getattr(node, "end_byte", 0))


def patch(rm: Any, io: IO) -> None:
    """Make aider's RepoMap deterministic, cache in memory and read buffers from ``io``."""
    original_captures = rm.RepoMap._run_captures

    def run_captures(self: Any, query: Any, node: Any) -> Any:
        caps = original_captures(self, query, node)
        if isinstance(caps, dict):
            items = [(tag, sorted(nodes, key=_position)) for tag, nodes in caps.items()]
            items.sort(key=lambda kv: (_position(kv[1][0]) if kv[1] else (-1, -1), kv[0]))
            return dict(items)
        try:
            return sorted(caps, key=lambda c: (_position(c[0]), str(c[1])))
        except (TypeError, IndexError):
            return caps

    def load_tags_cache(self: Any) -> None:
        self.TAGS_CACHE = {}

    def save_tags_cache(self: Any) -> None:
        pass

    original_get_tags = rm.RepoMap.get_tags

    def get_tags(self: Any, fname: str, rel_fname: str) -> list[Any]:
        if fname in io.overrides:
            return list(self.get_tags_raw(fname, rel_fname) or [])
        return list(original_get_tags(self, fname, rel_fname))

    def token_count(self: Any, text: str) -> int:
        return int(self.main_model.token_count(text))

    rm.RepoMap._run_captures = run_captures
    rm.RepoMap.load_tags_cache = load_tags_cache
    rm.RepoMap.save_tags_cache = save_tags_cache
    rm.RepoMap.get_tags = get_tags
    rm.RepoMap.token_count = token_count


def main() -> int:
    out = sys.stdout
    sys.stdout = sys.stderr  # aider's spinner and messages must not mix with the answers
    request = json.load(sys.stdin)
    os.chdir(request["root"])
    budget = int(request["budget"])
    files: list[str] = list(request["files"])

    started = time.perf_counter()
    import aider
    from aider import repomap as rm

    io = IO()
    patch(rm, io)
    repo_map = rm.RepoMap(
        map_tokens=budget, root=request["root"], main_model=Model(), io=io, refresh="always"
    )
    # Warm-up: parse every file once (aider's first map in a session pays for this).
    repo_map.get_repo_map([], files)
    ready = {
        "event": "ready",
        "version": getattr(aider, "__version__", "?"),
        "load_s": time.perf_counter() - started,
        "files": len(files),
    }
    out.write(json.dumps(ready) + "\n")
    out.flush()

    for case in request["cases"]:
        chat = case["file"]
        io.overrides = {chat: case["text"]}
        others = [f for f in files if f != chat]
        idents = set(case.get("mentioned_idents") or ())
        t0 = time.perf_counter()
        try:
            text = repo_map.get_repo_map([chat], others, mentioned_idents=idents) or ""
        except Exception as exc:  # report, keep answering the other cases
            out.write(json.dumps({"id": case["id"], "error": f"{type(exc).__name__}: {exc}"}))
            out.write("\n")
            continue
        ms = (time.perf_counter() - t0) * 1000
        out.write(json.dumps({"id": case["id"], "text": text, "ms": ms}) + "\n")
        out.flush()
    out.write(json.dumps({"event": "done"}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
