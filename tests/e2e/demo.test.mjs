// End-to-end test of the demo page (www/) against a real chat-server, in the engine chosen by
// BROWSER (chromium, firefox, webkit; see tests/browser/engines.mjs). One peer (bob) and two
// devices of alice, each in its own browser context. Screenshots at desktop and phone width go to
// tests/artifacts/<engine>-*.png.
// Run: BROWSER=firefox node --test tests/e2e/demo.test.mjs   (after scripts/build)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINE, ROOT, launchBrowser, startServer } from "../browser/harness.mjs";
import { check, click, count, dataOf, fill, isVisible, selectOption, text, texts, waitSel, waitText } from "../browser/dom.mjs";

const ARTIFACTS = join(ROOT, "tests/artifacts");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const XSS = "<img src=x onerror=alert(1)>";
const T = 30_000; // per-wait timeout (generous: 2-core CI, cold wasm compile, three engines)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
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
    const name = `${ENGINE}-fail-${safe}-${query.replace(/[^a-z0-9]+/gi, "_")}`;
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) }).catch(() => {});
    const log = await texts(page, '[data-testid="log-entry"]').catch(() => []);
    const err = await text(page, '[data-testid="error"]').catch(() => "");
    writeFileSync(join(ARTIFACTS, `${name}.txt`), `error bar: ${err}\n\n${[...log].reverse().join("\n")}\n`);
  }
  writeFileSync(join(ARTIFACTS, `${ENGINE}-fail-${safe}-console.txt`), consoleLines.join("\n") + "\n");
}

// it() that dumps diagnostics when it fails.
function step(name, fn) {
  it(name, async () => {
    try { await fn(); } catch (e) { await dumpAll(name); throw e; }
  });
}

// alert()/confirm() calls are recorded (and answered "no") instead of blocking the page.
async function trapDialogs(page) {
  await page.evaluate(() => {
    window.__dialogs ??= [];
    window.alert = (m) => { window.__dialogs.push(String(m)); };
    window.confirm = (m) => { window.__dialogs.push(String(m)); return false; };
  });
}
const dialogsOf = (page) => page.evaluate(() => window.__dialogs ?? []);

async function newPage(query, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  pages.set(query, page);
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") consoleLines.push(`${query}: ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => pageErrors.push(`${query}: ${e.message}`));
  await login(page, query);
  return page;
}

async function login(page, query) {
  await page.goto(`${baseURL}/?${query}`);
  await waitSel(page, 'body[data-ready="true"]');
  await trapDialogs(page);
  assert.equal(await isVisible(page, '[data-testid="error"]'), false, `login error: ${await text(page, '[data-testid="error"]')}`);
  await waitSel(page, '[data-testid="app-view"]', { state: "visible" });
}

// How many onConversationDeleted log entries name this conversation ID.
async function deletedEvents(page, id) {
  const args = await texts(page, '[data-testid="log-entry"][data-event="onConversationDeleted"] .log-args');
  return args.filter((a) => JSON.parse(a).includes(id)).length;
}

const row = (id) => `[data-testid="conversation-row"][data-conversation-id="${id}"]`;

const waitRowUnread = (page, id, n) => waitSel(page, `${row(id)}[data-unread="${n}"]`);

async function openChatWith(page, kind, target) {
  await selectOption(page, '[data-testid="new-chat-kind"]', kind);
  await fill(page, '[data-testid="new-chat-target"]', target);
  await click(page, '[data-testid="new-chat-submit"]');
  await waitSel(page, '[data-testid="chat-open"]', { state: "visible" });
}

