// End-to-end test of the framework examples (examples/react, examples/vue): each built dist/ is
// served by a small static server, logs alice in against a real chat-server, and must keep its
// conversation list in sync when a row is deleted. Runs in the engine chosen by BROWSER
// (tests/browser/engines.mjs).
// Run: scripts/build-examples && node --test tests/e2e/examples.test.mjs   (after scripts/build)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINE, launchBrowser } from "../browser/harness.mjs";
import { click, count, dataOf, text, waitSel } from "../browser/dom.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER = join(ROOT, "target/release/chat-server");
const ARTIFACTS = join(ROOT, "tests/artifacts");
const T = 15_000; // per-wait timeout (generous: 2-core CI, cold wasm compile)

const MIME = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml",
  ".png": "image/png", ".ico": "image/x-icon", ".map": "application/json",
};

// Serves `dir` on 127.0.0.1:<free port>; unknown extensionless paths fall back to index.html.
async function serveStatic(dir) {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      let file = normalize(join(dir, path));
      if (file !== dir && !file.startsWith(dir + sep)) { res.writeHead(403).end(); return; }
      if (!(await stat(file).catch(() => null))?.isFile()) {
        if (extname(file)) { res.writeHead(404).end(); return; }
        file = join(dir, "index.html"); // client-side routes
      }
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      }).end(body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

async function startChatServer() {
  const tmp = mkdtempSync(join(tmpdir(), "chat-examples-e2e-"));
  const ready = join(tmp, "ready");
  const proc = spawn(SERVER, ["--listen", "127.0.0.1:0", "--db", ":memory:", "--dev", "--rate-limit", "0",
    "--ready-file", ready], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    if (proc.exitCode !== null) { await stop(); throw new Error(`chat-server exited early: ${stderr}`); }
    if (Date.now() > deadline) { await stop(); throw new Error(`chat-server not ready after 10 s: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: readFileSync(ready, "utf8").trim(), stop };
}

// Calls the chat-server's HTTP API as `userID` (dev userSig).
async function api(serverURL, userID, method, path, body) {
  const sig = await fetch(`${serverURL}/dev/usersig?userID=${userID}`).then((r) => r.json());
  const res = await fetch(serverURL + path, {
    method,
    headers: { authorization: `Bearer ${sig.userSig}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path} as ${userID}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

for (const name of ["react", "vue"]) {
  const dist = join(ROOT, "examples", name, "dist");
  const skip = existsSync(join(dist, "index.html"))
    ? false
    : `examples/${name}/dist is missing: run scripts/build-examples first`;

  describe(`${name} example`, { skip, timeout: 300_000 }, () => {
    let chat;
    let web;
    let browser;
    let page;
    const pageErrors = [];
    const consoleLines = [];

    before(async () => {
      chat = await startChatServer();
      web = await serveStatic(dist);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await web?.close();
      await chat?.stop();
    });

    // it() that saves a screenshot and the console on failure.
    const step = (title, fn) => it(title, async () => {
      try { await fn(); } catch (e) {
        mkdirSync(ARTIFACTS, { recursive: true });
        const base = join(ARTIFACTS, `${ENGINE}-fail-example-${name}-${title.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`);
        await page?.screenshot({ path: `${base}.png` }).catch(() => {});
        writeFileSync(`${base}.txt`, [...pageErrors, ...consoleLines].join("\n") + "\n");
        throw e;
      }
    });
    const row = (id) => `[data-testid="conversation-row"][data-conversation-id="${id}"]`;
    const unread = (n) => page.waitForFunction(
      (want) => document.querySelector('[data-testid="total-unread"]')?.textContent === want, n, { timeout: T });

    step("seeds two conversations for alice", async () => {
      const { sdkAppID } = await fetch(`${chat.url}/v1/info`).then((r) => r.json());
      for (const peer of ["bob", "carol"]) {
        await api(chat.url, peer, "POST", "/v1/login", { sdkAppID, userID: peer });
        await api(chat.url, peer, "POST", "/v1/messages", { conversationID: "c2c_alice", text: `hi from ${peer}` });
      }
    });

    step("renders both conversations", async () => {
      const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
      page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") consoleLines.push(`${m.type()}: ${m.text()}`); });
      await page.goto(`${web.url}/?user=alice&server=${encodeURIComponent(chat.url)}`);
      await waitSel(page, 'main[data-state="ready"], [data-testid="error"]', { timeout: T });
      if (await count(page, '[data-testid="error"]')) assert.fail(`login error: ${await text(page, '[data-testid="error"]')}`);
      await waitSel(page, row("c2c_bob"), { timeout: T });
      await waitSel(page, row("c2c_carol"), { timeout: T });
      const ids = await dataOf(page, '[data-testid="conversation-row"]', "conversationId");
      assert.deepEqual(ids, ["c2c_carol", "c2c_bob"], "newest first");
      assert.match(await text(page, row("c2c_bob")), /hi from bob/);
      assert.match(await text(page, '[data-testid="last-deleted"]'), /none/);
      await unread("2");
    });

    step("delete removes the row and shows the onConversationDeleted IDs", async () => {
      await click(page, `${row("c2c_bob")} [data-testid="conversation-delete"]`);
      await waitSel(page, row("c2c_bob"), { state: "detached", timeout: T });
      await page.waitForFunction(
        () => document.querySelector('[data-testid="last-deleted"]')?.textContent.includes("c2c_bob"), null, { timeout: T });
      assert.equal(await count(page, row("c2c_carol")), 1, "the other conversation stays");
      await unread("1"); // useTotalUnreadMessageCount follows onTotalUnreadMessageCountChanged
      assert.equal(await count(page, '[data-testid="error"]'), 0);
      // Deleted on the server too.
      const list = await api(chat.url, "alice", "GET", "/v1/conversations?count=100");
      const ids = JSON.stringify(list);
      assert.ok(!ids.includes("c2c_bob") && ids.includes("c2c_carol"), `server list: ${ids}`);
    });

    step("a new message brings the conversation back (onNewConversation)", async () => {
      await api(chat.url, "bob", "POST", "/v1/messages", { conversationID: "c2c_alice", text: "back again" });
      await waitSel(page, row("c2c_bob"), { timeout: T });
      assert.match(await text(page, row("c2c_bob")), /back again/);
      await unread("2");
    });

    step("had no uncaught page errors", async () => {
      await page?.evaluate("1"); // collects late errors (WebDriver)
      assert.deepEqual(pageErrors, []);
    });
  });
}
