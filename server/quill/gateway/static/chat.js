// Quill's chat page: no dependencies, no innerHTML (model text only ever becomes text nodes).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, nextId: 1, current: null, retry: 500, closedOnPurpose: false,
  session: null,     // the stored session this page continues; null: a new one
  waiting: new Map(), // request id -> callback(frame) for sessions/history requests
};

// ------------------------------------------------------------------ markdown

function inline(text) {
  const out = document.createDocumentFragment();
  const pattern = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*|_[^_\n]+_)|(\[[^\]\n]+\]\([^)\s]+\))/g;
  let last = 0;
  let m;
  while ((m = pattern.exec(text)) !== null) {
    if (m.index > last) out.appendChild(document.createTextNode(text.slice(last, m.index)));
    const token = m[0];
    let node;
    if (m[1]) {
      node = document.createElement("code");
      node.textContent = token.slice(1, -1);
    } else if (m[2]) {
      node = document.createElement("strong");
      node.textContent = token.slice(2, -2);
    } else if (m[3]) {
      node = document.createElement("em");
      node.textContent = token.slice(1, -1);
    } else {
      const label = token.slice(1, token.indexOf("]"));
      const href = token.slice(token.indexOf("](") + 2, -1);
      if (/^https?:\/\//i.test(href)) {
        node = document.createElement("a");
        node.href = href;
        node.rel = "noopener noreferrer";
        node.target = "_blank";
        node.textContent = label;
      } else {
        node = document.createTextNode(token);
      }
    }
    out.appendChild(node);
    last = m.index + token.length;
  }
  if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
  return out;
}

function copyText(text, button) {
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
  } else {
    fallbackCopy(text, done);
  }
}

function fallbackCopy(text, done) {
  const area = document.createElement("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); done(); } finally { area.remove(); }
}

function codeBlock(lang, code) {
  const wrap = document.createElement("div");
  wrap.className = "codeblock";
  if (lang) {
    const label = document.createElement("span");
    label.className = "lang";
    label.textContent = lang;
    wrap.appendChild(label);
  }
  const pre = document.createElement("pre");
  const el = document.createElement("code");
  el.textContent = code;
  pre.appendChild(el);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "Copy";
  button.addEventListener("click", () => copyText(code, button));
  wrap.appendChild(pre);
  wrap.appendChild(button);
  return wrap;
}

function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = text.split("\n");
  let para = [];
  let list = null;
  const flushPara = () => {
    if (!para.length) return;
    const p = document.createElement("p");
    para.forEach((line, i) => {
      if (i) p.appendChild(document.createElement("br"));
      p.appendChild(inline(line));
    });
    out.appendChild(p);
    para = [];
  };
  const flushList = () => { if (list) { out.appendChild(list); list = null; } };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^\s*```\s*([\w+#.-]*)\s*$/);
    if (fence) {
      flushPara(); flushList();
      const body = [];
      i++;
      while (i < lines.length && !/^\s*```\s*$/.test(lines[i])) body.push(lines[i++]);
      out.appendChild(codeBlock(fence[1], body.join("\n")));  // an open fence while streaming
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const bullet = line.match(/^\s*[-*+]\s+(.*)$/);
    const numbered = line.match(/^\s*\d+[.)]\s+(.*)$/);
    if (heading) {
      flushPara(); flushList();
      const h = document.createElement("h" + Math.min(6, heading[1].length + 2));
      h.appendChild(inline(heading[2]));
      out.appendChild(h);
    } else if (bullet || numbered) {
      flushPara();
      const tag = bullet ? "UL" : "OL";
      if (!list || list.tagName !== tag) { flushList(); list = document.createElement(tag); }
      const li = document.createElement("li");
      li.appendChild(inline((bullet || numbered)[1]));
      list.appendChild(li);
    } else if (!line.trim()) {
      flushPara(); flushList();
    } else {
      flushList();
      para.push(line);
    }
  }
  flushPara(); flushList();
  return out;
}

// ------------------------------------------------------------------ messages

function addMessage(kind, text) {
  const el = document.createElement("div");
  el.className = "msg " + kind;
  if (kind === "assistant") el.appendChild(renderMarkdown(text));
  else el.textContent = text;
  $("log").appendChild(el);
  el.scrollIntoView({ block: "end" });
  return el;
}

function showAnswer(entry) {
  if (entry.pending) return;
  entry.pending = true;
  requestAnimationFrame(() => {
    entry.pending = false;
    entry.el.replaceChildren(renderMarkdown(entry.text));
    if (entry.meta) entry.el.appendChild(entry.meta);
    entry.el.scrollIntoView({ block: "end" });
  });
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
}

// ------------------------------------------------------------------ socket