async function send(page, msg) {
  const before = await count(page, '[data-testid="message"]');
  await fill(page, '[data-testid="send-input"]', msg);
  await click(page, '[data-testid="send-button"]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length > n, before, { timeout: T });
  assert.equal(await isVisible(page, '[data-testid="error"]'), false, "send failed");
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${ENGINE}-${name}`) });
}

describe("demo page", { timeout: 600_000 }, () => {
  let bob;
  let alice1;
  let alice2;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer({ sync: true, www: join(ROOT, "www") });
    baseURL = server.url;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step("shows the login page and the deletion-sync note", async () => {
    for (const [name, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(`${baseURL}/`);
      await waitSel(page, 'body[data-ready="true"]');
      await waitSel(page, '[data-testid="sync-note"][data-sync="on"]');
      assert.match(await text(page, '[data-testid="sync-note"]'), /Deletion sync is ON/);
      assert.ok(await isVisible(page, '[data-testid="login-form"]'));
      await shot(page, `login-${name}.png`);
      await context.close();
    }
  });

  step("logs in bob and two devices of alice (device 2 on memory storage)", async () => {
    alice1 = await newPage("user=alice");
    alice2 = await newPage("user=alice&device=2");
    bob = await newPage("user=bob");
    assert.equal(await text(alice1, '[data-testid="current-user"]'), "alice");
    assert.match(await text(alice1, '[data-testid="current-device"]'), /device 1/);
    assert.match(await text(alice2, '[data-testid="current-device"]'), /device 2 · in-memory/);
    // The second-device button opens ?user=alice&device=2 in a new window (window.open observed).
    await alice1.evaluate(() => {
      const open = window.open;
      window.open = (u, ...rest) => { window.__opened = String(u); window.open = open; return null; };
    });
    await click(alice1, '[data-testid="open-second-device"]');
    const u = new URL(await alice1.evaluate(() => window.__opened));
    assert.equal(u.searchParams.get("user"), "alice");
    assert.equal(u.searchParams.get("device"), "2");
  });

  step("bob's messages create the conversation on both alice devices with unread badges", async () => {
    await openChatWith(bob, "c2c", "alice");
    await send(bob, "Hi Alice, lunch today?");
    await send(bob, XSS);
    for (const page of [alice1, alice2]) {
      await waitRowUnread(page, "c2c_bob", 2);
      assert.equal(await text(page, `${row("c2c_bob")} [data-testid="unread-badge"]`), "2");
      assert.equal(await text(page, `${row("c2c_bob")} [data-testid="conversation-last"]`), XSS);
    }
    await waitSel(alice1, '[data-testid="total-unread"][data-count="2"]');

    // A group, created with the form, gives alice a second conversation.
    await click(bob, '[data-testid="create-group"] summary');
    await fill(bob, '[data-testid="group-id"]', "team");
    await fill(bob, '[data-testid="group-name"]', "Design team");
    await fill(bob, '[data-testid="group-members"]', "alice, carol");
    await click(bob, '[data-testid="group-submit"]');
    await bob.waitForFunction(() => document.querySelector('[data-testid="chat-id"]').textContent === "group_team", null, { timeout: T });
    await send(bob, "Welcome to the design team!");
    for (const page of [alice1, alice2]) await waitRowUnread(page, "group_team", 1);
    await waitSel(alice1, '[data-testid="total-unread"][data-count="3"]');
    // Ordered as the SDK returns it: newest first.
    const ids = await dataOf(alice1, '[data-testid="conversation-row"]', "conversationId");
    assert.deepEqual(ids, ["group_team", "c2c_bob"]);
  });

  step("renders message text literally (no HTML injection) and opening clears unread", async () => {
    await click(alice1, `${row("c2c_bob")} [data-testid="conversation-open"]`);
    await alice1.waitForFunction((x) => [...document.querySelectorAll('[data-testid="message-text"]')]
      .some((n) => n.textContent === x), XSS, { timeout: T });
    assert.equal(await count(alice1, '[data-testid="messages"] img'), 0);
    assert.equal(await count(alice1, '[data-testid="conversation-list"] img'), 0);
    await waitRowUnread(alice1, "c2c_bob", 0);
    await waitSel(alice1, '[data-testid="total-unread"][data-count="1"]');
    await send(alice1, "Sure, 12:30 at the usual place?");
    await shot(alice1, "desktop-chat.png");
    assert.deepEqual(await dialogsOf(alice1), [], "no alert() may run");
  });

  step("phone width: single column list and chat", async () => {
    const phone = await newPage("user=alice&device=3", PHONE);
    await waitSel(phone, row("c2c_bob"));
    const width = await phone.evaluate(() => window.innerWidth);
    assert.ok(width <= 720, `phone viewport is ${width} px wide`);
    assert.equal(await isVisible(phone, '[data-testid="chat-pane"]'), false);
    await shot(phone, "phone-list.png");
    await click(phone, `${row("c2c_bob")} [data-testid="conversation-open"]`);
    await waitSel(phone, '[data-testid="message"]');
    assert.equal(await isVisible(phone, '[data-testid="sidebar"]'), false);
    await shot(phone, "phone-chat.png");
    await click(phone, '[data-testid="tab-log"]');
    await shot(phone, "phone-log.png");
    pages.delete("user=alice&device=3");
    await phone.context().close();
  });

  step("deleting on device 1 removes the conversation on device 2 at once", async () => {
    await click(alice1, `${row("c2c_bob")} [data-testid="conversation-delete"]`);
    await waitSel(alice1, row("c2c_bob"), { state: "detached" });
    await waitSel(alice2, row("c2c_bob"), { state: "detached", timeout: 5000 });
    await waitText(alice2, '[data-testid="log-entry"][data-event="onConversationDeleted"]', "c2c_bob");
    await waitText(alice1, '[data-testid="log-entry"][data-event="onConversationDeleted"]', "c2c_bob");
    assert.equal(await count(alice2, row("group_team")), 1, "the other conversation stays");
    await sleep(300); // let any duplicate arrive before counting
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
    await waitSel(alice1, 'body[data-ready="true"]');
    await trapDialogs(alice1);
    await waitSel(alice1, row("group_team"));
    await waitSel(alice1, '[data-testid="connection-status"][data-state="online"]');
    assert.equal(await count(alice1, row("c2c_bob")), 0);
  });

  step("a new message from bob brings it back on both devices", async () => {
    await click(bob, `${row("c2c_alice")} [data-testid="conversation-open"]`);
    await bob.waitForFunction(() => document.querySelector('[data-testid="chat-id"]').textContent === "c2c_alice", null, { timeout: T });
    await send(bob, "Are you there?");
    for (const page of [alice1, alice2]) {
      await waitRowUnread(page, "c2c_bob", 1);
      assert.equal(await text(page, `${row("c2c_bob")} [data-testid="conversation-last"]`), "Are you there?");
    }
  });

  step("batch delete shows per-item results, including 6017 for a malformed ID", async () => {
    await click(alice1, '[data-testid="select-mode"]');
    await waitSel(alice1, '[data-testid="batch-bar"]', { state: "visible" });
    await check(alice1, `${row("c2c_bob")} [data-testid="conversation-check"]`);
    await check(alice1, `${row("group_team")} [data-testid="conversation-check"]`);
    await fill(alice1, '[data-testid="extra-ids"]', "c2c_bad id!, c2c_nobody");
    await check(alice1, '[data-testid="clear-history"]');
    await click(alice1, '[data-testid="delete-selected"]');
    await waitSel(alice1, '[data-testid="batch-results"]', { state: "visible" });
    const results = await alice1.evaluate(() => [...document.querySelectorAll('[data-testid="batch-result"]')].map((li) => ({
      id: li.dataset.conversationId,
      code: Number(li.dataset.code),
      info: li.querySelector('[data-testid="batch-result-info"]')?.textContent ?? "",
    })));
    assert.deepEqual(results.map((r) => [r.id, r.code]),
      [["c2c_bob", 0], ["group_team", 0], ["c2c_bad id!", 6017], ["c2c_nobody", 2500]]);
    assert.ok(results[2].info.length > 0, "the 6017 item has a resultInfo");
    assert.ok(await isVisible(alice1, '[data-testid="batch-result"][data-code="6017"]'));
    for (const page of [alice1, alice2]) {
      await waitSel(page, row("c2c_bob"), { state: "detached" });
      await waitSel(page, row("group_team"), { state: "detached" });
    }
    await waitSel(alice1, '[data-testid="total-unread"][data-count="0"]');
    await shot(alice1, "desktop-batch-results.png");

    // clearMessage: true — a new message shows only history newer than the deletion.
    await send(bob, "New start");
    await waitRowUnread(alice1, "c2c_bob", 1);
    await click(alice1, `${row("c2c_bob")} [data-testid="conversation-open"]`);
    await alice1.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-text"]')]
      .some((n) => n.textContent === "New start"), null, { timeout: T });
    assert.deepEqual(await texts(alice1, '[data-testid="message-text"]'), ["New start"]);
  });

  step("had no uncaught page errors", async () => {
    for (const page of pages.values()) if (!page.isClosed()) await page.evaluate("1"); // collects late errors (WebDriver)
    assert.deepEqual(pageErrors, []);
  });
});
