// The one language client: finds the interpreter, spawns `python -m quill.cli lsp` over stdio,
// sends the settings, feeds the status bar, restarts a few times after a crash and then stops.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

import { chooseInterpreter, interpreterCandidates, InterpreterSettingError, SERVER_ARGS, shebangInterpreter, type ProbeResult } from "./interpreter";
import { RestartPolicy } from "./restartPolicy";
import { buildQuillSettings, problemsMessage, type SettingSchema } from "./settings";
import { startingView, statusView, stoppedView, type StatusView } from "./status";

export const LANGUAGES = ["python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust", "java", "c", "cpp"];

const PROBE_TIMEOUT_MS = 30_000;

function probe(command: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(command, ["-c", "import quill.cli"], { timeout: PROBE_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolve({ ok: true, found: true, detail: "" });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return resolve({ ok: false, found: false, detail: "not found" });
      if (code === "EACCES") return resolve({ ok: false, found: true, detail: "not executable" });
      const last = stderr.trim().split("\n").pop() ?? "";
      resolve({ ok: false, found: true, detail: last || error.message });
    });
  });
}

function quillOnPath(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, "quill");
    try {
      const fd = fs.openSync(file, "r");
      try {
        const buf = Buffer.alloc(512);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        return shebangInterpreter(buf.subarray(0, n).toString("utf8").split("\n")[0]);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      continue;
    }
  }
  return null;
}

export interface StatusSink {
  show(view: StatusView): void;
}

export class QuillServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  private readonly policy = new RestartPolicy();
  private lastProblems: string | null = null;
  private stopping = false;
  private subscriptions: vscode.Disposable[] = [];
  /** while > 0, explanation documents the server asks to show go to the chat view instead */
  explainsInFlight = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly status: StatusSink,
  ) {}

  private get properties(): Record<string, SettingSchema> {
    const pkg = this.context.extension.packageJSON as { contributes?: { configuration?: { properties?: Record<string, SettingSchema> } } };
    return pkg.contributes?.configuration?.properties ?? {};
  }

  /** The settings to send, and one message (once) for the values of the wrong type. */
  quillSettings(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration("quill");
    const { settings, problems } = buildQuillSettings(this.properties, (key) => config.inspect(key), vscode.workspace.isTrusted);
    const message = problemsMessage(problems);
    if (message !== null) this.output.warn(message);
    if (message !== null && message !== this.lastProblems) {
      void vscode.window.showWarningMessage(message, "Open Settings").then((choice) => {
        if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "quill.");
      });
    }
    this.lastProblems = message;
    return settings;
  }

  private async interpreter(): Promise<{ command: string; source: string }> {
    const config = vscode.workspace.getConfiguration("quill");
    const restricted = (key: string) => {
      const i = config.inspect(key);
      return vscode.workspace.isTrusted ? config.get(key) : i?.globalValue;
    };
    this.output.debug(`interpreter settings: ${JSON.stringify({ trusted: vscode.workspace.isTrusted, pythonPath: config.inspect("pythonPath"), installRoot: config.inspect("installRoot") })}`);
    const candidates = interpreterCandidates({
      pythonPath: restricted("pythonPath"),
      installRoot: restricted("installRoot"),
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath),
      home: os.homedir(),
      platform: process.platform,
      quillScriptInterpreter: quillOnPath(),
    });
    const chosen = await chooseInterpreter(candidates, probe);
    for (const line of chosen.skipped) this.output.info(`passed over ${line}`);
    return chosen;
  }

  async start(): Promise<void> {
    this.status.show(startingView());
    let python: { command: string; source: string };
    try {
      python = await this.interpreter();
    } catch (err) {
      const message = err instanceof InterpreterSettingError ? err.message : `Quill: cannot choose an interpreter: ${String(err)}`;
      this.fail(message, ["Open Settings", "Show Log"]);
      return;
    }
    this.output.info(`starting ${python.command} ${SERVER_ARGS.join(" ")} (interpreter from ${python.source})`);
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file");
    const serverOptions: ServerOptions = {
      command: python.command,
      args: [...SERVER_ARGS],
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      outputChannel: this.output,
      initializationOptions: { quill: this.quillSettings() },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) < 5 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => this.closed(),
      },
      middleware: {
        window: {
          showDocument: async (params, token, next) => {
            if (this.explainsInFlight > 0 && /\/explanations\/explain-[^/]*\.md$/.test(params.uri)) {
              return { success: true }; // the palette command shows the answer in the chat view
            }
            return next(params, token);
          },
        },
      },
    };
    const client = new LanguageClient("quill", "Quill", serverOptions, clientOptions);
    this.client = client;
    this.subscriptions.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) return;
        if (e.newState === State.Stopped && !this.stopping) {
          this.status.show(stoppedView("the server is not running"));
        } else if (e.newState === State.Running) {
          // at the start and after each automatic restart
          client.sendRequest("quill/status").then(
            (s) => this.status.show(statusView(s)),
            (err: unknown) => this.output.warn(`quill/status failed: ${String(err)}`),
          );
        }
      }),
      client.onNotification("quill/statusChanged", (s: unknown) => this.status.show(statusView(s))),
    );
    try {
      await client.start();
    } catch (err) {
      if (this.client === client) {
        this.fail(`Quill: the server did not start (${python.command} ${SERVER_ARGS.join(" ")}): ${err instanceof Error ? err.message : String(err)}`, ["Restart", "Show Log"]);
      }
      return;
    }
  }

  private closed() {
    if (this.stopping) return { action: CloseAction.DoNotRestart, handled: true };
    const decision = this.policy.crashed(Date.now());
    if (decision.restart) {
      this.output.warn(`the server stopped; restarting it (crash ${decision.crashes} of ${this.policy.maxRestarts + 1} allowed in ${this.policy.windowMs / 60000} minutes)`);
      this.status.show(startingView());
      return { action: CloseAction.Restart, handled: true };
    }
    const message = `Quill: the server stopped ${decision.crashes} times in ${this.policy.windowMs / 60000} minutes and will not be restarted automatically.`;
    // the client moves to Stopped after this returns; say so once that happened
    setTimeout(() => this.fail(message, ["Restart", "Show Log"]), 0);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private fail(message: string, actions: string[]): void {
    this.output.error(message);
    this.status.show(stoppedView(message.replace(/^Quill: /, "")));
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === "Restart") void this.restart();
      else if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "quill.pythonPath");
      else if (choice === "Show Log") this.output.show(true);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const d of this.subscriptions) d.dispose();
    this.subscriptions = [];
    if (client === undefined) return;
    this.stopping = true;
    try {
      if (client.isRunning()) await client.stop(5000);
    } catch (err) {
      this.output.warn(`stopping the server: ${String(err)}`);
    } finally {
      this.stopping = false;
    }
  }

  /** Restart at the user's request: the crash count starts afresh. */
  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  /** Send the settings again (workspace/didChangeConfiguration). */
  sendSettings(): void {
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      this.quillSettings(); // still report values of the wrong type
      return;
    }
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { quill: this.quillSettings() } });
  }

  /** The running client, or a message saying the server is not running. */
  running(): LanguageClient | undefined {
    const client = this.client;
    if (client !== undefined && client.isRunning()) return client;
    void vscode.window.showWarningMessage("Quill's server is not running.", "Restart", "Show Log").then((choice) => {
      if (choice === "Restart") void this.restart();
      else if (choice === "Show Log") this.output.show(true);
    });
    return undefined;
  }

  async executeCommand<T>(client: LanguageClient, command: string, args: unknown[]): Promise<T> {
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  dispose(): void {
    void this.stop();
  }
}
