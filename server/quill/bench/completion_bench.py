"""``quill bench completion``: the completion pipeline, driven the way an editor drives it.

A real ``quill lsp`` process is started over stdio and fed what VS Code sends while someone
types: an incremental ``didChange`` per keystroke followed at once by an automatic
``textDocument/inlineCompletion``, without waiting for the previous answer. The scenario is
replayed from real source files (deterministic for a given seed):

* a temporary copy of the workspace, plus one synthetic file of about 5,000 lines made by
  concatenating real files (the big-file case);
* lines that start statements inside function bodies are picked; the rest of such a line is
  deleted (one change), then the original line is typed again character by character at
  human speed (60-140 ms between keys, a 300-800 ms pause after some tokens);
* at the start of the line and after its last character the simulated user pauses
  (300-800 ms) and waits for the server's answer (up to ``SETTLE_CAP_S``, longer for the
  first answer of a server): that is where the time to the first suggestion is measured;
* type-through: when a suggestion arrives for the cursor, the user sometimes accepts it by
  typing its first 1-5 characters; every such keystroke must be answered with exactly the
  rest of the suggestion. Typing the next character of a shown suggestion while replaying the
  original line counts the same way. A suggestion that was not what the original line says
  is undone afterwards (one change), which must show the suggestion again.

Two server processes run one after the other: one types in real files, one in the synthetic
big file, so the server's overhead percentiles (``quill/status``) of the big file are its
own. Figures go to ``out`` as readable lines with their targets, then one JSON line.

The parts: :mod:`~quill.bench.completion_workspace` (the files and the lines to type),
:mod:`~quill.bench.completion_typist` (the typing), :mod:`~quill.bench.completion_session`
(one server process, driven with :class:`quill.lsp.client.StdioClient`) and
:mod:`~quill.bench.completion_report` (the figures and the report).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

from quill.bench.completion_report import TARGETS, compute_figures, write_report
from quill.bench.completion_session import BenchError, Session, run_session
from quill.bench.completion_typist import ACCEPT_PROBABILITY, Tally
from quill.bench.completion_workspace import (
    BIG_FILE_LINES,
    Doc,
    big_file,
    copy_workspace,
    make_doc,
    sources,
)
from quill.lsp.client import quill_lsp_command

__all__ = ["TARGETS", "BenchError", "default_bench_path", "run_completion_bench"]

REAL_FILES = 4
MIN_FILE_LINES = 100
MIN_CANDIDATES = 3


def default_bench_path() -> Path:
    """Quill's own sources (``server/quill``): the default workspace of the benchmark."""
    return Path(__file__).resolve().parents[1]


def run_completion_bench(
    path: Path | None,
    out: TextIO,
    *,
    keystrokes: int = 300,
    seed: int = 0,
    server_command: list[str] | None = None,
    env: dict[str, str] | None = None,
    accept_probability: float = ACCEPT_PROBABILITY,
    log_dir: Path | None = None,
    big_file_lines: int = BIG_FILE_LINES,
) -> int:
    """Drive ``quill lsp`` like an editor and report completion figures to ``out``.

    ``path`` is the workspace whose files are replayed (default: Quill's own sources);
    ``env`` the server's environment (default: this process's); the server's stderr goes to
    a temporary file, or to ``log_dir/server-N.log`` when ``log_dir`` is given (kept).
    Returns 0 when the run completed (missed targets are reported, not failures), 1 when the
    server could not be driven, 2 when the arguments or workspace cannot be used.
    """
    root = (path or default_bench_path()).expanduser()
    if keystrokes < 1:
        out.write("quill bench completion: keystrokes must be at least 1\n")
        return 2
    if not root.exists():
        out.write(f"quill bench completion: {root} does not exist\n")
        return 2
    command = list(server_command or quill_lsp_command())
    run_env = dict(os.environ if env is None else env)
    rng = random.Random(seed)
    tally = Tally()
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quill-bench-completion-") as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        if root.is_file():
            shutil.copyfile(root, workspace / root.name)
            copied, truncated = [Path(root.name)], False
        else:
            copied, truncated = copy_workspace(root, workspace)
        pool = sources(workspace, copied)
        if not pool:
            out.write(
                f"quill bench completion: no source lines inside function bodies under {root}\n"
            )
            return 2
        big_enough = [s for s in pool if s.lines >= MIN_FILE_LINES]
        big_enough = [s for s in big_enough if len(s.candidates) >= MIN_CANDIDATES] or big_enough
        chosen = rng.sample(big_enough or pool, min(REAL_FILES, len(big_enough or pool)))
        real_docs = [make_doc(workspace, s.rel, s.text, s.candidates) for s in chosen]
        big_doc = big_file(workspace, pool, chosen[0].rel.suffix.lower(), rng, big_file_lines)
        if truncated:
            out.write(
                f"note: copied only the first {len(copied)} files of {root} into the workspace\n"
            )
        plan: list[tuple[Session, list[Doc], int]] = []
        big_budget = keystrokes // 2
        real_budget = keystrokes - big_budget
        plan.append(
            (
                Session(
                    1,
                    "real-files",
                    [d.path.relative_to(workspace).as_posix() for d in real_docs],
                    [len(d.lines) - (1 if d.lines[-1] == "" else 0) for d in real_docs],
                ),
                real_docs,
                real_budget,
            )
        )
        if big_budget:
            plan.append(
                (
                    Session(2, "big-file", [big_doc.path.name], [len(big_doc.lines) - 1]),
                    [big_doc],
                    big_budget,
                )
            )
        sessions: list[Session] = []
        for session, docs, budget in plan:
            log = (log_dir or Path(tmp)) / f"server-{session.index}.log"
            try:
                run_session(
                    session,
                    docs,
                    budget,
                    root=workspace,
                    command=command,
                    env=run_env,
                    log=log,
                    seed=seed,
                    accept_probability=accept_probability,
                    tally=tally,
                )
            except BenchError as exc:
                reason = " ".join(str(exc).split())
                out.write(f"quill bench completion: cannot drive the server: {reason}\n")
                return 1
            sessions.append(session)
        figures = compute_figures(sessions, tally, keystrokes, seed, root)
    if not figures["requests"]:
        out.write("quill bench completion: the server served no completion requests\n")
        return 1
    broken = [s.model_state for s in sessions if s.model_state.startswith("Error")]
    if not figures["modelCalls"] and broken:
        out.write(f"quill bench completion: no model could be called ({broken[0]})\n")
        return 1
    write_report(figures, out)
    return 0
