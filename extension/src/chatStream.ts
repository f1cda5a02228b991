// The chat view's transcript: a question, its answer assembled from `$/progress` pieces
// (`{text}` for the request's partialResultToken), and the final `quill/chat` response,
// which is authoritative. Explain answers join the same transcript.

export type Role = "user" | "assistant" | "explain" | "error";

export interface ChatEntry {
  id: number;
  role: Role;
  text: string;
  title?: string;
  /** still streaming */
  pending: boolean;
  stopped: boolean;
  model?: string;
  notes?: string[];
}

export interface ChatResponse {
  sessionId?: unknown;
  text?: unknown;
  model?: unknown;
  stopped?: unknown;
  notes?: unknown;
}

export type Listener = (entry: ChatEntry) => void;

export class ChatTranscript {
  readonly entries: ChatEntry[] = [];
  sessionId: string | undefined;
  private nextId = 1;
  private byToken = new Map<string, ChatEntry>();

  constructor(private readonly listener: Listener = () => undefined) {}

  private add(entry: Omit<ChatEntry, "id">): ChatEntry {
    const full = { ...entry, id: this.nextId++ };
    this.entries.push(full);
    this.listener(full);
    return full;
  }

  get streaming(): boolean {
    return this.byToken.size > 0;
  }

  /** A question goes out: its entry, and the (empty, pending) answer streamed to `token`. */
  ask(message: string, token: string): ChatEntry {
    this.add({ role: "user", text: message, pending: false, stopped: false });
    const answer = this.add({ role: "assistant", text: "", pending: true, stopped: false });
    this.byToken.set(token, answer);
    return answer;
  }

  /** One `$/progress` value for `token`. Pieces for a finished or unknown answer are dropped. */
  piece(token: string, value: unknown): void {
    const entry = this.byToken.get(token);
    const text = typeof value === "object" && value !== null ? (value as { text?: unknown }).text : undefined;
    if (entry === undefined || typeof text !== "string" || text === "") return;
    entry.text += text;
    this.listener(entry);
  }

  /** The response came: its text replaces the streamed one; the session continues. */
  finish(token: string, response: ChatResponse | null | undefined): void {
    const entry = this.byToken.get(token);
    this.byToken.delete(token);
    if (typeof response?.sessionId === "string") this.sessionId = response.sessionId;
    if (entry === undefined) return;
    if (response && typeof response.text === "string") entry.text = response.text;
    if (response && typeof response.model === "string") entry.model = response.model;
    if (response && Array.isArray(response.notes)) entry.notes = response.notes.filter((n): n is string => typeof n === "string");
    entry.stopped = response?.stopped === true || response === null || response === undefined;
    entry.pending = false;
    this.listener(entry);
  }

  /** The request was cancelled before a response: what streamed stays, marked stopped. */
  stopped(token: string): void {
    this.finish(token, null);
  }

  /** The request failed: the answer says why. */
  fail(token: string, message: string): void {
    const entry = this.byToken.get(token);
    this.byToken.delete(token);
    if (entry === undefined) return;
    entry.pending = false;
    if (entry.text === "") {
      entry.role = "error";
      entry.text = message;
    } else {
      entry.stopped = true;
      entry.notes = [...(entry.notes ?? []), message];
    }
    this.listener(entry);
  }

  explain(title: string, markdown: string): ChatEntry {
    return this.add({ role: "explain", title, text: markdown, pending: false, stopped: false });
  }

  error(message: string): ChatEntry {
    return this.add({ role: "error", text: message, pending: false, stopped: false });
  }

  /** A new conversation: the next question starts a new session. */
  clear(): void {
    this.entries.length = 0;
    this.byToken.clear();
    this.sessionId = undefined;
  }
}

export interface Block {
  kind: "text" | "code";
  text: string;
  lang?: string;
}

/** Text split into prose and fenced code blocks (an unclosed fence runs to the end, as it
 * does while an answer streams). */
export function markdownBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  let current: Block | null = null;
  const flush = () => {
    if (current && (current.kind === "code" || current.text.trim() !== "")) {
      blocks.push({ ...current, text: current.text.replace(/\n$/, "") });
    }
    current = null;
  };
  for (const line of lines) {
    const fence = /^\s*```\s*([\w+#.-]*)\s*$/.exec(line);
    if (fence) {
      if (current?.kind === "code") {
        flush();
      } else {
        flush();
        current = { kind: "code", text: "", lang: fence[1] || undefined };
      }
      continue;
    }
    if (current === null) current = { kind: "text", text: "" };
    current.text += line + "\n";
  }
  flush();
  return blocks;
}
