// Extension settings → Quill's settings, one for one: `quill.completion.maxTokens` becomes
// `{completion: {maxTokens}}`. Only values the user set are sent, so Quill's own config file
// and `.quill.toml` keep applying underneath. Values of the wrong JSON type are dropped here
// with one message; ranges and everything else are the server's to check.

export interface SettingSchema {
  type?: string | string[];
  enum?: unknown[];
  items?: { type?: string };
  scope?: string;
}

/** What `WorkspaceConfiguration.inspect` reports for one key (the parts used here). */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export interface SettingProblem {
  key: string;
  expected: string;
  got: string;
}

export interface QuillSettings {
  settings: Record<string, unknown>;
  problems: SettingProblem[];
}

/** The extension's own settings (under `quill.`), never sent to the server. */
export const EXTENSION_KEYS: ReadonlySet<string> = new Set(["pythonPath", "installRoot", "trace.server"]);

/** Settings that change how the server is started: a change restarts it. */
export const RESTART_KEYS: readonly string[] = ["pythonPath", "installRoot"];

const SECTION = "quill.";

/** Quill's keys (without `quill.`) and their schema, from package.json's properties. */
export function quillKeys(properties: Record<string, SettingSchema>): Array<[string, SettingSchema]> {
  const out: Array<[string, SettingSchema]> = [];
  for (const [name, schema] of Object.entries(properties)) {
    if (!name.startsWith(SECTION)) continue;
    const key = name.slice(SECTION.length);
    if (!EXTENSION_KEYS.has(key)) out.push([key, schema]);
  }
  return out;
}

/** The value the user set for a key, or undefined. Settings with machine or application
 * scope come from the user's settings only, never from a workspace's own `.vscode/settings.json`;
 * in a folder the user has not trusted, neither do `restricted` ones. */
export function explicitValue(schema: SettingSchema, inspected: Inspected | undefined, options: { trusted?: boolean; restricted?: boolean } = {}): unknown {
  if (inspected === undefined) return undefined;
  const userOnly = schema.scope === "machine" || schema.scope === "application" || (options.restricted === true && options.trusted === false);
  const value = userOnly
    ? inspected.globalValue
    : (inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue);
  return value === null ? undefined : value;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function matches(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "null":
      return value === null;
    default:
      return true;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  boolean: "true or false",
  integer: "an integer",
  number: "a number",
  array: "a list",
  object: "an object",
};

/** Why `value` does not fit `schema`, or null when it does. */
export function typeProblem(schema: SettingSchema, value: unknown): { expected: string; got: string } | null {
  const types = (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []).filter((t) => t !== "null");
  if (types.length > 0 && !types.some((t) => matches(t, value))) {
    return { expected: types.map((t) => TYPE_WORDS[t] ?? t).join(" or "), got: typeName(value) };
  }
  if (schema.enum && !schema.enum.includes(value)) {
    return { expected: `one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`, got: JSON.stringify(value) };
  }
  if (Array.isArray(value) && schema.items?.type) {
    const itemType = schema.items.type;
    const bad = value.find((item) => !matches(itemType, item));
    if (bad !== undefined) {
      return { expected: `a list of ${(TYPE_WORDS[itemType] ?? itemType).replace(/^an? /, "")}s`, got: `a list holding ${typeName(bad)}` };
    }
  }
  return null;
}

function setPath(tree: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Quill's settings tree from what the user set, and the values that were dropped. */
export function buildQuillSettings(
  properties: Record<string, SettingSchema>,
  inspect: (key: string) => Inspected | undefined,
  trusted = true,
): QuillSettings {
  const settings: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const [key, schema] of quillKeys(properties)) {
    const value = explicitValue(schema, inspect(key), { trusted });
    if (value === undefined) continue;
    const problem = typeProblem(schema, value);
    if (problem) {
      problems.push({ key: SECTION + key, ...problem });
      continue;
    }
    setPath(settings, key, value);
  }
  return { settings, problems };
}

/** One line for the user naming every dropped setting. */
export function problemsMessage(problems: SettingProblem[]): string | null {
  if (problems.length === 0) return null;
  const parts = problems.map((p) => `${p.key} (expected ${p.expected}, got ${p.got})`);
  return `Quill: ignored settings of the wrong type: ${parts.join("; ")}. Their defaults apply.`;
}
