"""``quill bench rules [PATH]``: the static bug rules on a real tree, timed, and compared with
ruff's matching rules on the same files in the same run.

Default tree: the standard library of the running interpreter. Files are found as the index
finds them (built-in excludes, ignore files); ``max_files`` draws a sample (seed 0).

Quill: every file through :func:`quill.actions.rules.check` in this process (queries compiled
before the clock starts), timed per file; figures per 1,000 lines as the p50 over files and
for the whole tree. ruff (``ruff`` next to this interpreter, else on PATH): ``ruff check
--isolated --no-cache --select <codes> --output-format json`` over the same Python files.

Findings are compared per rule by (file, line of the start). Where ruff's rule is wider than
Quill's its extra reports are set aside: S110 on a bare ``except:`` (Quill's bare-except),
F811 on anything but a ``def`` / ``class`` (imports, assignments) and PLW2901 on ``with``
variables. Figures go to ``out`` as a table, the disagreements as examples, then one JSON line.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from quill.actions.rules import RULES, check, rules_language
from quill.actions.rules.catalog import JS_LANGUAGES
from quill.actions.rules.engine import rules_query
from quill.bench.index_bench import default_bench_path
from quill.stats import percentile

__all__ = ["RUFF_CODES", "TARGET_MS_PER_1K_LINES", "run_rules_bench"]

TARGET_MS_PER_1K_LINES = 20.0
RUFF_TIMEOUT_S = 600
RUFF_BATCH = 400

#: Quill rule -> the ruff codes that report the same thing (Python rules only)
RUFF_CODES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "mutable-default-argument": ("B006",),
        "bare-except": ("E722",),
        "broad-except-pass": ("S110",),
        "singleton-comparison": ("E711", "E712"),
        "is-literal": ("F632",),
        "duplicate-key": ("F601",),
        "duplicate-parameter": ("invalid-syntax",),  # ruff reports it as a syntax error
        "duplicate-definition": ("F811",),
        "assert-tuple": ("F631",),
        "fstring-without-placeholders": ("F541",),
        "loop-variable-overwritten": ("PLW2901",),
        "unused-variable": ("F841",),
    }
)

Site = tuple[str, int]  # (workspace-relative file, 1-based line)


def family(language: str) -> str:
    """The row a language's findings are counted in: python, js/ts or go."""
    return "js/ts" if language in JS_LANGUAGES else language


def _files(root: Path, max_files: int | None) -> list[tuple[str, str]]:
    from quill.index.walk import IgnoreRules, walk_workspace

    walked = walk_workspace(root, IgnoreRules(root))
    found = [(e.rel, e.language) for e in walked.files if rules_language(e.language)]
    if max_files is not None and len(found) > max_files:
        found = sorted(random.Random(0).sample(found, max_files))
    return found


