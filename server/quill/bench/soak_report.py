"""The figures of ``quill bench soak``: the memory and task samples over time, latencies per
feature, errors, and the verdicts on its targets (RSS growth after warm-up, leaked tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from quill.stats import percentile

__all__ = ["RSS_GROWTH_TARGET", "Sample", "SoakResult", "write_report"]

RSS_GROWTH_TARGET = 0.05


@dataclass
class Sample:
    at_s: float
    rss_bytes: int
    tasks: int
    threads: int


@dataclass
class SoakResult:
    duration_s: float
    warmup_s: float
    samples: list[Sample] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)
    tasks_after_warmup: int | None = None
    tasks_idle_at_end: int | None = None
    alive_at_end: bool = False

    def after_warmup(self) -> list[Sample]:
        """The samples from the idle point after warm-up on."""
        return [s for s in self.samples if s.at_s >= self.warmup_s] or self.samples[-1:]

    @property
    def rss_growth(self) -> float | None:
        steady = self.after_warmup()
        if len(steady) < 2 or steady[0].rss_bytes <= 0:
            return None
        return (steady[-1].rss_bytes - steady[0].rss_bytes) / steady[0].rss_bytes

    @property
    def leaked_tasks(self) -> int | None:
        if self.tasks_after_warmup is None or self.tasks_idle_at_end is None:
            return None
        return max(0, self.tasks_idle_at_end - self.tasks_after_warmup)

    def to_json(self) -> dict[str, Any]:
        growth = self.rss_growth
        leaked = self.leaked_tasks
        return {
            "bench": "soak",
            "durationS": round(self.duration_s, 1),
            "warmupS": round(self.warmup_s, 1),
            "samples": [
                {
                    "atS": round(s.at_s, 1),
                    "rssMiB": round(s.rss_bytes / 2**20, 1),
                    "tasks": s.tasks,
                    "threads": s.threads,
                }
                for s in self.samples
            ],
            "sent": self.sent,
            "errors": self.errors,
            "errorExamples": self.error_examples[:5],
            "latencyMs": {
                name: {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
                for name, v in sorted(self.latencies_ms.items())
            },
            "rssGrowth": None if growth is None else round(growth, 4),
            "tasksAfterWarmup": self.tasks_after_warmup,
            "tasksIdleAtEnd": self.tasks_idle_at_end,
            "leakedTasks": leaked,
            "aliveAtEnd": self.alive_at_end,
            "targets": {"rssGrowth": RSS_GROWTH_TARGET, "leakedTasks": 0},
            "met": {
                "rssGrowth": growth is not None and growth <= RSS_GROWTH_TARGET,
                "leakedTasks": leaked == 0,
            },
        }


def write_report(report: dict[str, Any], files: Sequence[Path], out: TextIO) -> None:
    out.write(
        f"Quill soak: {report['durationS']:.0f} s of completions, actions and chat on "
        f"{', '.join(p.as_posix() for p in files)} (warm-up {report['warmupS']:.0f} s)\n"
    )
    for s in report["samples"]:
        out.write(f"  {s['atS']:7.1f} s  RSS {s['rssMiB']:7.1f} MiB  tasks {s['tasks']:3d}\n")
    sent = ", ".join(f"{k} {v}" for k, v in sorted(report["sent"].items()))
    errors = ", ".join(f"{k} {v}" for k, v in sorted(report["errors"].items())) or "none"
    out.write(f"requests: {sent}; errors: {errors}\n")
    for example in report["errorExamples"]:
        out.write(f"  e.g. {example}\n")
    for name, lat in report["latencyMs"].items():
        out.write(f"latency {name}: p50 {lat['p50']} ms, p99 {lat['p99']} ms (n={lat['n']})\n")
    growth = report["rssGrowth"]
    growth_text = "not measured" if growth is None else f"{growth * 100:+.1f}%"
    met = report["met"]
    out.write(
        f"RSS growth after warm-up: {growth_text} (target <= 5%, "
        f"{'met' if met['rssGrowth'] else 'MISSED'})\n"
        f"tasks: {report['tasksAfterWarmup']} after warm-up, {report['tasksIdleAtEnd']} idle at "
        f"the end: {report['leakedTasks']} leaked (target 0, "
        f"{'met' if met['leakedTasks'] else 'MISSED'}); server alive at the end: "
        f"{report['aliveAtEnd']}\n"
    )
