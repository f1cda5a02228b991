// The chat view's page: renders the transcript the extension posts, sends questions and stops.
// Model text is only ever set as text, never as HTML.

import { markdownBlocks, type ChatEntry } from "../chatStream";

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
const messages = document.getElementById("messages") as HTMLDivElement;
const form = document.getElementById("form") as HTMLFormElement;
const input = document.getElementById("input") as HTMLTextAreaElement;
const send = document.getElementById("send") as HTMLButtonElement;
const stop = document.getElementById("stop") as HTMLButtonElement;
const fresh = document.getElementById("new") as HTMLButtonElement;

const LABELS: Record<ChatEntry["role"], string> = { user: "You", assistant: "Quill", explain: "Explain", error: "Quill" };

function render(entry: ChatEntry): HTMLElement {
  const box = document.createElement("div");
  box.className = `msg ${entry.role}${entry.pending ? " pending" : ""}${entry.stopped ? " stopped" : ""}`;
  box.dataset.id = String(entry.id);
  const head = document.createElement("div");
  head.className = "who";
  head.textContent = entry.title ?? LABELS[entry.role];
  box.appendChild(head);
  const body = document.createElement("div");
  body.className = "body";
  for (const block of markdownBlocks(entry.text)) {
    if (block.kind === "code") {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      if (block.lang) code.dataset.lang = block.lang;
      code.textContent = block.text;
      pre.appendChild(code);
      body.appendChild(pre);
    } else {
      const p = document.createElement("p");
      p.textContent = block.text;
      body.appendChild(p);
    }
  }
  if (entry.pending && entry.text === "") body.textContent = "…";
  box.appendChild(body);
  const meta: string[] = [];
  if (entry.model) meta.push(entry.model);
  if (entry.stopped) meta.push("stopped");
  for (const note of entry.notes ?? []) meta.push(note);
  if (meta.length > 0) {
    const m = document.createElement("div");
    m.className = "meta";
    m.textContent = meta.join(" · ");
    box.appendChild(m);
  }
  return box;
}

function upsert(entry: ChatEntry): void {
  const node = render(entry);
  const old = messages.querySelector(`[data-id="${entry.id}"]`);
  if (old) old.replaceWith(node);
  else messages.appendChild(node);
  node.scrollIntoView({ block: "end" });
}

window.addEventListener("message", (event: MessageEvent) => {
  const m = event.data as { type: string; entry?: ChatEntry; entries?: ChatEntry[]; busy?: boolean };
  if (m.type === "entry" && m.entry) upsert(m.entry);
  else if (m.type === "reset") {
    messages.replaceChildren();
    for (const e of m.entries ?? []) upsert(e);
  } else if (m.type === "busy") {
    send.disabled = m.busy === true;
    stop.disabled = m.busy !== true;
    document.body.classList.toggle("busy", m.busy === true);
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || send.disabled) return;
  vscode.postMessage({ type: "send", text });
  input.value = "";
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});
stop.addEventListener("click", () => vscode.postMessage({ type: "stop" }));
fresh.addEventListener("click", () => vscode.postMessage({ type: "new" }));
vscode.postMessage({ type: "ready" });
