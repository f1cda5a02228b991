// Continue's own reading of a config.yaml, for tests/continue/.
//
//   node continue-config.mjs check CONFIG
//     Parses CONFIG with @continuedev/config-yaml exactly as Continue does (parseConfigYaml,
//     then validateConfigYaml) and prints one JSON object:
//       {"ok": bool, "errors": [...], "dropped": [...], "config": {...}}
//     `dropped` lists the keys Continue's schema does not know (its parser drops them
//     silently); `config` is what Continue keeps. Exits 1 unless ok.
//
//   node continue-config.mjs render CONFIG OUT BASE [--no-context]
//     Writes CONFIG to OUT with http://127.0.0.1:8765 replaced by BASE (a test's port);
//     --no-context adds `requestOptions.extraBodyProperties: {quill: {context: false}}` to
//     the chat model, which asks Quill not to add its codebase context.
import { readFileSync, writeFileSync } from "node:fs";

import { parseConfigYaml, validateConfigYaml } from "@continuedev/config-yaml";
import YAML from "yaml";

const DEFAULT_BASE = "http://127.0.0.1:8765";

function droppedKeys(raw, kept, path, out) {
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => droppedKeys(item, kept?.[i], `${path}[${i}]`, out));
  } else if (raw !== null && typeof raw === "object") {
    for (const key of Object.keys(raw)) {
      const where = path ? `${path}.${key}` : key;
      if (kept === null || typeof kept !== "object" || !(key in kept)) {
        out.push(where);
      } else {
        droppedKeys(raw[key], kept[key], where, out);
      }
    }
  }
  return out;
}

function check(file) {
  const text = readFileSync(file, "utf8");
  const result = { ok: false, errors: [], dropped: [], config: null };
  try {
    const kept = parseConfigYaml(text);
    result.config = kept;
    result.dropped = droppedKeys(YAML.parse(text), kept, "", []);
    result.errors = validateConfigYaml(kept).map((e) => e.message);
  } catch (e) {
    result.errors.push(e instanceof Error ? e.message : String(e));
  }
  result.ok = result.errors.length === 0 && result.dropped.length === 0;
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exitCode = result.ok ? 0 : 1;
}

function render(file, out, base, flags) {
  const text = readFileSync(file, "utf8").replaceAll(DEFAULT_BASE, base);
  const doc = YAML.parseDocument(text);
  if (flags.includes("--no-context")) {
    const models = doc.get("models");
    for (const model of models.items) {
      if (model.get("roles").items.some((r) => r.value === "chat")) {
        model.set("requestOptions", { extraBodyProperties: { quill: { context: false } } });
      }
    }
  }
  writeFileSync(out, doc.toString());
}

const [command, ...args] = process.argv.slice(2);
if (command === "check" && args.length === 1) {
  check(args[0]);
} else if (command === "render" && args.length >= 3) {
  render(args[0], args[1], args[2], args.slice(3));
} else {
  process.stderr.write("usage: continue-config.mjs check CONFIG | render CONFIG OUT BASE\n");
  process.exitCode = 2;
}