function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  state.ws = ws;
  ws.addEventListener("open", () => { state.retry = 500; });
  ws.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
  ws.addEventListener("close", () => {
    $("connection").textContent = "disconnected; reconnecting…";
    if (state.current) finish({ cancelled: true });
    if (state.closedOnPurpose) { state.closedOnPurpose = false; connect(); return; }
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  });
}

function onFrame(f) {
  if (f.type === "hello") {
    $("connection").textContent = "connected";
    loadSessions();
    return;
  }
  const callback = state.waiting.get(f.id);
  if (callback) {
    state.waiting.delete(f.id);
    callback(f);
    return;
  }
  const entry = state.current;
  if (!entry || f.id !== entry.id) {
    if (f.type === "error") addMessage("error", `${f.code}: ${f.message}`);
    return;
  }
  if (f.type === "chunk") {
    entry.text += f.text;
    showAnswer(entry);
  } else if (f.type === "done") {
    if (typeof f.text === "string") entry.text = f.text;
    finish(f);
  } else if (f.type === "error") {
    entry.el.classList.add("error");
    entry.text += (entry.text ? "\n\n" : "") + `**${f.code}**: ${f.message}`;
    finish({});
  }
}

function finish(f) {
  const entry = state.current;
  if (!entry) return;
  const meta = document.createElement("div");
  meta.className = "meta";
  const parts = [];
  if (f.model) parts.push(f.model);
  if (f.cancelled) parts.push("stopped");
  if (f.context && f.context.length) parts.push("context: " + f.context.map((c) => c.name).join(", "));
  meta.textContent = parts.join(" · ");
  entry.meta = meta;
  showAnswer(entry);
  state.current = null;
  setBusy(false);
  if (f.session) {
    state.session = f.session;
    loadSessions();
  }
}

// ------------------------------------------------------------------ sessions

function request(type, fields, callback) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const id = `${type}-${state.nextId++}`;
  state.waiting.set(id, callback);
  state.ws.send(JSON.stringify({ v: 1, type, id, ...fields }));
}

function loadSessions() {
  request("sessions", { limit: 50 }, (f) => {
    if (f.type !== "done") return;
    const list = $("sessions");
    list.replaceChildren();
    for (const s of f.result) {
      const li = document.createElement("li");
      li.dataset.session = s.id;
      li.title = s.title;
      li.textContent = s.title;
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = `${s.messageCount} messages`;
      li.appendChild(when);
      if (s.id === state.session) li.classList.add("current");
      li.addEventListener("click", () => openSession(s.id));
      list.appendChild(li);
    }
    $("sessions-hint").hidden = f.result.length > 0;
  });
}

function openSession(id) {
  if (state.current) return; // an answer is streaming
  request("history", { session: id, limit: 200 }, (f) => {
    if (f.type === "error") { addMessage("error", `${f.code}: ${f.message}`); return; }
    state.session = id;
    $("log").replaceChildren();
    for (const m of f.result.messages) {
      if (m.role === "user" || m.role === "assistant") addMessage(m.role, m.content);
    }
    for (const li of $("sessions").children) {
      li.classList.toggle("current", li.dataset.session === id);
    }
  });
}

function send(event) {
  event.preventDefault();
  const message = $("message").value.trim();
  if (!message || state.current || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const frame = { v: 1, type: "chat", id: state.nextId++, message };
  const file = $("file").value.trim();
  if (file) frame.file = file;
  if (state.session) frame.session = state.session;
  addMessage("user", message);
  state.current = { id: frame.id, text: "", el: addMessage("assistant", ""), meta: null };
  state.ws.send(JSON.stringify(frame));
  $("message").value = "";
  setBusy(true);
}

function stop() {
  if (state.current && state.ws) {
    state.ws.send(JSON.stringify({ v: 1, type: "cancel", id: state.current.id }));
  }
}

// ------------------------------------------------------------------ health

async function refreshHealth() {
  const box = $("health");
  try {
    const response = await fetch("/health", { credentials: "same-origin" });
    const data = await response.json();
    const model = (data.models || [])[0] || {};
    box.className = "health " + (data.status.kind === "Normal" ? "ok" : data.ok ? "warn" : "bad");
    $("health-text").textContent = model.name
      ? `${model.name}: ${model.healthy ? "ready" : "unavailable"}${model.contextSize ? ` · ${model.contextSize} ctx` : ""}`
      : data.status.message;
    box.title = data.status.message;
  } catch (err) {
    box.className = "health bad";
    $("health-text").textContent = "Quill is not reachable";
  }
}

window.addEventListener("DOMContentLoaded", () => {
  $("composer").addEventListener("submit", send);
  $("stop").addEventListener("click", stop);
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) send(e);
  });
  $("new-chat").addEventListener("click", () => {
    $("log").replaceChildren();
    state.session = null;
    state.closedOnPurpose = true;
    if (state.ws) state.ws.close();
  });
  connect();
  refreshHealth();
  setInterval(refreshHealth, 30000);
});
