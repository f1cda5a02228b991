import assert from "node:assert/strict";
import { test } from "node:test";

import { RestartPolicy } from "../src/restartPolicy";
import { startingView, statusView, stoppedView } from "../src/status";

const ready = {
  kind: "Normal",
  message: "local (SmolLM2-135M-Instruct.Q4_1.gguf) ready",
  busy: false,
  models: [{ name: "local", healthy: true, model: "SmolLM2-135M-Instruct.Q4_1.gguf", contextSize: 2048, fimMode: "chat" }],
  completion: { requests: 12, modelCalls: 3, acceptanceRate: 0.5, latencyMsP50: 410.2, latencyMsP95: 980, cacheHitRate: 0.25 },
  gateway: null,
};

test("a healthy model: its name, a check mark, details in the tooltip", () => {
  const view = statusView(ready);
  assert.equal(view.text, "$(check) Quill: local");
  assert.equal(view.severity, "normal");
  assert.match(view.tooltip, /^Quill — local \(SmolLM2-135M-Instruct\.Q4_1\.gguf\) ready/);
  assert.match(view.tooltip, /local \(SmolLM2-135M-Instruct\.Q4_1\.gguf\): healthy/);
  assert.match(view.tooltip, /Completions: accepted 50%, p50 410 ms, p95 980 ms, cache hits 25%/);
});

test("busy spins; warnings and errors say so", () => {
  assert.equal(statusView({ ...ready, busy: true }).text, "$(sync~spin) Quill: local");
  const fallback = statusView({
    kind: "Warning",
    message: "endpoint unavailable (connection refused); using local",
    models: [
      { name: "endpoint", healthy: false, message: "connection refused" },
      { name: "local", healthy: true },
    ],
  });
  assert.equal(fallback.text, "$(warning) Quill: local");
  assert.equal(fallback.severity, "warning");
  assert.match(fallback.tooltip, /endpoint: unhealthy — connection refused/);
  const down = statusView({ kind: "Error", message: "no model available (local: file missing)", models: [{ name: "local", healthy: false }] });
  assert.equal(down.text, "$(error) Quill: local");
  assert.equal(down.severity, "error");
  assert.equal(statusView({ kind: "Inactive", message: "Quill is disabled", models: [] }).text, "$(circle-slash) Quill: off");
});

test("a malformed status does not throw", () => {
  for (const junk of [null, undefined, 3, "x", [], { kind: 5, models: "no" }, { models: [null, { name: 3 }] }]) {
    const view = statusView(junk);
    assert.equal(view.severity, "error");
    assert.match(view.text, /Quill/);
  }
});

test("starting and stopped", () => {
  assert.match(startingView().text, /starting/);
  const stopped = stoppedView("the server stopped 4 times in 3 minutes");
  assert.equal(stopped.text, "$(error) Quill: stopped");
  assert.match(stopped.tooltip, /4 times.*\nClick to restart/s);
});

test("crashes restart the server three times within the window, then it stays down", () => {
  const policy = new RestartPolicy(3, 180_000);
  assert.deepEqual([0, 1000, 2000].map((t) => policy.crashed(t).restart), [true, true, true]);
  assert.deepEqual(policy.crashed(3000), { restart: false, crashes: 4 });
  assert.equal(policy.crashed(4000).restart, false);
  // old crashes leave the window
  assert.equal(policy.crashed(4000 + 180_000).restart, true);
  policy.reset();
  assert.equal(policy.crashed(10).crashes, 1);
});
