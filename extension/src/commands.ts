// The palette commands. Each sends one of the server's commands (docs/protocol.md) with the
// active editor's document and selection; the server does the work.

import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

import type { ChatViewProvider } from "./chatView";
import { lastPromptMarkdown } from "./lastPrompt";
import type { QuillServer } from "./server";

interface Target {
  client: LanguageClient;
  args: unknown[];
  editor: vscode.TextEditor;
}

function target(server: QuillServer): Target | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage("Quill: open a file and select some code (or put the cursor in a function) first.");
    return undefined;
  }
  const client = server.running();
  if (client === undefined) return undefined;
  const c2p = client.code2ProtocolConverter;
  return { client, editor, args: [c2p.asUri(editor.document.uri), c2p.asRange(editor.selection)] };
}

async function withProgress<T>(title: string, work: () => Promise<T>): Promise<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, work);
}

function failed(server: QuillServer, what: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  server.output.error(`${what}: ${message}`);
  void vscode.window.showErrorMessage(`Quill: ${what} failed: ${message}`);
}

interface Applied {
  applied?: boolean;
  message?: string;
}

async function editCommand(server: QuillServer, command: string, what: string, extra: unknown[] = []): Promise<void> {
  const t = target(server);
  if (t === undefined) return;
  try {
    const result = await withProgress(`Quill: ${what}…`, () => server.executeCommand<Applied | null>(t.client, command, [...t.args, ...extra]));
    // the server has already said why when it could not make the edit
    if (result && !result.applied && result.message === "the editor refused") {
      void vscode.window.showWarningMessage(`Quill: the editor refused the ${what.toLowerCase()} edit (the file changed?).`);
    }
  } catch (err) {
    failed(server, what, err);
  }
}

export function registerCommands(context: vscode.ExtensionContext, server: QuillServer, chat: ChatViewProvider): void {
  const add = (id: string, run: () => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, run));

  add("quill.vscode.explain", async () => {
    const t = target(server);
    if (t === undefined) return;
    const name = vscode.workspace.asRelativePath(t.editor.document.uri);
    const line = t.editor.selection.start.line + 1;
    server.explainsInFlight++;
    try {
      const result = await withProgress("Quill: explaining…", () => server.executeCommand<{ markdown?: string } | null>(t.client, "quill.explain", t.args));
      await chat.reveal();
      chat.showExplain(`Explain ${name}:${line}`, result?.markdown ?? "(no answer)");
    } catch (err) {
      failed(server, "Explain", err);
    } finally {
      server.explainsInFlight--;
    }
  });

  add("quill.vscode.refactor", async () => {
    if (vscode.window.activeTextEditor === undefined) return void target(server);
    const instruction = await vscode.window.showInputBox({
      title: "Quill: Refactor",
      prompt: "How should the code change? Leave empty to make it clearer.",
      placeHolder: "e.g. use a list comprehension",
    });
    if (instruction === undefined) return;
    await editCommand(server, "quill.refactor", "Refactor", instruction.trim() ? [instruction.trim()] : []);
  });

  add("quill.vscode.generateTests", () => editCommand(server, "quill.generateTests", "Generate tests"));

  add("quill.vscode.findBugs", async () => {
    const t = target(server);
    if (t === undefined) return;
    try {
      const result = await withProgress("Quill: looking for bugs…", () => server.executeCommand<{ findings?: unknown[] } | null>(t.client, "quill.findBugs", t.args));
      const n = result?.findings?.length ?? 0;
      if (n > 0) {
        const choice = await vscode.window.showInformationMessage(`Quill found ${n} possible bug${n === 1 ? "" : "s"}; they are in the Problems view.`, "Show Problems");
        if (choice) await vscode.commands.executeCommand("workbench.actions.view.problems");
      }
    } catch (err) {
      failed(server, "Find bugs", err);
    }
  });

  add("quill.vscode.openChat", () => chat.reveal());

  add("quill.vscode.showLastPrompt", async () => {
    const client = server.running();
    if (client === undefined) return;
    try {
      const record = await server.executeCommand<unknown>(client, "quill.lastPrompt", []);
      const doc = await vscode.workspace.openTextDocument({ language: "markdown", content: lastPromptMarkdown(record) });
      await vscode.window.showTextDocument(doc, { preview: true });
    } catch (err) {
      failed(server, "Show last prompt", err);
    }
  });

  add("quill.vscode.restartServer", () => server.restart());
  add("quill.vscode.showLog", () => server.output.show(true));

  add("quill.vscode.statusMenu", async () => {
    if (server.client === undefined || !server.client.isRunning()) return server.restart();
    const items: Array<vscode.QuickPickItem & { command: string }> = [
      { label: "$(comment-discussion) Open Chat", command: "quill.vscode.openChat" },
      { label: "$(output) Show Log", command: "quill.vscode.showLog" },
      { label: "$(debug-restart) Restart Server", command: "quill.vscode.restartServer" },
      { label: "$(file-text) Show Last Prompt", command: "quill.vscode.showLastPrompt" },
      { label: "$(gear) Settings", command: "workbench.action.openSettings" },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "Quill" });
    if (pick) await vscode.commands.executeCommand(pick.command, ...(pick.command === "workbench.action.openSettings" ? ["quill."] : []));
  });
}
