import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatTranscript, markdownBlocks, type ChatEntry } from "../src/chatStream";
import { lastPromptMarkdown } from "../src/lastPrompt";

function recorder() {
  const seen: Array<Pick<ChatEntry, "id" | "role" | "text" | "pending">> = [];
  return { seen, transcript: new ChatTranscript((e) => seen.push({ id: e.id, role: e.role, text: e.text, pending: e.pending })) };
}

test("pieces stream into the answer, the response is authoritative, the session continues", () => {
  const { seen, transcript } = recorder();
  const answer = transcript.ask("What does area() return?", "chat-1");
  assert.ok(transcript.streaming);
  transcript.piece("chat-1", { text: "The " });
  transcript.piece("chat-1", { text: "area" });
  transcript.piece("chat-2", { text: "not ours" });
  transcript.piece("chat-1", { nope: 1 });
  assert.equal(answer.text, "The area");
  transcript.finish("chat-1", { sessionId: "s1", text: "The area of the circle.", model: "local", stopped: false, notes: ["@x.py is outside the workspace"] });
  assert.equal(answer.text, "The area of the circle.");
  assert.equal(answer.pending, false);
  assert.equal(answer.model, "local");
  assert.deepEqual(answer.notes, ["@x.py is outside the workspace"]);
  assert.equal(transcript.sessionId, "s1");
  assert.ok(!transcript.streaming);
  transcript.piece("chat-1", { text: "late" });
  assert.equal(answer.text, "The area of the circle.");
  assert.deepEqual(
    seen.map((s) => [s.role, s.text, s.pending]),
    [
      ["user", "What does area() return?", false],
      ["assistant", "", true],
      ["assistant", "The ", true],
      ["assistant", "The area", true],
      ["assistant", "The area of the circle.", false],
    ],
  );
});

test("a stopped answer keeps what streamed", () => {
  const { transcript } = recorder();
  const a = transcript.ask("count to 200", "t");
  transcript.piece("t", { text: "1, 2, 3" });
  transcript.finish("t", { sessionId: "s", text: "1, 2, 3", stopped: true });
  assert.ok(a.stopped && !a.pending);
  const b = transcript.ask("again", "u");
  transcript.piece("u", { text: "1, 2" });
  transcript.stopped("u");
  assert.equal(b.text, "1, 2");
  assert.ok(b.stopped);
  assert.equal(transcript.sessionId, "s");
});

test("failures: an empty answer becomes the error, a partial one keeps its text", () => {
  const { transcript } = recorder();
  const a = transcript.ask("q", "a");
  transcript.fail("a", "no model available");
  assert.equal(a.role, "error");
  assert.equal(a.text, "no model available");
  const b = transcript.ask("q", "b");
  transcript.piece("b", { text: "half" });
  transcript.fail("b", "timed out");
  assert.equal(b.role, "assistant");
  assert.equal(b.text, "half");
  assert.deepEqual(b.notes, ["timed out"]);
});

test("explain answers join the transcript; a new chat forgets the session", () => {
  const { transcript } = recorder();
  transcript.ask("q", "a");
  transcript.finish("a", { sessionId: "s", text: "x" });
  const e = transcript.explain("Explain shapes.py:3", "It computes **area**.");
  assert.equal(e.role, "explain");
  assert.equal(transcript.entries.length, 3);
  transcript.clear();
  assert.equal(transcript.entries.length, 0);
  assert.equal(transcript.sessionId, undefined);
});

test("markdown blocks: prose and fenced code, an open fence runs to the end", () => {
  assert.deepEqual(markdownBlocks("Here:\n```python\nx = 1\n```\nDone."), [
    { kind: "text", text: "Here:" },
    { kind: "code", text: "x = 1", lang: "python" },
    { kind: "text", text: "Done." },
  ]);
  assert.deepEqual(markdownBlocks("```\nstreaming"), [{ kind: "code", text: "streaming", lang: undefined }]);
  assert.deepEqual(markdownBlocks(""), []);
});

test("the last prompt as Markdown", () => {
  assert.match(lastPromptMarkdown(null), /No completion prompt has been sent yet/);
  const md = lastPromptMarkdown({
    sentTokens: 120,
    uri: "file:///w/a.py",
    model: "local",
    mode: "chat",
    prompt: [
      { role: "system", content: "Fill the hole." },
      { role: "user", content: "def f():\n    ```" },
    ],
    sections: [{ source: "imports", text: "x", tokens: 3 }],
    tokens: { prefix: 80, suffix: 10, context: 30, total: 120, budget: 384 },
    droppedSources: ["repo map"],
    redactions: 1,
    completion: "return 1",
  });
  assert.match(md, /model: local \(chat\)/);
  assert.match(md, /tokens sent: 120 \(budget 384: prefix 80, suffix 10, context 30\)/);
  assert.match(md, /secrets redacted: 1/);
  assert.match(md, /left out for the budget: repo map/);
  assert.match(md, /### user\n\n````\ndef f\(\):\n {4}```\n````/);
  assert.match(md, /## Completion\n\n```\nreturn 1\n```/);
});
