// End-to-end test of the demo page (www/) against a real chat-server, in Debian chromium.
// One peer (bob) and two devices of alice, each in its own browser context.
// Run: node --test tests/e2e/   (after scripts/build)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER = join(ROOT, "target/release/chat-server");
const ARTIFACTS = join(ROOT, "tests/artifacts");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const XSS = "<img src=x onerror=alert(1)>";
const T = 15_000; // per-wait timeout (generous: 2-core CI, cold wasm compile)

let server;
let tmp;
let baseURL;
let browser;
const pageErrors = [];
const consoleLines = [];
const pages = new Map();

// On a failure, save a screenshot and the event log of every open page for diagnosis.
async function dumpAll(label) {
  const safe = label.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
  for (const [query, page] of pages) {
    if (page.isClosed()) continue;
    const name = `fail-${safe}-${query.replace(/[^a-z0-9]+/gi, "_")}`;
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) }).catch(() => {});
    const log = await page.$$eval('[data-testid="log-entry"]', (n) => n.map((x) => x.textContent).reverse()).catch(() => []);
    const err = await page.textContent('[data-testid="error"]').catch(() => "");
    writeFileSync(join(ARTIFACTS, `${name}.txt`), `error bar: ${err}\n\n${log.join("\n")}\n`);
  }
  writeFileSync(join(ARTIFACTS, `fail-${safe}-console.txt`), consoleLines.join("\n") + "\n");
}

// it() that dumps diagnostics when it fails.
function step(name, fn) {
  it(name, async () => {
    try { await fn(); } catch (e) { await dumpAll(name); throw e; }
  });
}
const dialogs = [];

