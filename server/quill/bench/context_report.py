"""What ``quill bench context`` measured (hits per kind and system, timings) and its
report: a table per project and overall, the targets, then one JSON line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from quill.bench.aider_runs import AiderRun
from quill.bench.context_cases import KINDS
from quill.bench.context_systems import SYSTEMS
from quill.stats import percentile

__all__ = ["TARGETS", "ProjectResult", "Tally", "write_report"]

TARGETS = {
    "recall_overall": 0.95,
    "recall_method": 0.85,
    # every kind at least the import-following baseline: quill's recall minus the
    # baseline's, on the kind where it is lowest
    "recall_over_baseline": 0.0,
    "quill_over_aider": 2.0,
    "assembly_p50_ms": 20.0,
}


@dataclass(slots=True)
class Tally:
    cases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    tokens: list[int] = field(default_factory=list)  # one per query (cursor position)

    def add(self, kind: str, hit: bool) -> None:
        self.cases[kind] += 1
        self.hits[kind] += int(hit)

    def merge(self, other: Tally) -> None:
        for kind in KINDS:
            self.cases[kind] += other.cases[kind]
            self.hits[kind] += other.hits[kind]
        self.tokens.extend(other.tokens)

    def recall(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            kind: (self.hits[kind] / self.cases[kind] if self.cases[kind] else None)
            for kind in KINDS
        }
        total = sum(self.cases.values())
        out["overall"] = sum(self.hits.values()) / total if total else None
        return out

    def mean_tokens(self) -> float:
        return sum(self.tokens) / len(self.tokens) if self.tokens else 0.0


@dataclass(slots=True)
class ProjectResult:
    name: str
    root: str
    files: int = 0
    lines: int = 0
    available: dict[str, int] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    quill_ms: list[float] = field(default_factory=list)
    update_ms: list[float] = field(default_factory=list)
    quill_errors: int = 0
    quill_first_error: str = ""
    aider: AiderRun | None = None


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(tallies: dict[str, Tally], aider_ok: bool, indent: str) -> list[str]:
    lines = [
        f"{indent}{'system':<9} {'import':>7} {'module':>7} {'method':>7} "
        f"{'overall':>8} {'mean tokens':>12}"
    ]
    for system in SYSTEMS:
        if system == "aider" and not aider_ok:
            continue
        tally = tallies[system]
        r = tally.recall()
        lines.append(
            f"{indent}{system:<9} {_pct(r['import']):>7} {_pct(r['module']):>7} "
            f"{_pct(r['method']):>7} {_pct(r['overall']):>8} {tally.mean_tokens():12.0f}"
        )
    counts = tallies["quill"].cases
    lines.append(
        f"{indent}cases     "
        + "  ".join(f"{kind} {counts[kind]}" for kind in KINDS)
        + f"  total {sum(counts.values())}"
    )
    return lines


def summary(tallies: dict[str, Tally], aider_ok: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": dict(tallies["quill"].cases)}
    out["cases"]["total"] = sum(tallies["quill"].cases.values())
    for system in SYSTEMS:
        if system == "aider" and not aider_ok:
            continue
        tally = tallies[system]
        out[system] = {
            "recall": tally.recall(),
            "mean_tokens": tally.mean_tokens(),
            "hits": dict(tally.hits),
        }
    quill = tallies["quill"].recall()["overall"]
    out["quill_over_baseline"] = _ratio(quill, tallies["baseline"].recall()["overall"])
    out["quill_over_aider"] = (
        _ratio(quill, tallies["aider"].recall()["overall"]) if aider_ok else None
    )
    return out


def _at(values: Sequence[float], pct: float) -> float:
    """A percentile of ``values`` as reported: 0.0 when there are none."""
    return percentile(values, pct) or 0.0


def write_report(
    measured: Sequence[ProjectResult],
    skipped: list[dict[str, str]],
    out: TextIO,
    *,
    budget: int,
    max_cases: int,
    seed: int,
    assembled: bool,
    aider_python: Path | None,
) -> None:
    """The tables of each project and overall, the targets, then the JSON line.
    ``assembled``: Quill's figures come from ``assemble_context`` (not the repo map)."""
    report: dict[str, Any] = {
        "budget": budget,
        "max_cases": max_cases,
        "seed": seed,
        "quill_system": "assemble_context" if assembled else "repo_map_fallback",
        "targets": dict(TARGETS),
        "projects": [],
        "skipped": skipped,
    }
    overall = {system: Tally() for system in SYSTEMS}
    quill_ms: list[float] = []
    aider_everywhere = aider_python is not None
    aider_versions: set[str] = set()
    for r in measured:
        aider_ok = r.aider is not None and r.aider.available
        aider_everywhere = aider_everywhere and aider_ok
        if r.aider is not None and r.aider.available:
            aider_versions.add(r.aider.version)
        report["projects"].append(_write_project(r, aider_ok, out))
        for system in SYSTEMS:
            overall[system].merge(r.tallies[system])
        quill_ms.extend(r.quill_ms)

    total = summary(overall, aider_everywhere)
    p50, p99 = _at(quill_ms, 50), _at(quill_ms, 99)
    total["quill_ms"] = {"p50": p50, "p99": p99, "n": len(quill_ms)}
    report["overall"] = total
    report["aider"] = {
        "available": aider_everywhere,
        "python": str(aider_python) if aider_python else None,
        "versions": sorted(aider_versions),
    }
    out.write(f"\noverall ({len(measured)} project(s))\n")
    for line in table(overall, aider_everywhere, "  "):
        out.write(line + "\n")
    out.write(f"  quill assembly p50 {p50:.1f} ms, p99 {p99:.1f} ms\n")
    out.write(
        f"  ratios: quill/baseline {_fmt_ratio(total['quill_over_baseline'])}, "
        f"quill/aider {_fmt_ratio(total['quill_over_aider'])}\n"
    )
    recall = overall["quill"].recall()
    base = overall["baseline"].recall()
    gaps = [
        q - b for kind in KINDS if (q := recall[kind]) is not None and (b := base[kind]) is not None
    ]
    checks: list[tuple[str, float | None, float, bool]] = [
        ("recall overall", recall["overall"], TARGETS["recall_overall"], True),
        ("recall on method calls", recall["method"], TARGETS["recall_method"], True),
        (
            "recall - baseline, min",
            min(gaps) if gaps else None,
            TARGETS["recall_over_baseline"],
            True,
        ),
        ("quill/aider recall", total["quill_over_aider"], TARGETS["quill_over_aider"], True),
        ("assembly p50 ms", p50, TARGETS["assembly_p50_ms"], False),
    ]
    report["targets_met"] = _write_targets(checks, out)
    out.write(json.dumps(report) + "\n")
    out.flush()


