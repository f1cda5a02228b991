// End-to-end: the packaged extension in a real Code-OSS (code-server from npm), driven by
// playwright-core in Debian's Chromium, against the real `quill lsp` on the embedded model.
//
//   node extension/e2e/run.mjs --vsix extension/dist/quill.vsix --python .venv/bin/python \
//        --artifacts extension/e2e/artifacts
//
// Steps (a screenshot of each goes to the artifacts folder): the status-bar item reports the
// model; typing in a Python file shows ghost text and Tab accepts it (checked in the saved
// file); "Quill: Explain" from the palette puts the answer in the chat view; a chat question
// streams its answer and Stop stops one; "Quill: Refactor" changes the buffer; a wrong
// interpreter path and a crashing server say so in the status bar, the crashes stop after
// three restarts, and "Quill: Restart Server" brings it back. Prints one JSON line; exits 1
// with the reason (and the logs copied to the artifacts folder) when a step fails.

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const vsix = path.resolve(arg("vsix", path.join(repo, "extension", "dist", "quill.vsix")));
const python = path.resolve(arg("python", path.join(repo, ".venv", "bin", "python")));
const artifacts = path.resolve(arg("artifacts", path.join(here, "artifacts")));
const codeServer = path.join(here, "node_modules", ".bin", "code-server");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const MODEL_WAIT = Number(process.env.QUILL_E2E_MODEL_WAIT_MS || 240_000);

const started = Date.now();
const seen = { steps: [] };
const secs = () => Math.round((Date.now() - started) / 100) / 10;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function log(message) {
  process.stderr.write(`[e2e ${secs()}s] ${message}\n`);
}

// ------------------------------------------------------------------ a private world

fs.rmSync(artifacts, { recursive: true, force: true });
fs.mkdirSync(artifacts, { recursive: true });
const root = fs.mkdtempSync(path.join(os.tmpdir(), "quill-e2e-"));
const dirs = {};
for (const d of ["user-data", "extensions", "config", "cache", "data", "state", "tmp", "project"]) {
  dirs[d] = path.join(root, d);
  fs.mkdirSync(dirs[d], { recursive: true });
}
const project = dirs.project;
const SHAPES = `import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2


def total_area( circles ):
    result=0
    for c in circles :
        result=result+c.area( )
    return result
`;
const MAIN = `from shapes import Circle, total_area


def describe(circle):
    """Return a sentence about the circle's radius."""`;
fs.writeFileSync(path.join(project, "shapes.py"), SHAPES);
fs.writeFileSync(path.join(project, "main.py"), MAIN);

const settingsFile = path.join(dirs["user-data"], "User", "settings.json");
const userSettings = {
  "files.autoSave": "off",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "chat.commandCenter.enabled": false,
  "editor.inlineSuggest.enabled": true,
  // keep the word-based suggestion list out of the way of Tab
  "editor.quickSuggestions": { other: false, comments: false, strings: false },
  "editor.suggestOnTriggerCharacters": false,
  "editor.wordBasedSuggestions": "off",
  "editor.minimap.enabled": false,
  // settings.json is edited by inserting text: no brackets or quotes added to it
  "editor.autoClosingBrackets": "never",
  "editor.autoClosingQuotes": "never",
  "editor.autoSurround": "never",
  "editor.formatOnType": false,
};
// code-server is a remote window: settings of machine scope (the interpreter, where code goes)
// live in the remote ("Machine") settings, as on any remote host
const machineFile = path.join(dirs["user-data"], "Machine", "settings.json");
const machineSettings = { "quill.installRoot": path.dirname(path.dirname(path.dirname(python))) };
for (const [file, values] of [[settingsFile, userSettings], [machineFile, machineSettings]]) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(values, null, 2));
}
if (!fs.existsSync(python)) {
  throw new Error(`no Python at ${python}: run make setup`);
}

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("QUILL_") && k !== "OPENAI_API_KEY"));
Object.assign(env, {
  XDG_CONFIG_HOME: dirs.config,
  XDG_CACHE_HOME: dirs.cache,
  XDG_DATA_HOME: dirs.data,
  XDG_STATE_HOME: dirs.state,
  TMPDIR: dirs.tmp,
  QUILL_CONFIG_FILE: path.join(root, "no-user-config.toml"),
  PYTHONUNBUFFERED: "1",
});
const common = ["--user-data-dir", dirs["user-data"], "--extensions-dir", dirs.extensions];

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ code-server

