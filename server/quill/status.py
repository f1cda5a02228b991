"""Quill's state for an editor's status bar (the shape of Copilot's didChangeStatus), made
from the models' routes, health and circuit breakers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from quill.models.base import ModelHealth
from quill.models.router import ModelRouter

__all__ = ["Status", "StatusKind", "model_status"]

StatusKind = Literal["Normal", "Warning", "Error", "Inactive"]


@dataclass
class Status:
    """Quill's state for an editor's status bar (the shape of Copilot's didChangeStatus)."""

    kind: StatusKind
    message: str
    busy: bool = False
    models: list[dict[str, object]] = field(default_factory=list)
    completion: dict[str, object] = field(default_factory=dict)
    #: the local gateway when one runs: {url, port, tokenFile, pageUrl}
    gateway: dict[str, object] | None = None
    #: the server process: {rssBytes, tasks, threads}, and over LSP requestsInFlight
    process: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "busy": self.busy,
            "models": self.models,
            "completion": self.completion,
            "gateway": self.gateway,
            "process": self.process,
        }


def model_status(
    router: ModelRouter, health: dict[str, ModelHealth], *, busy: bool, enabled: bool
) -> Status:
    """What the status bar says about the completion route's models."""
    if not enabled and not router.providers:
        return Status("Inactive", "Quill is disabled")
    route = router.route("completion")
    paused = router.paused_models()
    models: list[dict[str, object]] = []
    for name in router.providers:
        entry: dict[str, object] = health[name].to_json() if name in health else {"name": name}
        models.append(entry)
    for entry in models:
        entry["paused"] = entry["name"] in paused
    usable = [n for n in route if n not in paused and (n not in health or health[n].healthy)]
    if not usable:
        reasons = "; ".join(
            f"{n}: {paused.get(n) or (health[n].message if n in health else '')}" for n in route
        )
        return Status("Error", f"no model available ({reasons})", busy, models)
    primary = route[0]
    if usable[0] != primary:
        why = paused.get(primary) or (health[primary].message if primary in health else "")
        return Status(
            "Warning",
            f"{primary} unavailable ({why}); using {usable[0]}",
            busy,
            models,
        )
    checked = health.get(primary)
    what = checked.model if checked and checked.model else primary
    warnings = checked.warnings if checked else []
    if warnings:
        return Status("Warning", f"{what}: {warnings[0]}", busy, models)
    state = "ready" if checked else "not checked yet"
    return Status("Normal", f"{primary} ({what}) {state}", busy, models)
