"""Run an editor and watch what it leaves behind: ``python reaper.py REPORT TIMEOUT GRACE -- CMD``.

This process makes itself a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so a language
server that outlives its editor is re-parented here instead of to init. After the editor
exits (or is killed at TIMEOUT seconds), every such orphan gets GRACE seconds to exit by
itself; its exit status is recorded, and one still running then is killed and reported.
The report is JSON: ``{"editor": {...}, "orphans": [...]}``.

It runs as its own process so that the test session itself never becomes a subreaper.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after the last ")"
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def describe(status: int) -> dict[str, int | None]:
    if os.WIFSIGNALED(status):
        return {"code": None, "signal": os.WTERMSIG(status)}
    return {"code": os.WEXITSTATUS(status), "signal": None}


def main(argv: list[str]) -> int:
    report_path, timeout, grace = Path(argv[0]), float(argv[1]), float(argv[2])
    command = argv[argv.index("--") + 1 :]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")

    started = time.monotonic()
    editor = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        code = editor.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(editor.pid, signal.SIGKILL)
        code = editor.wait()
    editor_done = time.monotonic()
    report: dict[str, object] = {
        "editor": {
            "command": command,
            "returncode": code,
            "timed_out": timed_out,
            "seconds": round(editor_done - started, 2),
        },
        "orphans": [],
    }

    seen: dict[int, dict[str, object]] = {}
    me = os.getpid()
    deadline = editor_done + grace
    while True:
        for pid in children_of(me):
            if pid not in seen:
                seen[pid] = {"pid": pid, "cmdline": cmdline(pid), "killed": False}
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break  # no children left
        if pid:
            entry = seen.setdefault(pid, {"pid": pid, "cmdline": [], "killed": False})
            entry.update(describe(status))
            entry["exited_after_s"] = round(time.monotonic() - editor_done, 2)
            continue
        if time.monotonic() > deadline:
            for pid in children_of(me):
                seen.setdefault(pid, {"pid": pid, "cmdline": cmdline(pid)})["killed"] = True
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = float("inf")  # now just reap what was killed
        time.sleep(0.05)
    report["orphans"] = list(seen.values())
    report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
