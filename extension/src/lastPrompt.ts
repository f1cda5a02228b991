// `quill.lastPrompt`'s answer as a Markdown document.

function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const marks = "`".repeat(longest + 1);
  return `${marks}\n${text}\n${marks}`;
}

export function lastPromptMarkdown(record: unknown): string {
  if (typeof record !== "object" || record === null) {
    return "# Quill: last prompt\n\nNo completion prompt has been sent yet: type in a file and wait for a suggestion.\n";
  }
  const r = record as Record<string, unknown>;
  const tokens = (typeof r.tokens === "object" && r.tokens !== null ? r.tokens : {}) as Record<string, unknown>;
  const out: string[] = ["# Quill: last prompt", ""];
  out.push(`- model: ${String(r.model ?? "?")} (${String(r.mode ?? "?")})`);
  out.push(`- document: ${String(r.uri ?? "?")}`);
  out.push(`- tokens sent: ${String(r.sentTokens ?? "?")} (budget ${String(tokens.budget ?? "?")}: prefix ${String(tokens.prefix ?? "?")}, suffix ${String(tokens.suffix ?? "?")}, context ${String(tokens.context ?? "?")})`);
  out.push(`- secrets redacted: ${String(r.redactions ?? 0)}`);
  if (Array.isArray(r.droppedSources) && r.droppedSources.length > 0) {
    out.push(`- left out for the budget: ${r.droppedSources.map(String).join(", ")}`);
  }
  if (Array.isArray(r.sections) && r.sections.length > 0) {
    out.push("", "## Context sections", "");
    for (const s of r.sections) {
      const sec = (typeof s === "object" && s !== null ? s : {}) as Record<string, unknown>;
      const name = sec.source ?? sec.name ?? sec.kind ?? "section";
      out.push(`- ${String(name)}: ${String(sec.tokens ?? "?")} tokens`);
    }
  }
  out.push("", "## Prompt", "");
  if (Array.isArray(r.prompt)) {
    for (const m of r.prompt) {
      const msg = (typeof m === "object" && m !== null ? m : {}) as Record<string, unknown>;
      out.push(`### ${String(msg.role ?? "message")}`, "", fence(String(msg.content ?? "")), "");
    }
  } else {
    out.push(fence(String(r.prompt ?? "")), "");
  }
  if (typeof r.completion === "string" && r.completion !== "") {
    out.push("## Completion", "", fence(r.completion), "");
  }
  return out.join("\n");
}
