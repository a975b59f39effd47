// A push socket that cannot keep up is dropped by the server (its byte-bounded queue overflows,
// close code 1013); the SDK gets a new ticket, reconnects, resyncs from the feed and converges:
// every deletion made on another device reaches the page exactly once. No userSig ever shows in
// a console message or an event (the WebSocket authenticates with a single-use ticket).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newClient, sendAs, api, waitFor, count, eventsOf, listIDs, cleanup,
} from "./harness.mjs";

const N = 100;
let server, browser, context, page;
before(async () => {
  // A 1 KiB queue: one batch delete (N conversationDeleted frames, queued as one unit) overflows it.
  server = await startServer({ sync: true, args: ["--dev-ws-queue-bytes", "1024"] });
  browser = await launchBrowser();
  for (let i = 0; i < N; i++) await sendAs(server.url, `peer${i}`, "c2c_alice", `hi ${i}`);
  context = await browser.newContext();
  page = await newClient(context, server.url, "alice");
  await waitFor(page, `(await listIDs()).length === ${N} && eventsNamed("onConnectSuccess").length === 1`, 10_000);
});
after(async () => { await cleanup({ browser, servers: [server] }); });

test("a dropped slow socket reconnects, resyncs, and every deletion arrives exactly once", async () => {
  const ids = Array.from({ length: N }, (_, i) => `c2c_peer${i}`);
  // Another device of alice deletes everything in one batch.
  await api(server.url, "alice", "POST", "/v1/conversations/delete", { conversationIDList: ids, clearMessage: false });
  await waitFor(page, `(await listIDs()).length === 0 && eventsNamed("onConnectSuccess").length >= 2`, 30_000,
    "list empty and the push reconnected",
    `({ left: (await listIDs()).length, connects: eventsNamed("onConnectSuccess").length,
        failed: eventsNamed("onConnectFailed").length })`);
  await new Promise((r) => setTimeout(r, 500)); // late duplicates would show up here
  const deleted = (await eventsOf(page, "onConversationDeleted")).flatMap((e) => e.args[0]);
  assert.equal(deleted.length, N, "each deletion reported once");
  assert.deepEqual([...new Set(deleted)].sort(), [...ids].sort());
  // The new socket carries pushes again.
  await sendAs(server.url, "peer7", "c2c_alice", "after the reconnect");
  await waitFor(page, `(await listIDs()).includes("c2c_peer7")`, 5000);
  assert.equal(await count(page, "onUserSigExpired"), 0);
});

test("no userSig in console messages or connect events", async () => {
  const sig = await page.evaluate(() => window.userSig);
  const failed = await eventsOf(page, "onConnectFailed");
  for (const text of [...page.consoleMessages.map((m) => m.text), ...failed.map((e) => JSON.stringify(e.args))]) {
    assert.ok(!text.includes(sig), `a userSig leaked: ${text.slice(0, 200)}`);
  }
});
