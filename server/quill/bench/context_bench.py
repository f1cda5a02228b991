"""``quill bench context``: does the context given at a cursor hold what the next line needs?

Cases come from real multi-file Python projects no one here wrote (pinned sdists fetched
with pip into a cache, or local folders). A case is a one-line simple statement inside a
function body that uses a definition from another file of the same project, of one of three
kinds:

* ``import``: a name bound by ``from … import`` (``helper(x)``, ``Console()``);
* ``module``: an attribute of an imported project module (``mod.func(...)`` after
  ``import pkg.mod`` or ``from pkg import mod``);
* ``method``: a method call ``obj.meth(...)`` where ``meth`` is defined exactly once in the
  project, as a method.

Names also defined in the case's own file, builtins, standard-library module names and (for
methods) ubiquitous method names are left out. For each case the line is removed (it becomes
its indentation, where the cursor is put) and each system is asked for context at
``budget`` tokens; a hit is when the needed definition's header line
(:attr:`Definition.signature`) appears in the context text.

Systems, on the same cases and the same token counter
(:func:`quill.index.repomap.estimate_tokens`):

* **quill**: ``quill.context.assemble.assemble_context`` when that module exists, else the
  repo map personalized on the file and the identifiers near the cursor;
* **baseline**: import following: the signatures of the definitions named in the file's
  ``from … import`` lines and the top-level definitions of modules imported whole, in file
  order, cut to the budget;
* **aider**: aider-chat's RepoMap in its own virtualenv (``.bench-venvs/aider`` or
  ``$QUILL_AIDER_PYTHON``), one process per project running
  :mod:`quill.bench.aider_context_driver`.

The parts: :mod:`~quill.bench.project_fetch` (the projects), :mod:`~quill.bench.context_project`
and :mod:`~quill.bench.context_cases` (the cases), :mod:`~quill.bench.context_systems` and
:mod:`~quill.bench.aider_runs` (the systems), :mod:`~quill.bench.context_report` (the report);
this module measures each project.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from quill.bench.aider_runs import find_aider_python, run_aider_context
from quill.bench.context_cases import KINDS, Case, find_cases, find_project_cases, sample_cases
from quill.bench.context_project import Project
from quill.bench.context_report import TARGETS, ProjectResult, Tally, write_report
from quill.bench.context_systems import (
    SYSTEMS,
    baseline_text,
    hit,
    identifiers_near_cursor,
    quill_system,
    remove_line,
)
from quill.bench.project_fetch import default_cache_dir, fetch_project
from quill.index.repomap import estimate_tokens
from quill.index.service import WorkspaceIndex

__all__ = [
    "DEFAULT_PROJECTS",
    "KINDS",
    "TARGETS",
    "Case",
    "find_cases",
    "run_context_bench",
    "sample_cases",
]

#: pinned sdists: the three the context was first tuned on (17k-27k lines of Python each)
TUNED_PROJECTS = ("rich==13.7.1", "httpx==0.27.0", "jinja2==3.1.4")
#: and three of other styles, held out while tuning: a decorator- and function-heavy CLI
#: library (18k lines), a 35k-line mix of classes and helper modules, and an 89k-line
#: class-heavy project that uses its node classes as module attributes (``nodes.paragraph``)
HELD_OUT_PROJECTS = ("click==8.1.7", "werkzeug==3.0.3", "docutils==0.21.2")
DEFAULT_PROJECTS = TUNED_PROJECTS + HELD_OUT_PROJECTS


def _group(cases: Sequence[Case]) -> Iterator[tuple[tuple[str, int], list[Case]]]:
    groups: dict[tuple[str, int], list[Case]] = {}
    for case in cases:
        groups.setdefault(case.key, []).append(case)
    yield from groups.items()


def _measure_project(
    name: str,
    root: Path,
    out: TextIO,
    *,
    budget: int,
    max_cases: int,
    seed: int,
    aider_python: Path | None,
    assemble: Callable[..., Any] | None,
) -> ProjectResult:
    result = ProjectResult(name, str(root))
    with tempfile.TemporaryDirectory(prefix="quill-context-bench-") as db:
        index = WorkspaceIndex(root, Path(db))
        try:
            stats = index.index_all()
            result.files, result.lines = stats.files, stats.lines
            files = index.indexed_files()
            project = Project(index, files)
            by_kind = find_project_cases(project)
            result.available = {kind: len(by_kind[kind]) for kind in KINDS}
            cases = sample_cases(by_kind, max_cases, random.Random(f"{seed}:{name}"))
            out.write(
                f"  {name}: {result.files} files, {result.lines:,} lines; cases found "
                + ", ".join(f"{k} {result.available[k]}" for k in KINDS)
                + f"; measuring {len(cases)}\n"
            )
            out.flush()
            result.tallies = {system: Tally() for system in SYSTEMS}
            queries = list(_group(cases))
            texts: dict[str, str] = {}
            aider_queries: list[tuple[int, str, str, list[str]]] = []
            baseline_cache: dict[str, str] = {}
            current: str | None = None
            for qid, ((rel, line), group) in enumerate(queries):
                if rel not in texts:
                    texts[rel] = (root / rel).read_bytes().decode("utf-8")
                column = group[0].column
                buffer = remove_line(texts[rel], line, column)
                prefix = "\n".join(buffer.split("\n")[: line + 1])
                idents = identifiers_near_cursor(prefix)
                if current is not None and current != rel:
                    index.update_file(root / current)  # back to the disk copy
                current = rel
                t0 = time.perf_counter()
                index.update_file(root / rel, buffer)
                result.update_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                try:
                    if assemble is not None:
                        quill_text = str(
                            assemble(
                                index,
                                rel,
                                buffer,
                                line,
                                column,
                                budget,
                                count_tokens=estimate_tokens,
                            ).text
                        )
                    else:
                        quill_text = index.repo_map(
                            budget_tokens=budget,
                            focus_files=[root / rel],
                            mentioned_idents=idents,
                            count_tokens=estimate_tokens,
                        ).text
                except Exception as exc:  # a bench reports a failing system, then goes on
                    quill_text = ""
                    result.quill_errors += 1
                    result.quill_first_error = result.quill_first_error or (
                        f"{type(exc).__name__}: {exc}"
                    )
                result.quill_ms.append((time.perf_counter() - t0) * 1000)
                if rel not in baseline_cache:
                    baseline_cache[rel] = baseline_text(project, rel, budget)
                base_text = baseline_cache[rel]
                for system, text in (("quill", quill_text), ("baseline", base_text)):
                    tally = result.tallies[system]
                    tally.tokens.append(estimate_tokens(text))
                    for case in group:
                        tally.add(case.kind, hit(case, text))
                if aider_python is not None:
                    aider_queries.append((qid, rel, buffer, idents))
            if current is not None:
                index.update_file(root / current)
            if aider_python is not None and queries:
                out.write(f"  {name}: aider RepoMap on {len(queries)} cursor positions...\n")
                out.flush()
                run = run_aider_context(aider_python, root, files, aider_queries, budget)
                result.aider = run
                if run.available:
                    tally = result.tallies["aider"]
                    for qid, (_key, group) in enumerate(queries):
                        text = run.texts.get(qid, "")
                        tally.tokens.append(estimate_tokens(text))
                        for case in group:
                            tally.add(case.kind, hit(case, text))
        finally:
            index.close()
    return result


def run_context_bench(
    projects: list[str],
    out: TextIO,
    *,
    budget: int = 1024,
    max_cases: int = 300,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> int:
    """Run the benchmark on ``projects`` (``NAME==VERSION`` sdists or folders; empty: the
    defaults) and write the report to ``out``, ending with one JSON line. Returns 0 when it
    ran (missed targets are reported, not failures), 1 with a one-line reason when not."""
    specs = list(projects) or list(DEFAULT_PROJECTS)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    quill_label, assemble = quill_system()
    aider_python = find_aider_python()
    out.write(
        f"quill bench context: {len(specs)} project(s), budget {budget} tokens, up to "
        f"{max_cases} cases each, seed {seed}\n"
        f"quill:    {quill_label}\n"
        f"baseline: import following (from-import signatures + modules imported whole)\n"
        f"aider:    "
        + (
            f"aider RepoMap via {aider_python} (one process per project; same token counter, "
            "PYTHONHASHSEED=0, sorted captures, identifiers near the cursor as mentioned)"
            if aider_python is not None
            else "not measured: no aider virtualenv ($QUILL_AIDER_PYTHON or "
            ".bench-venvs/aider/bin/python; `make bench-deps`)"
        )
        + "\n"
    )
    out.flush()
    results: list[ProjectResult] = []
    skipped: list[dict[str, str]] = []
    for spec in specs:
        try:
            root = fetch_project(spec, cache)
        except ValueError as exc:
            out.write(f"  {spec}: skipped: {exc}\n")
            skipped.append({"project": spec, "why": str(exc)})
            continue
        results.append(
            _measure_project(
                spec,
                root,
                out,
                budget=budget,
                max_cases=max_cases,
                seed=seed,
                aider_python=aider_python,
                assemble=assemble,
            )
        )
    measured = [r for r in results if r.tallies and sum(r.tallies["quill"].cases.values())]
    if not measured:
        reason = "no project could be fetched" if not results else "no cases found in any project"
        out.write(f"quill bench context: {reason}\n")
        return 1
    write_report(
        measured,
        skipped,
        out,
        budget=budget,
        max_cases=max_cases,
        seed=seed,
        assembled=assemble is not None,
        aider_python=aider_python,
    )
    return 0
