// The chat view in the sidebar: a webview that asks through `quill/chat`, shows the answer as
// `$/progress` pieces arrive, stops it with `quill/chat/cancel` (or `$/cancelRequest` before
// the session is known), and shows Explain answers.

import * as vscode from "vscode";
import { CancellationTokenSource, LSPErrorCodes, ProgressType, ResponseError } from "vscode-languageclient/node";

import { ChatTranscript, type ChatEntry, type ChatResponse } from "./chatStream";
import type { QuillServer } from "./server";

export const CHAT_VIEW = "quill.chat";

interface FromWebview {
  type: "ready" | "send" | "stop" | "new";
  text?: string;
}

const pieceType = new ProgressType<{ text?: string }>();

function nonce(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < 32; i++) out += chars.charAt(Math.floor(Math.random() * chars.length));
  return out;
}

export class ChatViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private readonly transcript = new ChatTranscript((entry) => this.post({ type: "entry", entry }));
  private current: { token: string; cancel: CancellationTokenSource } | undefined;
  private tokens = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: QuillServer,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, "dist");
    view.webview.options = { enableScripts: true, localResourceRoots: [media, vscode.Uri.joinPath(this.extensionUri, "media")] };
    const script = view.webview.asWebviewUri(vscode.Uri.joinPath(media, "chat.js"));
    const style = view.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "chat.css"));
    const n = nonce();
    view.webview.html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${view.webview.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style.toString()}" rel="stylesheet"><title>Quill chat</title></head>
<body>
<div id="messages" aria-live="polite"></div>
<form id="form">
  <textarea id="input" rows="3" placeholder="Ask Quill about your code (Enter sends, Shift+Enter: new line; @path adds a file)"></textarea>
  <div class="buttons"><button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button><button id="new" type="button" class="secondary">New chat</button></div>
</form>
<script nonce="${n}" src="${script.toString()}"></script>
</body></html>`;
    view.webview.onDidReceiveMessage((m: FromWebview) => this.receive(m));
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  private post(message: { type: string; entry?: ChatEntry; entries?: ChatEntry[]; busy?: boolean }): void {
    void this.view?.webview.postMessage(message);
  }

  private receive(m: FromWebview): void {
    if (m.type === "ready") {
      this.post({ type: "reset", entries: this.transcript.entries });
      this.post({ type: "busy", busy: this.current !== undefined });
    } else if (m.type === "send" && typeof m.text === "string" && m.text.trim()) {
      void this.ask(m.text.trim());
    } else if (m.type === "stop") {
      void this.stop();
    } else if (m.type === "new") {
      void this.stop();
      this.transcript.clear();
      this.post({ type: "reset", entries: [] });
    }
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
  }

  showExplain(title: string, markdown: string): void {
    this.transcript.explain(title, markdown);
  }

  async ask(message: string): Promise<void> {
    if (this.current !== undefined) return;
    const client = this.server.running();
    if (client === undefined) {
      this.transcript.error("Quill's server is not running: use Quill: Restart Server.");
      return;
    }
    const token = `quill-chat-${++this.tokens}`;
    const cancel = new CancellationTokenSource();
    this.current = { token, cancel };
    this.post({ type: "busy", busy: true });
    this.transcript.ask(message, token);
    const editor = vscode.window.activeTextEditor;
    const c2p = client.code2ProtocolConverter;
    const params: Record<string, unknown> = { message, partialResultToken: token };
    if (this.transcript.sessionId) params.sessionId = this.transcript.sessionId;
    if (editor && editor.document.uri.scheme !== "output") {
      params.uri = c2p.asUri(editor.document.uri);
      params.position = c2p.asPosition(editor.selection.active);
      if (!editor.selection.isEmpty) params.selection = c2p.asRange(editor.selection);
    }
    const progress = client.onProgress(pieceType, token, (value) => this.transcript.piece(token, value));
    try {
      const response = await client.sendRequest<ChatResponse | null>("quill/chat", params, cancel.token);
      this.transcript.finish(token, response);
    } catch (err) {
      if (err instanceof ResponseError && err.code === LSPErrorCodes.RequestCancelled) {
        this.transcript.stopped(token);
        await this.adoptNewestSession(client);
      } else {
        const text = err instanceof Error ? err.message : String(err);
        this.server.output.error(`quill/chat: ${text}`);
        this.transcript.fail(token, `Quill could not answer: ${text}`);
      }
    } finally {
      progress.dispose();
      cancel.dispose();
      this.current = undefined;
      this.post({ type: "busy", busy: false });
    }
  }

  /** After `$/cancelRequest` of a session's first question the response (and its session id)
   * never comes: continue in the newest session, which is that one. */
  private async adoptNewestSession(client: { sendRequest<R>(method: string, params: unknown): Promise<R> }): Promise<void> {
    if (this.transcript.sessionId !== undefined) return;
    try {
      const sessions = await client.sendRequest<Array<{ id?: unknown }>>("quill/chat/sessions", { limit: 1 });
      const id = sessions[0]?.id;
      if (typeof id === "string") this.transcript.sessionId = id;
    } catch (err) {
      this.server.output.warn(`quill/chat/sessions: ${String(err)}`);
    }
  }

  async stop(): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    const client = this.server.client;
    const session = this.transcript.sessionId;
    if (client !== undefined && client.isRunning() && session !== undefined) {
      try {
        const result = await client.sendRequest<{ cancelled?: boolean }>("quill/chat/cancel", { sessionId: session });
        if (result.cancelled) return; // the response comes, marked stopped
      } catch (err) {
        this.server.output.warn(`quill/chat/cancel: ${String(err)}`);
      }
    }
    current.cancel.cancel();
  }
}
