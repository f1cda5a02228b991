// Which Python runs `python -m quill.cli lsp`: the candidates in order, and the messages
// for a wrong path. Pure: the file system and process probes are passed in.

import * as path from "node:path";

export const SERVER_ARGS: readonly string[] = ["-m", "quill.cli", "lsp"];

export interface Candidate {
  /** an absolute path, or a bare command looked up on PATH (`python3`) */
  command: string;
  /** where it came from, for messages */
  source: string;
  /** named by the user: a failure is reported, not skipped */
  explicit: boolean;
}

export interface InterpreterInputs {
  pythonPath?: unknown;
  installRoot?: unknown;
  workspaceFolders: readonly string[];
  home: string;
  platform: string;
  /** the interpreter named on the first line of the `quill` script on PATH, if any */
  quillScriptInterpreter?: string | null;
}

export class InterpreterSettingError extends Error {}

/** `~` and `${workspaceFolder}` expanded; relative paths are taken from the first folder. */
export function expandPath(value: string, home: string, folder: string | undefined): string {
  let out = value.trim();
  if (out === "~" || out.startsWith("~/")) out = home + out.slice(1);
  if (folder !== undefined) out = out.split("${workspaceFolder}").join(folder);
  if (!path.isAbsolute(out) && folder !== undefined && (out.includes("/") || out.includes("\\"))) {
    out = path.join(folder, out);
  }
  return out;
}

export function venvPython(root: string, platform: string): string {
  return platform === "win32" ? path.join(root, ".venv", "Scripts", "python.exe") : path.join(root, ".venv", "bin", "python");
}

/** The interpreter a `#!` line names (`#!/x/.venv/bin/python3`, `#!/usr/bin/env python3`). */
export function shebangInterpreter(firstLine: string): string | null {
  if (!firstLine.startsWith("#!")) return null;
  const words = firstLine.slice(2).trim().split(/\s+/);
  if (words.length === 0 || words[0] === "") return null;
  if (path.basename(words[0]) === "env") {
    const rest = words.slice(1).filter((w) => !w.startsWith("-"));
    return rest[0] ?? null;
  }
  return words[0];
}

function asPath(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new InterpreterSettingError(`Quill: ${key} must be a path (a string), not ${Array.isArray(value) ? "a list" : typeof value}.`);
  }
  return value.trim() === "" ? undefined : value;
}

/** The interpreters to try, in order. A `pythonPath` set by the user is the only one. */
export function interpreterCandidates(inputs: InterpreterInputs): Candidate[] {
  const folder = inputs.workspaceFolders[0];
  const pythonPath = asPath("quill.pythonPath", inputs.pythonPath);
  if (pythonPath !== undefined) {
    return [{ command: expandPath(pythonPath, inputs.home, folder), source: "quill.pythonPath", explicit: true }];
  }
  const out: Candidate[] = [];
  const root = asPath("quill.installRoot", inputs.installRoot);
  if (root !== undefined) {
    out.push({ command: venvPython(expandPath(root, inputs.home, folder), inputs.platform), source: "quill.installRoot", explicit: true });
  }
  for (const f of inputs.workspaceFolders) {
    out.push({ command: venvPython(f, inputs.platform), source: `the workspace's .venv (${f})`, explicit: false });
  }
  if (inputs.quillScriptInterpreter) {
    out.push({ command: inputs.quillScriptInterpreter, source: "the `quill` command on PATH", explicit: false });
  }
  out.push({ command: inputs.platform === "win32" ? "python" : "python3", source: "PATH", explicit: false });
  const seen = new Set<string>();
  return out.filter((c) => !seen.has(c.command) && seen.add(c.command));
}

export interface ProbeResult {
  ok: boolean;
  /** false when the file is not there (ENOENT) */
  found: boolean;
  detail: string;
}

export type Probe = (command: string) => Promise<ProbeResult>;

export interface Chosen {
  command: string;
  source: string;
  /** what was tried and why it was passed over, for the log */
  skipped: string[];
}

/** The first candidate that can import Quill, or an error with one actionable line. */
export async function chooseInterpreter(candidates: Candidate[], probe: Probe): Promise<Chosen> {
  const skipped: string[] = [];
  for (const c of candidates) {
    const result = await probe(c.command);
    if (result.ok) return { command: c.command, source: c.source, skipped };
    if (c.explicit) {
      if (!result.found) {
        throw new InterpreterSettingError(`Quill: ${c.source} points at ${c.command}, which does not exist. Fix the setting, or clear it to use Quill's .venv.`);
      }
      throw new InterpreterSettingError(`Quill: ${c.command} (from ${c.source}) cannot run Quill: ${result.detail}. Install Quill into it (make setup) or point ${c.source} elsewhere.`);
    }
    skipped.push(`${c.command} (${c.source}): ${result.found ? result.detail : "not found"}`);
  }
  throw new InterpreterSettingError(
    "Quill: no Python with Quill installed was found. Run `make setup` in Quill's folder and set quill.installRoot to it (or quill.pythonPath to its .venv's python).",
  );
}