async function startServer() {
  tmp = mkdtempSync(join(tmpdir(), "chat-demo-e2e-"));
  const ready = join(tmp, "ready");
  server = spawn(SERVER, [
    "--listen", "127.0.0.1:0", "--db", ":memory:", "--dev", "--sync-conversation-deletion",
    "--rate-limit", "0", "--www", join(ROOT, "www"), "--pkg", join(ROOT, "pkg"), "--ready-file", ready,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr.on("data", (d) => { stderr += d; });
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    if (server.exitCode !== null) throw new Error(`chat-server exited early: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`chat-server not ready after 10 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  baseURL = readFileSync(ready, "utf8").trim();
}

async function newPage(query, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(T);
  const page = await context.newPage();
  pages.set(query, page);
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") consoleLines.push(`${query}: ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => pageErrors.push(`${query}: ${e.message}`));
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await login(page, query);
  return page;
}

async function login(page, query) {
  await page.goto(`${baseURL}/?${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: T });
  const err = page.locator('[data-testid="error"]');
  assert.equal(await err.isVisible(), false, `login error: ${await err.textContent()}`);
  await page.locator('[data-testid="app-view"]').waitFor({ state: "visible", timeout: T });
}

// How many onConversationDeleted log entries name this conversation ID.
async function deletedEvents(page, id) {
  return page.$$eval('[data-testid="log-entry"][data-event="onConversationDeleted"] .log-args',
    (nodes, id) => nodes.filter((n) => JSON.parse(n.textContent).includes(id)).length, id);
}

const row = (page, id) => page.locator(`[data-testid="conversation-row"][data-conversation-id="${id}"]`);

async function waitRowUnread(page, id, n) {
  await page.waitForSelector(
    `[data-testid="conversation-row"][data-conversation-id="${id}"][data-unread="${n}"]`, { timeout: T });
}

async function openChatWith(page, kind, target) {
  await page.selectOption('[data-testid="new-chat-kind"]', kind);
  await page.fill('[data-testid="new-chat-target"]', target);
  await page.click('[data-testid="new-chat-submit"]');
  await page.locator('[data-testid="chat-open"]').waitFor({ state: "visible", timeout: T });
}

async function send(page, text) {
  const before = await page.locator('[data-testid="message"]').count();
  await page.fill('[data-testid="send-input"]', text);
  await page.click('[data-testid="send-button"]');
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="message"]').length > n, before, { timeout: T });
  assert.equal(await page.locator('[data-testid="error"]').isVisible(), false, "send failed");
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: false });
}

describe("demo page", { timeout: 120_000 }, () => {
  let bob;
  let alice1;
  let alice2;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await startServer();
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (server.exitCode === null) server.kill("SIGKILL");
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  step("shows the login page and the deletion-sync note", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${baseURL}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: T });
    await page.waitForSelector('[data-testid="sync-note"][data-sync="on"]', { timeout: T });
    assert.match(await page.textContent('[data-testid="sync-note"]'), /Deletion sync is ON/);
    assert.ok(await page.locator('[data-testid="login-form"]').isVisible());
    await shot(page, "login-desktop.png");
    await context.close();
  });

  step("logs in bob and two devices of alice (device 2 on memory storage)", async () => {
    alice1 = await newPage("user=alice");
    alice2 = await newPage("user=alice&device=2");
    bob = await newPage("user=bob");
    assert.equal(await alice1.textContent('[data-testid="current-user"]'), "alice");
    assert.match(await alice1.textContent('[data-testid="current-device"]'), /device 1/);
    assert.match(await alice2.textContent('[data-testid="current-device"]'), /device 2 · in-memory/);
    // The second-device button opens ?user=alice&device=2.
    const [popup] = await Promise.all([
      alice1.context().waitForEvent("page", { timeout: T }),
      alice1.click('[data-testid="open-second-device"]'),
    ]);
    await popup.waitForLoadState("domcontentloaded");
    const u = new URL(popup.url());
    assert.equal(u.searchParams.get("user"), "alice");
    assert.equal(u.searchParams.get("device"), "2");
    await popup.close();
  });

  step("bob's messages create the conversation on both alice devices with unread badges", async () => {
    await openChatWith(bob, "c2c", "alice");
    await send(bob, "Hi Alice, lunch today?");
    await send(bob, XSS);
    for (const page of [alice1, alice2]) {
      await waitRowUnread(page, "c2c_bob", 2);
      assert.equal(await row(page, "c2c_bob").locator('[data-testid="unread-badge"]').textContent(), "2");
      assert.equal(await row(page, "c2c_bob").locator('[data-testid="conversation-last"]').textContent(), XSS);
    }
    await alice1.waitForSelector('[data-testid="total-unread"][data-count="2"]', { timeout: T });

    // A group, created with the form, gives alice a second conversation.
    await bob.click('[data-testid="create-group"] summary');
    await bob.fill('[data-testid="group-id"]', "team");
    await bob.fill('[data-testid="group-name"]', "Design team");
    await bob.fill('[data-testid="group-members"]', "alice, carol");
    await bob.click('[data-testid="group-submit"]');
    await bob.waitForFunction(() => document.querySelector('[data-testid="chat-id"]').textContent === "group_team");
    await send(bob, "Welcome to the design team!");
    for (const page of [alice1, alice2]) await waitRowUnread(page, "group_team", 1);
    await alice1.waitForSelector('[data-testid="total-unread"][data-count="3"]', { timeout: T });
    // Ordered as the SDK returns it: newest first.
    const ids = await alice1.$$eval('[data-testid="conversation-row"]', (rows) => rows.map((r) => r.dataset.conversationId));
    assert.deepEqual(ids, ["group_team", "c2c_bob"]);
  });

  step("renders message text literally (no HTML injection) and opening clears unread", async () => {
    await row(alice1, "c2c_bob").locator('[data-testid="conversation-open"]').click();
    await alice1.waitForFunction((x) => [...document.querySelectorAll('[data-testid="message-text"]')]
      .some((n) => n.textContent === x), XSS, { timeout: T });
    assert.equal(await alice1.locator('[data-testid="messages"] img').count(), 0);
    assert.equal(await alice1.locator('[data-testid="conversation-list"] img').count(), 0);
    await waitRowUnread(alice1, "c2c_bob", 0);
    await alice1.waitForSelector('[data-testid="total-unread"][data-count="1"]', { timeout: T });
    await send(alice1, "Sure, 12:30 at the usual place?");
    await shot(alice1, "desktop-chat.png");
    assert.deepEqual(dialogs, [], "no alert() may run");
  });

  step("phone width: single column list and chat", async () => {
    const phone = await newPage("user=alice&device=3", PHONE);
    await row(phone, "c2c_bob").waitFor({ timeout: T });
    assert.equal(await phone.locator('[data-testid="chat-pane"]').isVisible(), false);
    await shot(phone, "phone-list.png");
    await row(phone, "c2c_bob").locator('[data-testid="conversation-open"]').click();
    await phone.locator('[data-testid="message"]').first().waitFor({ timeout: T });
    assert.equal(await phone.locator('[data-testid="sidebar"]').isVisible(), false);
    await shot(phone, "phone-chat.png");
    await phone.click('[data-testid="tab-log"]');
    await shot(phone, "phone-log.png");
    await phone.context().close();
  });

  step("deleting on device 1 removes the conversation on device 2 at once", async () => {
    await row(alice1, "c2c_bob").hover();
    await row(alice1, "c2c_bob").locator('[data-testid="conversation-delete"]').click();
    await row(alice1, "c2c_bob").waitFor({ state: "detached", timeout: T });
    await row(alice2, "c2c_bob").waitFor({ state: "detached", timeout: 5000 });
    await alice2.locator('[data-testid="log-entry"][data-event="onConversationDeleted"]', { hasText: "c2c_bob" })
      .first().waitFor({ timeout: T });
    await alice1.locator('[data-testid="log-entry"][data-event="onConversationDeleted"]', { hasText: "c2c_bob" })
      .first().waitFor({ timeout: T });
    assert.equal(await row(alice2, "group_team").count(), 1, "the other conversation stays");
    await alice2.waitForTimeout(300); // let any duplicate arrive before counting
    assert.equal(await deletedEvents(alice2, "c2c_bob"), 1, "device 2: onConversationDeleted exactly once");
    await shot(alice2, "desktop-device2-after-delete.png");
  });

  // Contract: "onConversationDeleted(ids) fires exactly once per client for each deleted
  // conversation", also when the server's push of its own deletion beats the HTTP reply.
  it("device 1 reported its own deletion exactly once", async () => {
    assert.equal(await deletedEvents(alice1, "c2c_bob"), 1);
  });

  step("a reload of device 1 keeps it deleted", async () => {
    await alice1.reload();
    await alice1.waitForSelector('body[data-ready="true"]', { timeout: T });
    await row(alice1, "group_team").waitFor({ timeout: T });
    await alice1.waitForSelector('[data-testid="connection-status"][data-state="online"]', { timeout: T });
    assert.equal(await row(alice1, "c2c_bob").count(), 0);
  });

  step("a new message from bob brings it back on both devices", async () => {
    await bob.locator('[data-testid="conversation-row"][data-conversation-id="c2c_alice"] [data-testid="conversation-open"]').click();
    await bob.waitForFunction(() => document.querySelector('[data-testid="chat-id"]').textContent === "c2c_alice");
    await send(bob, "Are you there?");
    for (const page of [alice1, alice2]) {
      await waitRowUnread(page, "c2c_bob", 1);
      assert.equal(await row(page, "c2c_bob").locator('[data-testid="conversation-last"]').textContent(), "Are you there?");
    }
  });

  step("batch delete shows per-item results, including 6017 for a malformed ID", async () => {
    await alice1.click('[data-testid="select-mode"]');
    await alice1.locator('[data-testid="batch-bar"]').waitFor({ timeout: T });
    await row(alice1, "c2c_bob").locator('[data-testid="conversation-check"]').check();
    await row(alice1, "group_team").locator('[data-testid="conversation-check"]').check();
    await alice1.fill('[data-testid="extra-ids"]', "c2c_bad id!, c2c_nobody");
    await alice1.locator('[data-testid="clear-history"]').check({ force: true });
    await alice1.click('[data-testid="delete-selected"]');
    await alice1.locator('[data-testid="batch-results"]').waitFor({ timeout: T });
    const results = await alice1.$$eval('[data-testid="batch-result"]', (items) => items.map((li) => ({
      id: li.dataset.conversationId,
      code: Number(li.dataset.code),
      info: li.querySelector('[data-testid="batch-result-info"]')?.textContent ?? "",
    })));
    assert.deepEqual(results.map((r) => [r.id, r.code]),
      [["c2c_bob", 0], ["group_team", 0], ["c2c_bad id!", 6017], ["c2c_nobody", 2500]]);
    assert.ok(results[2].info.length > 0, "the 6017 item has a resultInfo");
    assert.ok(await alice1.locator('[data-testid="batch-result"][data-code="6017"]').isVisible());
    for (const page of [alice1, alice2]) {
      await row(page, "c2c_bob").waitFor({ state: "detached", timeout: T });
      await row(page, "group_team").waitFor({ state: "detached", timeout: T });
    }
    await alice1.waitForSelector('[data-testid="total-unread"][data-count="0"]', { timeout: T });
    await shot(alice1, "desktop-batch-results.png");

    // clearMessage: true — a new message shows only history newer than the deletion.
    await send(bob, "New start");
    await waitRowUnread(alice1, "c2c_bob", 1);
    await row(alice1, "c2c_bob").locator('[data-testid="conversation-open"]').click();
    await alice1.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-text"]')]
      .some((n) => n.textContent === "New start"), null, { timeout: T });
    const texts = await alice1.$$eval('[data-testid="message-text"]', (n) => n.map((x) => x.textContent));
    assert.deepEqual(texts, ["New start"]);
  });

  step("had no uncaught page errors", () => {
    assert.deepEqual(pageErrors, []);
  });
});
