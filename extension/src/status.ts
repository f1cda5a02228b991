// What the status-bar item says, from `quill/status` / `quill/statusChanged`
// ({kind, message, busy, models, completion, gateway}; see docs/protocol.md).

export type Severity = "normal" | "warning" | "error" | "inactive";

export interface StatusView {
  text: string;
  tooltip: string;
  severity: Severity;
}

interface ModelEntry {
  name: string;
  healthy?: boolean;
  paused?: boolean;
  model?: string | null;
  message?: string | null;
}

const ICONS: Record<Severity, string> = {
  normal: "$(check)",
  warning: "$(warning)",
  error: "$(error)",
  inactive: "$(circle-slash)",
};

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function models(value: unknown): ModelEntry[] {
  if (!Array.isArray(value)) return [];
  const out: ModelEntry[] = [];
  for (const item of value) {
    const m = record(item);
    if (typeof m.name !== "string") continue;
    out.push({
      name: m.name,
      healthy: typeof m.healthy === "boolean" ? m.healthy : undefined,
      paused: m.paused === true,
      model: typeof m.model === "string" ? m.model : null,
      message: typeof m.message === "string" ? m.message : null,
    });
  }
  return out;
}

function percent(value: unknown): string | null {
  return typeof value === "number" && Number.isFinite(value) ? `${Math.round(value * 100)}%` : null;
}

function ms(value: unknown): string | null {
  return typeof value === "number" && Number.isFinite(value) ? `${Math.round(value)} ms` : null;
}

/** The status bar for a status message from the server (anything malformed says so). */
export function statusView(status: unknown): StatusView {
  const s = record(status);
  const kind = typeof s.kind === "string" ? s.kind : "";
  const severity: Severity = kind === "Normal" ? "normal" : kind === "Warning" ? "warning" : kind === "Inactive" ? "inactive" : "error";
  const message = typeof s.message === "string" && s.message ? s.message : kind ? kind : "no status";
  const list = models(s.models);
  // the model the message is about comes first in it ("local (…) ready", "x unavailable; using y")
  const named = list.find((m) => message.startsWith(m.name + " ") || message.startsWith(m.name + ":"));
  const using = /using (\S+)$/.exec(message)?.[1];
  const shown = list.find((m) => m.name === using) ?? named ?? list.find((m) => m.healthy && !m.paused) ?? list[0];
  const busy = s.busy === true;
  const icon = busy && severity === "normal" ? "$(sync~spin)" : ICONS[severity];
  const label = severity === "inactive" ? "Quill: off" : `Quill: ${shown ? shown.name : severity === "error" ? "no model" : "…"}`;
  const lines = [`Quill — ${message}`];
  for (const m of list) {
    const health = m.paused ? "paused" : m.healthy === true ? "healthy" : m.healthy === false ? "unhealthy" : "not checked";
    const detail = m.message && m.healthy === false ? ` — ${m.message}` : "";
    lines.push(`${m.name}${m.model ? ` (${m.model})` : ""}: ${health}${detail}`);
  }
  const c = record(s.completion);
  const stats = [
    percent(c.acceptanceRate) && `accepted ${percent(c.acceptanceRate)}`,
    ms(c.latencyMsP50) && `p50 ${ms(c.latencyMsP50)}`,
    ms(c.latencyMsP95) && `p95 ${ms(c.latencyMsP95)}`,
    percent(c.cacheHitRate) && `cache hits ${percent(c.cacheHitRate)}`,
  ].filter((x): x is string => typeof x === "string");
  if (stats.length > 0) lines.push(`Completions: ${stats.join(", ")}`);
  if (busy) lines.push("Working…");
  return { text: `${icon} ${label}`, tooltip: lines.join("\n"), severity };
}

export function startingView(): StatusView {
  return { text: "$(sync~spin) Quill: starting", tooltip: "Quill — starting the server", severity: "normal" };
}

/** The server is not running: `reason` says why; a click restarts it. */
export function stoppedView(reason: string): StatusView {
  return { text: "$(error) Quill: stopped", tooltip: `Quill — ${reason}\nClick to restart the server.`, severity: "error" };
}