let server;
let browser;
const serverOutput = [];

function quillServerPids() {
  const out = [];
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!(cmd.includes("quill.cli") && cmd.includes("lsp"))) continue;
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      if (environ.includes(`TMPDIR=${dirs.tmp}`)) out.push(Number(pid));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

let failShot = async () => undefined;

async function main() {
  check(fs.existsSync(codeServer), `no code-server at ${codeServer}: run make e2e-deps`);
  check(fs.existsSync(vsix), `no ${vsix}: run make extension`);
  const install = spawnSync(codeServer, [...common, "--install-extension", vsix, "--force"], { env, encoding: "utf8", timeout: 120_000 });
  check(install.status === 0, `installing the vsix failed: ${install.stdout}\n${install.stderr}`);
  seen.installed = (install.stdout.match(/Extension '.*' was successfully installed/) || [install.stdout.trim()])[0];
  log(seen.installed);

  const port = await freePort();
  const config = path.join(root, "code-server.yaml");
  fs.writeFileSync(config, "auth: none\n");
  server = spawn(
    codeServer,
    [
      "--config", config, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`,
      "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
      "--disable-getting-started-override", ...common, project,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  for (const stream of [server.stdout, server.stderr]) stream.on("data", (d) => serverOutput.push(String(d)));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    check(server.exitCode === null, `code-server exited: ${serverOutput.join("").slice(-2000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch {
      // not yet listening
    }
    check(Date.now() < deadline, "code-server did not listen within 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`code-server on port ${port}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  let shot = 0;
  const screenshot = async (name) => {
    const file = path.join(artifacts, `${String(++shot).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file });
    seen.steps.push({ step: name, at: secs() });
    log(`step ${name}`);
  };

  failShot = () => page.screenshot({ path: path.join(artifacts, "failure.png") });
  const statusItem = page.locator(".statusbar-item", { hasText: "Quill:" }).first();
  const statusText = async () => ((await statusItem.count()) ? (await statusItem.innerText()).trim() : "");
  const waitStatus = async (pattern, timeout = MODEL_WAIT) => {
    const end = Date.now() + timeout;
    let last = "";
    while (Date.now() < end) {
      last = await statusText();
      if (pattern.test(last)) return last;
      await page.waitForTimeout(500);
    }
    throw new Error(`the status bar never matched ${pattern}; it says ${JSON.stringify(last)}`);
  };
  const notifications = async () => page.locator(".notifications-toasts .notification-list-item-message").allInnerTexts();
  const waitNotification = async (pattern, timeout = 60_000) => {
    const end = Date.now() + timeout;
    let last = [];
    while (Date.now() < end) {
      last = await notifications();
      const hit = last.find((t) => pattern.test(t));
      if (hit) return hit;
      await page.waitForTimeout(500);
    }
    throw new Error(`no notification matched ${pattern}; shown: ${JSON.stringify(last)}`);
  };
  const clearNotifications = async () => {
    await palette("Notifications: Clear All Notifications").catch(() => undefined);
  };
  async function palette(command) {
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${command}`);
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first();
    await row.waitFor({ state: "visible", timeout: 15_000 });
    await row.click();
  }
  // settings are changed the way a user does it: in the settings.json editor, then saved
  async function editMachineSettings(extra) {
    await palette("Preferences: Open Remote Settings (JSON)");
    await page.locator(".tabs-container .tab.active", { hasText: "settings.json" }).waitFor();
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+A");
    const wanted = { ...machineSettings, ...extra };
    await page.keyboard.insertText(JSON.stringify(wanted));
    await page.keyboard.press("Control+S");
    await page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached", timeout: 15_000 });
    const written = JSON.parse(fs.readFileSync(machineFile, "utf8"));
    check(JSON.stringify(written) === JSON.stringify(wanted), `settings.json holds ${JSON.stringify(written)}`);
  }
  async function openFile(name) {
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible" });
    await input.fill(name);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor({ state: "visible" });
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab.active", { hasText: name }).waitFor();
    await page.locator(".editor-instance .monaco-editor textarea, .editor-instance .monaco-editor .native-edit-context").first().waitFor({ state: "attached" });
  }
  async function goToLine(line) {
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible" });
    await input.fill(`:${line}`);
    await page.waitForTimeout(300);
    await page.keyboard.press("Enter");
  }
  const editorText = async () => (await page.locator(".editor-instance .monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  const saveFile = async () => {
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+S");
    await page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached", timeout: 15_000 });
  };

  // ---------------------------------------------------------------- the workbench and status
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
  await page.locator(".explorer-folders-view, .monaco-workbench .part.sidebar").first().waitFor({ timeout: 60_000 });
  await screenshot("workbench");

  await openFile("main.py");
  seen.statusStarting = await waitStatus(/Quill:/, 60_000);
  seen.status = await waitStatus(/Quill: local/);
  seen.statusTooltip = await statusItem.getAttribute("aria-label");
  await screenshot("status-bar");

  // ---------------------------------------------------------------- ghost text, Tab
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("return ", { delay: 60 });
  const ghost = page.locator(".editor-instance .monaco-editor .ghost-text-decoration, .editor-instance .monaco-editor .ghost-text").first();
  let shown = false;
  for (let attempt = 0; attempt < 4 && !shown; attempt++) {
    try {
      await ghost.waitFor({ state: "visible", timeout: attempt === 0 ? 90_000 : 45_000 });
      shown = true;
    } catch {
      log(`no ghost text yet (attempt ${attempt + 1}); asking for one`);
      await palette("Trigger Inline Suggestion");
    }
  }
  check(shown, "no ghost text appeared after typing");
  await page.waitForTimeout(300);
  const ghostParts = await page.locator(".editor-instance .monaco-editor .ghost-text-decoration, .editor-instance .monaco-editor .ghost-text").allTextContents();
  seen.ghostText = ghostParts.join("\n").replace(/\u00a0/g, " ");
  check(seen.ghostText.trim().length > 0, "the ghost text was empty");
  await screenshot("ghost-text");
  await page.keyboard.press("Tab");
  await ghost.waitFor({ state: "detached", timeout: 10_000 }).catch(() => undefined);
  await saveFile();
  const saved = fs.readFileSync(path.join(project, "main.py"), "utf8");
  seen.acceptedLine = saved.split("\n").find((l) => l.trimStart().startsWith("return ")) ?? "";
  const firstGhostLine = seen.ghostText.split("\n").map((l) => l.trim()).find((l) => l.length > 0);
  check(seen.acceptedLine.length > "    return ".length && saved.includes(firstGhostLine), `Tab did not accept the ghost text ${JSON.stringify(seen.ghostText)}: the file holds ${JSON.stringify(saved)}`);
  await screenshot("ghost-text-accepted");

  // ---------------------------------------------------------------- Explain → chat view
  await openFile("shapes.py");
  await goToLine(14);
  await palette("Quill: Explain");
  const chatFrame = page.frameLocator("iframe.webview.ready").frameLocator("iframe#active-frame");
  const explain = chatFrame.locator(".msg.explain").first();
  await explain.waitFor({ timeout: MODEL_WAIT });
  seen.explain = (await explain.locator(".body").innerText()).trim();
  check(seen.explain.length > 20 && seen.explain !== "(no answer)", `the explanation is empty: ${JSON.stringify(seen.explain)}`);
  seen.explainTitle = (await explain.locator(".who").innerText()).trim();
  check(/shapes\.py:14/.test(seen.explainTitle), `explain title: ${seen.explainTitle}`);
  seen.openEditorsAfterExplain = await page.locator(".tabs-container .tab").allInnerTexts();
  check(!seen.openEditorsAfterExplain.some((t) => /explain-/.test(t)), `the explanation opened as a document too: ${seen.openEditorsAfterExplain}`);
  await screenshot("explain-in-chat");

  // ---------------------------------------------------------------- chat: stream, stop
  const chatInput = chatFrame.locator("#input");
  await chatInput.fill("In one sentence, what does total_area return?");
  await chatFrame.locator("#send").click();
  const answer = chatFrame.locator(".msg.assistant").first();
  await answer.waitFor({ timeout: 10_000 });
  await chatFrame.locator("#stop:not([disabled])").waitFor({ timeout: 10_000 });
  await answer.locator(".meta").waitFor({ timeout: MODEL_WAIT }); // the model's name comes with the response
  await chatFrame.locator("#send:not([disabled])").waitFor({ timeout: 10_000 });
  seen.chatAnswer = (await answer.locator(".body").innerText()).trim();
  seen.chatMeta = (await answer.locator(".meta").innerText()).trim();
  check(seen.chatAnswer.length > 0 && seen.chatAnswer !== "…", "the chat answer is empty");
  check(/local/.test(seen.chatMeta), `no model under the answer: ${seen.chatMeta}`);
  await screenshot("chat-answer");

  const answers = await chatFrame.locator(".msg.assistant").count();
  await chatInput.fill("List the numbers from 1 to 300, one per line, with a word about each.");
  await chatFrame.locator("#send").click();
  const long = chatFrame.locator(".msg.assistant").nth(answers);
  await long.waitFor({ timeout: 10_000 });
  // stop once streamed pieces are on screen, before the answer is done
  const streamEnd = Date.now() + MODEL_WAIT;
  for (;;) {
    const text = (await long.locator(".body").innerText().catch(() => "")).trim();
    if (text.length > 0 && text !== "…") break;
    check(Date.now() < streamEnd, "no streamed text appeared");
    await page.waitForTimeout(100);
  }
  seen.streamedBeforeStop = (await long.locator(".body").innerText()).trim().length;
  check((await long.getAttribute("class")).includes("pending"), "the long answer was complete before Stop");
  await chatFrame.locator("#stop").click();
  await long.locator(".meta", { hasText: "stopped" }).waitFor({ timeout: 30_000 });
  await chatFrame.locator("#send:not([disabled])").waitFor({ timeout: 10_000 });
  seen.stoppedMeta = (await long.locator(".meta").innerText()).trim();
  seen.stoppedAnswer = (await long.locator(".body").innerText()).trim();
  check(seen.stoppedAnswer.length >= seen.streamedBeforeStop, "what streamed before Stop was lost");
  await screenshot("chat-stopped");

  // ---------------------------------------------------------------- Refactor changes the buffer
  const before = await editorText();
  let refactored = false;
  // the embedded 135M model rewrites code faithfully rather than cleverly: ask for formatting
  const instructions = ["Format it as PEP 8.", ""];
  for (const instruction of instructions) {
    await clearNotifications();
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await goToLine(14);
    await palette("Quill: Refactor");
    await page.locator(".quick-input-widget .quick-input-title", { hasText: "Quill: Refactor" }).waitFor({ state: "visible" });
    const box = page.locator(".quick-input-widget input.input");
    await box.fill(instruction);
    await page.keyboard.press("Enter");
    const end = Date.now() + MODEL_WAIT;
    while (Date.now() < end) {
      if ((await page.locator(".tabs-container .tab.active.dirty").count()) > 0) {
        refactored = true;
        break;
      }
      const refused = (await notifications()).find((t) => /^Quill: /.test(t) && !/explain/i.test(t));
      if (refused) {
        seen.refactorRefusals = [...(seen.refactorRefusals ?? []), refused];
        log(`refactor refused: ${refused}`);
        break;
      }
      await page.waitForTimeout(500);
    }
    if (refactored) break;
  }
  check(refactored, `Refactor never changed the buffer: ${JSON.stringify(seen.refactorRefusals)}`);
  await page.waitForTimeout(500);
  seen.refactorChanged = (await editorText()) !== before;
  await screenshot("refactor");
  await saveFile();
  const after = fs.readFileSync(path.join(project, "shapes.py"), "utf8");
  check(after !== SHAPES, "the refactored file did not change on disk");
  const parses = spawnSync(python, ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", path.join(project, "shapes.py")], { encoding: "utf8" });
  check(parses.status === 0, `the refactored file does not parse: ${parses.stderr}`);
  check(after.includes("def total_area(circles):"), `the refactor did not reformat total_area: ${JSON.stringify(after)}`);
  seen.refactored = after;

  // ---------------------------------------------------------------- bad input: a wrong interpreter
  await clearNotifications();
  await editMachineSettings({ "quill.pythonPath": "/nonexistent/bin/python" });
  seen.wrongInterpreterStatus = await waitStatus(/Quill: stopped/, 60_000);
  seen.wrongInterpreterMessage = await waitNotification(/quill\.pythonPath points at \/nonexistent\/bin\/python, which does not exist/);
  await screenshot("wrong-interpreter");
  await clearNotifications();
  await editMachineSettings({ "quill.completion.maxTokens": "lots" });
  seen.wrongTypeMessage = await waitNotification(/ignored settings of the wrong type: quill\.completion\.maxTokens \(expected an integer, got a string\)/);
  seen.statusAfterFix = await waitStatus(/Quill: local/);
  await screenshot("wrong-setting-type");

  // ---------------------------------------------------------------- bad input: the server crashes
  await clearNotifications();
  const kills = [];
  for (let i = 0; i < 4; i++) {
    let pids = [];
    const end = Date.now() + MODEL_WAIT;
    while (Date.now() < end && (pids = quillServerPids().filter((p) => !kills.includes(p))).length === 0) await page.waitForTimeout(250);
    check(pids.length > 0, `no Quill server to kill (kill ${i + 1})`);
    await waitStatus(/Quill: local/, 60_000);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    kills.push(...pids);
    log(`killed the Quill server ${pids.join(",")}`);
    await page.waitForTimeout(1500);
  }
  seen.crashStatus = await waitStatus(/Quill: stopped/, 60_000);
  seen.crashMessage = await waitNotification(/stopped 4 times in 3 minutes and will not be restarted automatically/);
  await page.waitForTimeout(5000);
  seen.serversAfterGivingUp = quillServerPids().length;
  check(seen.serversAfterGivingUp === 0, `the server was started again after it gave up (${seen.serversAfterGivingUp} running)`);
  await screenshot("crashed");
  await palette("Quill: Restart Server");
  seen.statusAfterRestart = await waitStatus(/Quill: local/);
  await screenshot("restarted");

  seen.pageErrors = pageErrors.slice(0, 5);
}

function copyLogs() {
  const out = path.join(artifacts, "logs");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "code-server.log"), serverOutput.join(""));
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.log$/.test(e.name) && fs.statSync(p).size < 5_000_000) {
        fs.copyFileSync(p, path.join(out, path.relative(dirs["user-data"], p).replace(/[\\/]/g, "__")));
      }
    }
  };
  try {
    walk(path.join(dirs["user-data"], "logs"));
  } catch {
    // no logs yet
  }
}

let failure = null;
try {
  await main();
} catch (err) {
  failure = err instanceof Error ? err.stack || err.message : String(err);
  await failShot().catch(() => undefined);
}
copyLogs();
try {
  await browser?.close();
} catch {
  // already gone
}
if (server && server.exitCode === null) {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {
    // already gone
  }
}
for (const pid of quillServerPids()) {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
}
seen.seconds = secs();
seen.ok = failure === null;
if (failure) seen.error = failure;
fs.writeFileSync(path.join(artifacts, "result.json"), JSON.stringify(seen, null, 2));
if (failure === null) fs.rmSync(root, { recursive: true, force: true });
else seen.kept = root;
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(failure === null ? 0 : 1);
