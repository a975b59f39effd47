// Storage behaviour that differs between engines and matters to users: IndexedDB survives a
// reload, two browser profiles do not share it, and when IndexedDB cannot be used (private-mode
// style refusal, no IndexedDB at all, a newer schema left by another build, an upgrade blocked by
// another tab) the SDK falls back to memory, says so (onStorageFallback) and loses nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, openPage, newClient, reloadClient, sendAs, api, waitFor, count, eventsOf, listIDs,
  cleanup, withContext as withContextOf,
} from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

const withContext = (fn) => withContextOf(browser, fn);

test("IndexedDB persists across reloads and is not shared between two browser profiles", async () => {
  await sendAs(server.url, "sp_bob", "c2c_sp_alice", "b");
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  try {
    const a = await newClient(ctxA, server.url, "sp_alice");
    await waitFor(a, `(await listIDs()).length === 1`);
    const dbName = "chat-sdk-1400000001-sp_alice";
    const namesIn = (p) => p.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok((await namesIn(a)).includes(dbName), "profile A has the database");
    // After a reload (no login yet), the conversation is still in IndexedDB.
    await reloadClient(a, server.url, "sp_alice", { login: false });
    const cached = await a.evaluate(async () => {
      // Reading IndexedDB directly: the SDK's conversations store holds the conversation.
      const db = await new Promise((res, rej) => { const r = indexedDB.open("chat-sdk-1400000001-sp_alice"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const ids = await new Promise((res, rej) => { const r = db.transaction("conversations").objectStore("conversations").getAllKeys(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      db.close();
      return ids;
    });
    assert.deepEqual(cached, ["c2c_sp_bob"], "still in IndexedDB after the reload");
    const b = await openPage(ctxB, server.url);
    assert.ok(!(await namesIn(b)).includes(dbName), "profile B does not see profile A's database");
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

// Each case breaks IndexedDB in the page before the SDK is created.
const BREAKERS = {
  "indexedDB.open throws (private-mode style refusal)": () => {
    IDBFactory.prototype.open = function () { throw new DOMException("A mutation operation was attempted on a database that did not allow mutations.", "InvalidStateError"); };
  },
  "no indexedDB at all": () => {
    Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true });
  },
  "a newer schema left by another build (VersionError)": () => {
    const realOpen = IDBFactory.prototype.open;
    // The database already has version 99: opening it with this build's version fails.
    IDBFactory.prototype.open = function (name, version) { return realOpen.call(this, name + "-newer", version); };
    return new Promise((res) => {
      const r = realOpen.call(indexedDB, window.__breakName + "-newer", 99);
      r.onsuccess = () => { r.result.close(); res(); };
    });
  },
  "the upgrade is blocked by another tab that keeps an older version open": () => {
    const realOpen = IDBFactory.prototype.open;
    // Another tab holds the database at this build's version and never closes it; the SDK asks
    // for the next version, as a newer build would.
    return new Promise((res) => {
      const r = realOpen.call(indexedDB, window.__breakName + "-blocked", 1);
      r.onsuccess = () => {
        window.__otherTab = r.result; // kept open, no versionchange handler
        IDBFactory.prototype.open = function (name, version) { return realOpen.call(this, name + "-blocked", version + 1); };
        res();
      };
    });
  },
};

for (const [what, breaker] of Object.entries(BREAKERS)) {
  test(`IndexedDB unusable (${what}): memory fallback with onStorageFallback, the SDK works and nothing is lost`, { timeout: 90_000 }, () =>
    withContext(async (context) => {
      const user = `fb_${Object.keys(BREAKERS).indexOf(what)}_alice`;
      await sendAs(server.url, `${user}_bob`, `c2c_${user}`, "b");
      await sendAs(server.url, `${user}_carol`, `c2c_${user}`, "c");
      const page = await openPage(context, server.url);
      await page.evaluate(([name, src]) => { window.__breakName = name; return (0, eval)(`(${src})`)(); },
        [`chat-sdk-1400000001-${user}`, breaker.toString()]);
      await newClient(context, server.url, user, { page });
      assert.equal(await count(page, "onStorageFallback"), 1);
      const [reason] = (await eventsOf(page, "onStorageFallback"))[0].args;
      assert.match(reason, /memory/, reason);
      await waitFor(page, `(await listIDs()).length === 2`, 10_000);
      // the delete goes through to the server although nothing is stored locally
      await page.evaluate((id) => window.cm.deleteConversation(id), `c2c_${user}_bob`);
      assert.deepEqual(await listIDs(page), [`c2c_${user}_carol`]);
      // (the SDK said why on the console too)
      assert.ok(page.consoleMessages.some((m) => m.type === "warning" && m.text.includes("using memory")), JSON.stringify(page.consoleMessages));
      const onServer = await api(server.url, user, "GET", "/v1/conversations?count=100");
      assert.deepEqual(onServer.conversationList.map((c) => c.conversationID), [`c2c_${user}_carol`]);
      // a reload with IndexedDB working again converges from the server: still deleted
      await reloadClient(page, server.url, user);
      await waitFor(page, `(await listIDs()).length === 1`, 10_000);
      assert.deepEqual(await listIDs(page), [`c2c_${user}_carol`]);
      assert.equal(await count(page, "onStorageFallback"), 0);
    }));
}