def measure_quill(root: Path, files: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Every file through ``check``: findings by rule and site, and the time per file."""
    for language in {lang for _, lang in files}:
        rules_query(language)
        check("", language)
    sites: dict[tuple[str, str], set[Site]] = {}
    per_file: list[float] = []
    per_file_100: list[float] = []
    total_ms, total_lines, fixes = 0.0, 0, Counter[str]()  # fixes by "rule [family]"
    for rel, language in files:
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.count("\n") + 1
        started = time.perf_counter()
        findings = check(text, language)
        elapsed = (time.perf_counter() - started) * 1000
        total_ms += elapsed
        total_lines += lines
        per_file.append(elapsed / lines * 1000)
        if lines >= 100:
            per_file_100.append(elapsed / lines * 1000)
        for f in findings:
            sites.setdefault((f.rule, family(language)), set()).add((rel, f.start[0] + 1))
            if f.fix is not None:
                fixes[f"{f.rule} [{family(language)}]"] += 1
    return {
        "files": len(per_file),
        "lines": total_lines,
        "ms_total": total_ms,
        "ms_per_1k_lines_total": total_ms / max(total_lines, 1) * 1000,
        "ms_per_1k_lines_p50": percentile(per_file, 50) or 0.0,
        "ms_per_1k_lines_p99": percentile(per_file, 99) or 0.0,
        "ms_per_1k_lines_p50_100_lines": percentile(per_file_100, 50) or 0.0,
        "sites": sites,
        "fixes": dict(fixes),
    }


#: the code-action menu's target (see quill.lsp.actions): ms per request, p99
TARGET_ACTION_LIST_MS = 10.0


def measure_action_list(
    root: Path, files: Sequence[tuple[str, str]], per_file: int = 10
) -> dict[str, Any]:
    """What a code-action request costs before any model call: finding the target (a parse
    and a walk) at ``per_file`` cursor positions in each file."""
    from quill.actions.targets import find_target
    from quill.stats import percentile

    rng = random.Random(1)
    timings: list[float] = []
    for rel, language in files:
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.split("\n")
        for _ in range(per_file):
            line = rng.randrange(len(lines))
            column = rng.randrange(len(lines[line]) + 1)
            started = time.perf_counter()
            find_target(text, language, (line, column))
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "requests": len(timings),
        "ms_p50": percentile(timings, 50),
        "ms_p99": percentile(timings, 99),
    }


def _ruff_executable() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else shutil.which("ruff")


def measure_ruff(root: Path, rels: Sequence[str]) -> dict[str, Any]:
    """ruff's matching rules over the same Python files: sites per Quill rule."""
    exe = _ruff_executable()
    if exe is None:
        return {"available": False, "why": "ruff is not installed"}
    codes = sorted({c for cs in RUFF_CODES.values() for c in cs if c != "invalid-syntax"})
    cmd = [exe, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json"]
    cmd += ["--select", ",".join(codes)]
    diagnostics: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i in range(0, len(rels), RUFF_BATCH):
        batch = [str(root / rel) for rel in rels[i : i + RUFF_BATCH]]
        try:
            proc = subprocess.run(
                [*cmd, *batch], capture_output=True, text=True, timeout=RUFF_TIMEOUT_S, check=False
            )
            diagnostics += json.loads(proc.stdout or "[]")
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            return {"available": False, "why": f"ruff failed: {exc}"}
    elapsed = time.perf_counter() - started
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    sites: dict[str, set[Site]] = {}
    set_aside: Counter[str] = Counter()
    lines_of: dict[str, list[str]] = {}
    by_code = {c: rule for rule, cs in RUFF_CODES.items() for c in cs}
    for d in diagnostics:
        code = d.get("code") or "invalid-syntax"
        rule = by_code.get(code)
        if rule is None:
            continue
        if code == "invalid-syntax" and not d.get("message", "").startswith("Duplicate parameter"):
            continue
        path = Path(d["filename"])
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        row = int(d["location"]["row"])
        if rel not in lines_of:
            lines_of[rel] = _read_lines(path)
        line = lines_of[rel][row - 1].strip() if row <= len(lines_of[rel]) else ""
        if _wider_than_quill(code, d.get("message", ""), line, lines_of[rel]):
            set_aside[code] += 1
            continue
        sites.setdefault(rule, set()).add((rel, row))
    return {
        "available": True,
        "version": version.stdout.strip(),
        "seconds": elapsed,
        "sites": sites,
        "set_aside": dict(set_aside),
    }


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return []


_DEFINITION = ("def ", "async def ", "class ", "@")


def _wider_than_quill(code: str, message: str, line: str, lines: Sequence[str]) -> bool:
    if code == "S110":
        return line.startswith("except:") or line.startswith("except :")
    if code == "F811":  # Quill's rule is about a def or class shadowing a def or class
        shadowed = re.search(r"from line (\d+)", message)
        row = int(shadowed.group(1)) if shadowed else 0
        old = lines[row - 1].strip() if 0 < row <= len(lines) else ""
        return not line.startswith(_DEFINITION) or not old.startswith(_DEFINITION)
    if code == "PLW2901":
        return message.startswith(("`with` statement variable", "Outer `with` statement"))
    return False


def _compare(quill: set[Site], ruff: set[Site] | None) -> dict[str, Any]:
    if ruff is None:
        return {"quill": len(quill)}
    return {
        "quill": len(quill),
        "ruff": len(ruff),
        "both": len(quill & ruff),
        "only_quill": sorted(quill - ruff),
        "only_ruff": sorted(ruff - quill),
    }


def _examples(sites: Iterable[Site], count: int) -> str:
    return ", ".join(f"{rel}:{line}" for rel, line in list(sites)[:count])


def run_rules_bench(
    path: Path | None,
    out: TextIO,
    *,
    max_files: int | None = None,
    compare: bool = True,
    examples: int = 5,
) -> int:
    """Run the rules on ``path`` (default: this interpreter's standard library) and compare
    them with ruff; 0 on success, 2 when ``path`` is not a folder."""
    root = Path(path).expanduser().resolve() if path is not None else default_bench_path()
    if not root.is_dir():
        out.write(f"quill bench rules: {root} is not a folder\n")
        return 2
    files = _files(root, max_files)
    out.write(f"quill bench rules: {root} ({len(files)} files)\n")
    out.flush()
    q = measure_quill(root, files)
    menu = measure_action_list(root, files)
    python = [rel for rel, lang in files if lang == "python"]
    r: dict[str, Any] = {"available": False, "why": "off"}
    if compare and python:
        r = measure_ruff(root, python)
    ruff_sites: dict[str, set[Site]] | None = r["sites"] if r["available"] else None
    table: dict[str, Any] = {}
    header = (
        f"{'rule':30} {'lang':6} {'ruff':15} {'quill':>6} {'ruff':>6} {'both':>6} "
        f"{'only-q':>7} {'only-r':>7}"
    )
    lines = [header, "-" * len(header)]
    families = sorted({family(lang) for _, lang in files})
    for rule, info in RULES.items():
        for fam in families:
            if not any(family(lang) == fam for lang in info.languages):
                continue
            codes = RUFF_CODES.get(rule) if fam == "python" else None
            theirs = ruff_sites.get(rule, set()) if ruff_sites is not None and codes else None
            row = _compare(q["sites"].get((rule, fam), set()), theirs)
            row["fixes"] = q["fixes"].get(f"{rule} [{fam}]", 0)
            table[f"{rule} [{fam}]"] = row
            if theirs is None:
                lines.append(f"{rule:30} {fam:6} {'-':15} {row['quill']:>6}")
                continue
            lines.append(
                f"{rule:30} {fam:6} {','.join(codes or ()):15} {row['quill']:>6} "
                f"{row['ruff']:>6} {row['both']:>6} {len(row['only_quill']):>7} "
                f"{len(row['only_ruff']):>7}"
            )
    slowest = max(q["ms_per_1k_lines_p50"], q["ms_per_1k_lines_total"])
    ok = "ok" if slowest <= TARGET_MS_PER_1K_LINES else "OVER TARGET"
    lines += [
        "",
        f"quill: {q['files']} files, {q['lines']:,} lines, {q['ms_total'] / 1000:.2f} s; per "
        f"1,000 lines: p50 {q['ms_per_1k_lines_p50']:.2f} ms, p99 "
        f"{q['ms_per_1k_lines_p99']:.2f} ms (p50 of files of 100+ lines "
        f"{q['ms_per_1k_lines_p50_100_lines']:.2f} ms), whole tree "
        f"{q['ms_per_1k_lines_total']:.2f} ms (target <= {TARGET_MS_PER_1K_LINES:.0f} ms: {ok})",
    ]
    menu_ok = "ok" if (menu["ms_p99"] or 0.0) <= TARGET_ACTION_LIST_MS else "OVER TARGET"
    lines.append(
        f"code-action list (target found, no model): {menu['requests']} requests, p50 "
        f"{menu['ms_p50']} ms, p99 {menu['ms_p99']} ms "
        f"(target <= {TARGET_ACTION_LIST_MS:.0f} ms: {menu_ok})"
    )
    if r["available"]:
        lines.append(
            f"ruff:  {r['version']}, {len(python)} Python files, {r['seconds']:.2f} s "
            f"(its own process, all cores); set aside as wider than Quill's rules: "
            f"{r['set_aside'] or 'none'}"
        )
    else:
        lines.append(f"ruff:  not compared: {r['why']}")
    if examples and ruff_sites is not None:
        lines.append("")
        for rule, row in table.items():
            for side in ("only_quill", "only_ruff"):
                if row.get(side):
                    lines.append(f"{rule} {side}: {_examples(row[side], examples)}")
    out.write("\n".join(lines) + "\n")
    q.pop("sites")
    report = {
        "quill": q,
        "action_list": menu,
        "ruff": {k: v for k, v in r.items() if k != "sites"},
        "rules": table,
    }
    out.write(json.dumps(report) + "\n")
    return 0


def _main() -> None:  # pragma: no cover - `python -m quill.bench.rules_bench [PATH] [N]`
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    max_files = int(sys.argv[2]) if len(sys.argv) > 2 else None
    raise SystemExit(run_rules_bench(path, sys.stdout, max_files=max_files))


if __name__ == "__main__":  # pragma: no cover
    _main()
