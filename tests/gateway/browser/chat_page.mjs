// Drive Quill's chat page in headless Chromium: node chat_page.mjs PAGE_URL_WITH_TOKEN
// Prints one JSON line of what it saw; exits 1 with the reason when a check fails.
import { chromium } from "playwright-core";

const url = process.argv[2];
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const seen = {};

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext();
  const origin = new URL(url).origin;
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });

  // The link carries the token once; the page then lives on the cookie, token-free URL.
  await page.goto(url);
  check(!page.url().includes("token="), `the token stayed in the URL: ${page.url()}`);
  await page.waitForFunction(() => document.getElementById("connection").textContent.startsWith("connected"), null, { timeout: 30000 });
  await page.waitForSelector("#health.ok", { timeout: 60000 });
  seen.health = await page.textContent("#health-text");
  seen.sessions = await page.$$eval("#sessions li", (items) => items.map((li) => li.textContent));

  // Markdown: headings, emphasis, inline code, lists, fenced code; model text never becomes HTML.
  seen.markdown = await page.evaluate(() => {
    const box = document.createElement("div");
    box.appendChild(renderMarkdown("# Title\nSome **bold** and `code`.\n\n- one\n- two\n\n```python\nx = 1\n```\n<img src=x onerror=alert(1)>"));
    return {
      h: box.querySelectorAll("h3").length,
      strong: box.querySelectorAll("strong").length,
      code: box.querySelectorAll("p code").length,
      li: box.querySelectorAll("ul li").length,
      block: box.querySelector(".codeblock pre code")?.textContent,
      lang: box.querySelector(".codeblock .lang")?.textContent,
      img: box.querySelectorAll("img").length,
    };
  });
  check(seen.markdown.h === 1 && seen.markdown.strong === 1 && seen.markdown.code === 1, "inline Markdown not rendered");
  check(seen.markdown.li === 2 && seen.markdown.block === "x = 1" && seen.markdown.lang === "python", "blocks not rendered");
  check(seen.markdown.img === 0, "model text became HTML");

  // Copy button of a code block.
  await page.evaluate(() => addMessage("assistant", "```js\nconsole.log(42)\n```"));
  await page.click(".msg.assistant:last-child button.copy");
  await page.waitForFunction(() => document.querySelector(".msg.assistant:last-child button.copy").textContent === "Copied");
  seen.clipboard = await page.evaluate(() => navigator.clipboard.readText());
  check(seen.clipboard === "console.log(42)", `clipboard holds ${JSON.stringify(seen.clipboard)}`);

  // A question streams its answer, and the send button comes back.
  await page.fill("#message", "What does Circle.area return?");
  await page.click("#send");
  await page.waitForFunction(() => document.getElementById("stop").disabled === false);
  await page.waitForFunction(() => document.getElementById("send").disabled === false, null, { timeout: 120000 });
  seen.answer = await page.textContent(".msg.assistant:last-child");
  check(seen.answer && seen.answer.trim().length > 0, "no answer shown");
  seen.meta = await page.textContent(".msg.assistant:last-child .meta");
  check(seen.meta.includes("local"), `no model named under the answer: ${seen.meta}`);

  // Stop: a long answer stops when asked, mid-stream.
  await page.fill("#message", "List the numbers from 1 to 200, one per line, with a word about each.");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelector(".msg.assistant:last-child").textContent.length > 0, null, { timeout: 60000 });
  await page.click("#stop");
  await page.waitForFunction(() => document.getElementById("send").disabled === false, null, { timeout: 10000 });
  seen.stopped = await page.textContent(".msg.assistant:last-child .meta");
  check(seen.stopped.includes("stopped"), `the answer was not stopped: ${seen.stopped}`);

  // Saved sessions: the conversation is listed, a new chat starts empty, and a click on the
  // saved one brings its messages back; the next question continues it.
  await page.waitForFunction(() => [...document.querySelectorAll("#sessions li")].some((li) => li.textContent.includes("Circle.area")), null, { timeout: 10000 });
  seen.savedSessions = await page.$$eval("#sessions li", (items) => items.map((li) => li.textContent));
  check(await page.isHidden("#sessions-hint"), "the no-sessions hint is still shown");
  await page.click("#new-chat");
  await page.waitForFunction(() => document.getElementById("connection").textContent.startsWith("connected"), null, { timeout: 30000 });
  check((await page.$$(".msg")).length === 0, "a new chat did not start empty");
  await page.click("#sessions li:has-text('Circle.area')");
  await page.waitForFunction(() => document.querySelectorAll(".msg.user").length === 2, null, { timeout: 10000 });
  seen.reopened = await page.$$eval(".msg.user", (items) => items.map((el) => el.textContent));
  check(seen.reopened[0] === "What does Circle.area return?", `reopened: ${JSON.stringify(seen.reopened)}`);
  check(await page.isVisible("#sessions li.current:has-text('Circle.area')"), "the reopened session is not marked current");
  await page.fill("#message", "Thanks. Say ok.");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll(".msg.user").length === 3 && document.getElementById("send").disabled === false, null, { timeout: 120000 });
  // The list reloads after the answer, asynchronously: wait for it rather than read it at once.
  const continued = await page
    .waitForFunction(() => (document.querySelector("#sessions li.current")?.textContent ?? "").includes("6 messages"), null, { timeout: 15000 })
    .then(() => true, () => false);
  seen.continued = await page.$eval("#sessions li.current", (li) => li.textContent);
  check(continued, `the question did not continue the session: ${seen.continued}`);

  check(errors.length === 0, `errors on the page: ${errors.join("; ")}`);
  console.log(JSON.stringify({ ok: true, ...seen }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String(err), ...seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
