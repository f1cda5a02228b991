import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { buildQuillSettings, explicitValue, problemsMessage, quillKeys, typeProblem, type Inspected, type SettingSchema } from "../src/settings";

const properties = (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
}).contributes.configuration.properties;

function inspector(values: Record<string, Inspected>): (key: string) => Inspected | undefined {
  return (key) => values[key];
}

test("every Quill setting is an extension setting, and the extension's own are not sent", () => {
  const keys = quillKeys(properties).map(([k]) => k);
  assert.ok(keys.includes("completion.maxTokens"));
  assert.ok(keys.includes("models"));
  assert.ok(keys.includes("trustedWorkspaces"));
  assert.ok(!keys.includes("pythonPath") && !keys.includes("installRoot") && !keys.includes("trace.server"));
});

test("only values the user set are sent, nested by their dotted keys", () => {
  const { settings, problems } = buildQuillSettings(
    properties,
    inspector({
      "completion.maxTokens": { globalValue: 32 },
      "completion.enabled": { globalValue: true, workspaceValue: false },
      "chat.temperature": { workspaceFolderValue: 0.5, globalValue: 0.1 },
      logLevel: { globalValue: "debug" },
      "index.exclude": { globalValue: ["build/**"] },
      models: { globalValue: { big: { provider: "openai", baseUrl: "http://127.0.0.1:8080/v1" } } },
      endpoint: { globalValue: null },
      "pythonPath": { globalValue: "/usr/bin/python3" },
    }),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    completion: { maxTokens: 32, enabled: false },
    chat: { temperature: 0.5 },
    logLevel: "debug",
    index: { exclude: ["build/**"] },
    models: { big: { provider: "openai", baseUrl: "http://127.0.0.1:8080/v1" } },
  });
});

test("settings that decide where code goes come from the user's settings only", () => {
  const endpoint = properties["quill.endpoint"];
  assert.equal(endpoint.scope, "machine");
  assert.equal(explicitValue(endpoint, { workspaceValue: "http://evil.example/v1" }), undefined);
  assert.equal(explicitValue(endpoint, { globalValue: "http://127.0.0.1:8080/v1", workspaceValue: "http://evil.example/v1" }), "http://127.0.0.1:8080/v1");
  assert.equal(properties["quill.routes.chat"].scope, "machine");
  assert.equal(properties["quill.trustedWorkspaces"].scope, "machine");
  assert.equal(properties["quill.completion.maxTokens"].scope, undefined);
  // restricted settings in a folder the user has not trusted
  assert.equal(explicitValue({ type: "string" }, { workspaceValue: "./evil" }, { restricted: true, trusted: false }), undefined);
  assert.equal(explicitValue({ type: "string" }, { workspaceValue: "./ok" }, { restricted: true, trusted: true }), "./ok");
});

test("values of the wrong type are dropped with one message naming each", () => {
  const { settings, problems } = buildQuillSettings(
    properties,
    inspector({
      "completion.maxTokens": { globalValue: "lots" },
      "completion.contextTokens": { globalValue: 12.5 },
      "completion.enabled": { globalValue: "yes" },
      logLevel: { globalValue: "loud" },
      "index.exclude": { globalValue: ["ok", 3] },
      models: { globalValue: [] },
      "chat.maxTokens": { globalValue: 100 },
    }),
  );
  assert.deepEqual(settings, { chat: { maxTokens: 100 } });
  assert.deepEqual(
    problems.map((p) => p.key),
    ["quill.models", "quill.completion.enabled", "quill.completion.maxTokens", "quill.completion.contextTokens", "quill.index.exclude", "quill.logLevel"].sort((a, b) => order(a) - order(b)),
  );
  const message = problemsMessage(problems);
  assert.ok(message !== null);
  assert.match(message, /quill\.completion\.maxTokens \(expected an integer, got a string\)/);
  assert.match(message, /quill\.logLevel \(expected one of "debug", "info", "warning", "error", got "loud"\)/);
  assert.match(message, /quill\.index\.exclude \(expected a list of strings, got a list holding an integer\)/);
  assert.match(message, /quill\.completion\.enabled \(expected true or false, got a string\)/);
  assert.equal(problemsMessage([]), null);
});

function order(key: string): number {
  return Object.keys(properties).indexOf(key);
}

test("type checks", () => {
  assert.equal(typeProblem({ type: ["string", "null"] }, "x"), null);
  assert.equal(typeProblem({ type: "number" }, 3), null);
  assert.deepEqual(typeProblem({ type: "number" }, "3"), { expected: "a number", got: "a string" });
  assert.deepEqual(typeProblem({ type: "object" }, [1]), { expected: "an object", got: "a list" });
  assert.equal(typeProblem({ type: "integer" }, 3), null);
});
