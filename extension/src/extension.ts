// Quill for VS Code: one language client for `quill lsp`, the palette commands, a status-bar
// item and a chat view. The server does the work; this only wires it into the editor.

import * as vscode from "vscode";

import { CHAT_VIEW, ChatViewProvider } from "./chatView";
import { registerCommands } from "./commands";
import { QuillServer } from "./server";
import { RESTART_KEYS } from "./settings";
import type { StatusView } from "./status";

let server: QuillServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Quill", { log: true });
  const item = vscode.window.createStatusBarItem("quill.status", vscode.StatusBarAlignment.Right, 100);
  item.name = "Quill";
  item.command = "quill.vscode.statusMenu";
  const show = (view: StatusView) => {
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    item.show();
  };
  server = new QuillServer(context, output, { show });
  const chat = new ChatViewProvider(context.extensionUri, server);
  context.subscriptions.push(
    output,
    item,
    server,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW, chat, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("quill") || server === undefined) return;
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(`quill.${k}`))) void server.restart();
      else server.sendSettings();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server?.restart()),
  );
  registerCommands(context, server, chat);
  await server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