def _write_project(r: ProjectResult, aider_ok: bool, out: TextIO) -> dict[str, Any]:
    """One project's lines of the report, and its part of the JSON line."""
    out.write(f"\n{r.name}  ({r.root})\n")
    out.write(f"  {r.files} files, {r.lines:,} lines\n")
    for line in table(r.tallies, aider_ok, "  "):
        out.write(line + "\n")
    p50, p99 = _at(r.quill_ms, 50), _at(r.quill_ms, 99)
    out.write(
        f"  quill assembly p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(r.quill_ms)} "
        f"cursor positions (buffer update before it: p50 "
        f"{_at(r.update_ms, 50):.1f} ms)\n"
    )
    if r.quill_errors:
        out.write(f"  quill errors: {r.quill_errors} (first: {r.quill_first_error})\n")
    project_json: dict[str, Any] = {
        "project": r.name,
        "root": r.root,
        "files": r.files,
        "lines": r.lines,
        "cases_found": r.available,
        **summary(r.tallies, aider_ok),
        "quill_ms": {"p50": p50, "p99": p99, "n": len(r.quill_ms)},
        "update_ms_p50": _at(r.update_ms, 50),
        "quill_errors": r.quill_errors,
    }
    if r.aider is not None:
        if r.aider.available:
            out.write(
                f"  aider: load {r.aider.load_s:.1f} s, map p50 "
                f"{_at(r.aider.ms, 50):.0f} ms, p99 "
                f"{_at(r.aider.ms, 99):.0f} ms"
                + (f", {r.aider.errors} errors ({r.aider.first_error})" if r.aider.errors else "")
                + "\n"
            )
            project_json["aider_run"] = {
                "version": r.aider.version,
                "load_s": r.aider.load_s,
                "map_ms_p50": _at(r.aider.ms, 50),
                "map_ms_p99": _at(r.aider.ms, 99),
                "errors": r.aider.errors,
            }
        else:
            out.write(f"  aider: not measured: {r.aider.why}\n")
            project_json["aider_run"] = {"available": False, "why": r.aider.why}
    out.write(
        f"  ratios: quill/baseline {_fmt_ratio(project_json['quill_over_baseline'])}, "
        f"quill/aider {_fmt_ratio(project_json['quill_over_aider'])}\n"
    )
    return project_json


def _write_targets(
    checks: list[tuple[str, float | None, float, bool]], out: TextIO
) -> dict[str, bool | None]:
    """The targets' lines: (label, value, target, at least?) each; whether each was met."""
    met: dict[str, bool | None] = {}
    out.write("targets:\n")
    for label, value, target, at_least in checks:
        if value is None:
            met[label] = None
            out.write(
                f"  {label:<24} not measured   target {'>=' if at_least else '<='} {target:g}\n"
            )
            continue
        ok = value >= target if at_least else value <= target
        met[label] = ok
        shown = (
            f"{value * 100:.1f}%"
            if label.startswith("recall")
            else f"{value:.2f}x"
            if "/" in label
            else f"{value:.1f}"
        )
        goal = (
            f"{target * 100:.0f}%"
            if label.startswith("recall")
            else f"{target:g}x"
            if "/" in label
            else f"{target:g}"
        )
        out.write(
            f"  {label:<24} {shown:>8}   target {'>=' if at_least else '<='} {goal}: "
            f"{'ok' if ok else 'MISSED'}\n"
        )
    return met
