import assert from "node:assert/strict";
import { test } from "node:test";

import { chooseInterpreter, expandPath, interpreterCandidates, InterpreterSettingError, SERVER_ARGS, shebangInterpreter, venvPython, type ProbeResult } from "../src/interpreter";

const base = { workspaceFolders: ["/work/app"], home: "/home/me", platform: "linux" };

test("the server runs as python -m quill.cli lsp (stdio, no --stdio flag)", () => {
  assert.deepEqual([...SERVER_ARGS], ["-m", "quill.cli", "lsp"]);
});

test("with nothing set: install root, workspace .venv, the quill script's interpreter, python3", () => {
  assert.deepEqual(
    interpreterCandidates({ ...base, installRoot: "~/src/quill", quillScriptInterpreter: "/opt/quill/.venv/bin/python3" }).map((c) => [c.command, c.explicit]),
    [
      ["/home/me/src/quill/.venv/bin/python", true],
      ["/work/app/.venv/bin/python", false],
      ["/opt/quill/.venv/bin/python3", false],
      ["python3", false],
    ],
  );
  assert.deepEqual(interpreterCandidates({ ...base, workspaceFolders: [] }).map((c) => c.command), ["python3"]);
});

test("a pythonPath set by the user is the only candidate; ~ and ${workspaceFolder} expand", () => {
  assert.deepEqual(interpreterCandidates({ ...base, pythonPath: "${workspaceFolder}/.venv/bin/python", installRoot: "/x" }), [
    { command: "/work/app/.venv/bin/python", source: "quill.pythonPath", explicit: true },
  ]);
  assert.equal(expandPath("~/q/bin/python", "/home/me", undefined), "/home/me/q/bin/python");
  assert.equal(expandPath("venv/bin/python", "/home/me", "/work/app"), "/work/app/venv/bin/python");
  assert.equal(expandPath("python3.12", "/home/me", "/work/app"), "python3.12");
  assert.deepEqual(interpreterCandidates({ ...base, pythonPath: "  " }).map((c) => c.command), ["/work/app/.venv/bin/python", "python3"]);
});

test("a pythonPath of the wrong type is a clear error", () => {
  assert.throws(() => interpreterCandidates({ ...base, pythonPath: 3 }), (e: unknown) => e instanceof InterpreterSettingError && /quill\.pythonPath must be a path/.test(e.message));
  assert.throws(() => interpreterCandidates({ ...base, installRoot: ["/x"] }), /quill\.installRoot must be a path \(a string\), not a list/);
});

test("Windows venvs keep python in Scripts", () => {
  assert.match(venvPython("C:\\q", "win32"), /\.venv[\\/]Scripts[\\/]python\.exe$/);
  assert.equal(interpreterCandidates({ ...base, workspaceFolders: [], platform: "win32" })[0].command, "python");
});

test("shebang lines", () => {
  assert.equal(shebangInterpreter("#!/home/me/quill/.venv/bin/python3"), "/home/me/quill/.venv/bin/python3");
  assert.equal(shebangInterpreter("#!/usr/bin/env -S python3"), "python3");
  assert.equal(shebangInterpreter("#! /usr/bin/python3 -u"), "/usr/bin/python3");
  assert.equal(shebangInterpreter("\x7fELF"), null);
});

function prober(table: Record<string, ProbeResult>) {
  const asked: string[] = [];
  return { asked, probe: async (c: string) => (asked.push(c), table[c] ?? { ok: false, found: false, detail: "not found" }) };
}

test("the first interpreter that imports Quill wins; the others are logged", async () => {
  const { probe, asked } = prober({
    "/work/app/.venv/bin/python": { ok: false, found: true, detail: "ModuleNotFoundError: No module named 'quill'" },
    python3: { ok: true, found: true, detail: "" },
  });
  const chosen = await chooseInterpreter(interpreterCandidates(base), probe);
  assert.equal(chosen.command, "python3");
  assert.deepEqual(asked, ["/work/app/.venv/bin/python", "python3"]);
  assert.match(chosen.skipped[0], /No module named 'quill'/);
});

test("a wrong pythonPath says so and does not fall back", async () => {
  const { probe } = prober({ python3: { ok: true, found: true, detail: "" } });
  await assert.rejects(chooseInterpreter(interpreterCandidates({ ...base, pythonPath: "/nope/python" }), probe), /quill\.pythonPath points at \/nope\/python, which does not exist/);
  const broken = prober({ "/usr/bin/python3": { ok: false, found: true, detail: "ModuleNotFoundError: No module named 'quill'" } });
  await assert.rejects(chooseInterpreter(interpreterCandidates({ ...base, pythonPath: "/usr/bin/python3" }), broken.probe), /cannot run Quill: ModuleNotFoundError/);
});

test("no interpreter with Quill: one actionable line", async () => {
  const { probe } = prober({});
  await assert.rejects(chooseInterpreter(interpreterCandidates(base), probe), /no Python with Quill installed was found\. Run `make setup`/);
});
