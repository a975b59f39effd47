// Helpers for the browser tests: one chat-server child per suite, a browser of the engine chosen
// by BROWSER=chromium|firefox|webkit (engines.mjs), and pages that load the SDK from the same
// origin (tests/browser/www/index.html).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINE, launchEngine } from "./engines.mjs";

export { ENGINE };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SDK_APP_ID = 1400000001;
const SERVER_BIN = process.env.CHAT_SERVER_BIN || join(ROOT, "target/release/chat-server");

// Servers still running when node exits (a crash between start and stop) are killed by PID.
const liveServers = new Set();
process.on("exit", () => { for (const pid of liveServers) { try { process.kill(pid, "SIGKILL"); } catch {} } });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a chat-server child. opts: { sync, db, listen, www, args (extra flags) }. Returns { url, port, pid, stop() }.
 * stop() sends SIGTERM to exactly this child, waits for it to exit and removes its temp dir.
 */
export async function startServer(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), "chat-browser-test-"));
  const ready = join(dir, "ready");
  const args = [
    "--listen", opts.listen ?? "127.0.0.1:0",
    "--db", opts.db ?? ":memory:",
    "--dev", "--rate-limit", "0",
    "--www", opts.www ?? join(ROOT, "tests/browser/www"),
    "--pkg", join(ROOT, "pkg"),
    "--ready-file", ready,
  ];
  if (opts.sync) args.push("--sync-conversation-deletion");
  if (opts.args) args.push(...opts.args);
  const child = spawn(SERVER_BIN, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  let done = false;
  liveServers.add(child.pid);
  exited.then(() => { done = true; liveServers.delete(child.pid); });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(ready) && readFileSync(ready, "utf8").trim())) {
    if (done) { rmSync(dir, { recursive: true, force: true }); throw new Error(`chat-server exited early: ${stderr}`); }
    if (Date.now() > deadline) { child.kill("SIGKILL"); rmSync(dir, { recursive: true, force: true }); throw new Error("chat-server not ready in 10 s"); }
    await sleep(25);
  }
  const url = readFileSync(ready, "utf8").trim();
  rmSync(dir, { recursive: true, force: true });
  const server = {
    url,
    port: Number(new URL(url).port),
    pid: child.pid,
    get stderr() { return stderr; },
    async stop() {
      if (!done) {
        process.kill(child.pid, "SIGTERM");
        const t = setTimeout(() => { if (!done) process.kill(child.pid, "SIGKILL"); }, 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  return server;
}

/** The browser of the selected engine: newContext() gives a fresh profile (its own storage). */
export const launchBrowser = launchEngine;

/** GET /dev/usersig?userID= */
export async function getUserSig(serverURL, userID) {
  const r = await fetch(`${serverURL}/dev/usersig?userID=${encodeURIComponent(userID)}`);
  if (!r.ok) throw new Error(`usersig ${userID}: ${r.status} ${await r.text()}`);
  return (await r.json()).userSig;
}

/** POST /dev/groups */
export async function createGroup(serverURL, groupID, name, members) {
  const r = await fetch(`${serverURL}/dev/groups`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ groupID, name, members }),
  });
  if (!r.ok) throw new Error(`createGroup: ${r.status} ${await r.text()}`);
}

/** Calls a /v1/ route as `userID` (logging it in first), for peers that need no browser. */
const apiSigs = new Map();
export async function api(serverURL, userID, method, path, body) {
  const key = `${serverURL} ${userID}`;
  let sig = apiSigs.get(key);
  if (!sig) {
    sig = await getUserSig(serverURL, userID);
    const r = await fetch(`${serverURL}/v1/login`, {
      method: "POST", headers: { authorization: `Bearer ${sig}`, "content-type": "application/json" },
      body: JSON.stringify({ sdkAppID: SDK_APP_ID, userID }),
    });
    if (!r.ok) throw new Error(`login ${userID}: ${r.status}`);
    apiSigs.set(key, sig);
  }
  const headers = { authorization: `Bearer ${sig}`, "content-type": "application/json" };
  const r = await fetch(`${serverURL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${path} as ${userID}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/** History of `conversationID` as seen by `userID` on the server (texts, newest first). */
export async function historyAs(serverURL, userID, conversationID) {
  const r = await api(serverURL, userID, "GET", `/v1/messages?conversationID=${encodeURIComponent(conversationID)}&count=100`);
  return r.messageList.map((m) => m.text);
}

/** The peer `from` sends a text to conversation `conversationID` (native ID relative to `from`). */
export const sendAs = (serverURL, from, conversationID, text) =>
  api(serverURL, from, "POST", "/v1/messages", { conversationID, text });

/** Runs `fn` with a fresh browser context (its own storage), closed afterwards. */
export async function withContext(browser, fn) {
  const context = await browser.newContext();
  try { return await fn(context); } finally { await context.close(); }
}

/** Opens the test page in `context`, waits for the package to load, and records page console/errors. */
export async function openPage(context, serverURL) {
  const page = await context.newPage();
  page.consoleMessages = [];
  page.errors = [];
  page.on("console", (m) => page.consoleMessages.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => page.errors.push(String(e && e.message)));
  await page.goto(serverURL + "/");
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15_000 });
  return page;
}

/** Opens a page (or reuses `opts.page`), creates an SDK with `opts.sdk` options and logs `user` in. */
export async function newClient(context, serverURL, user, opts = {}) {
  const page = opts.page ?? (await openPage(context, serverURL));
  const sig = await getUserSig(serverURL, user);
  await page.evaluate(([u, s, o, login]) => window.makeClient(u, s, o, login), [user, sig, opts.sdk ?? {}, opts.login ?? true]);
  return page;
}

/** Reloads the page, then creates the SDK and logs in again in it. */
export async function reloadClient(page, serverURL, user, opts = {}) {
  await page.reload();
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15_000 });
  return newClient(page.context(), serverURL, user, { ...opts, page });
}

/**
 * Polls `predicateSource` (a JS expression or async function body string evaluated in the page,
 * e.g. "(await listIDs()).length === 0") until it is truthy; throws with `what` after timeoutMs,
 * and with the value of `stateSource` (another page expression) if given, to tell which part failed.
 */
export async function waitFor(page, predicateSource, timeoutMs = 5000, what = predicateSource, stateSource) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await page.evaluate(`(async () => (${predicateSource}))()`);
    if (last) return last;
    if (Date.now() > deadline) {
      const state = stateSource ? `; state: ${JSON.stringify(await page.evaluate(`(async () => (${stateSource}))()`))}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (last: ${JSON.stringify(last)})${state}`);
    }
    await sleep(50);
  }
}

/** Number of recorded events with this name in the page. */
export const count = (page, name) => page.evaluate((n) => window.eventsNamed(n).length, name);
/** Recorded events with this name. */
export const eventsOf = (page, name) => page.evaluate((n) => window.eventsNamed(n), name);
/** Conversation IDs of getConversationList(0, 100) in the page. */
export const listIDs = (page) => page.evaluate(() => window.listIDs());
/** Runs `fn(arg)` in the page through window.outcome: {ok, value} or {ok:false, code, ...}. */
export const outcome = (page, fn, arg) =>
  page.evaluate(([src, a]) => window.outcome(() => (0, eval)(`(${src})`)(a)), [fn.toString(), arg]);

/** Closes the browser and stops the servers, ignoring errors (for `after` hooks). */
export async function cleanup({ browser, servers = [] }) {
  try { if (browser) await browser.close(); } catch {}
  for (const s of servers) { try { if (s) await s.stop(); } catch {} }
}
