// A sync reply computed before pushes that the client already applied must not undo them.
// Deterministic: the page's /v1/changes reply is fetched from the server, then held until the
// pushed messages have been applied, then delivered.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newClient, openPage, sendAs, waitFor, eventsOf, listIDs, sleep, cleanup } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

test("a stale sync reply (reset) does not delete or roll back conversations that arrived by push meanwhile", async () => {
  const context = await browser.newContext();
  try {
    const page = await openPage(context, server.url);
    let loggedIn = false;
    let release;
    const released = new Promise((r) => { release = r; });
    let held = 0;
    let frames = 0; // pushes received by the page (applied only after the held sync, by design)
    page.on("websocket", (ws) => ws.on("framereceived", () => { frames++; }));
    await page.route("**/v1/changes**", async (route) => {
      if (!loggedIn) return route.continue();
      const response = await route.fetch();      // the server's answer now (before the messages)
      held++;
      await released;                              // delivered after the pushes were applied
      await route.fulfill({ response });
    });
    await newClient(context, server.url, "race_alice", { page });  // first user login: empty feed
    loggedIn = true;
    // the sync that follows the push connection is now held
    await waitFor(page, `eventsNamed("onConnectSuccess").length >= 1`, 5000);
    const deadline = Date.now() + 5000;
    while (held === 0 && Date.now() < deadline) await sleep(25);
    assert.ok(held >= 1, "the post-connect sync request was made");
    await sendAs(server.url, "race_bob", "c2c_race_alice", "1");
    await sendAs(server.url, "race_bob", "c2c_race_alice", "2");
    await sendAs(server.url, "race_dave", "c2c_race_alice", "1");
    const framesDeadline = Date.now() + 5000;
    while (frames < 3 && Date.now() < framesDeadline) await sleep(25);
    assert.ok(frames >= 3, `the three pushes reached the page while the sync was held (${frames})`);
    release();
    await waitFor(page, `(await cm.getTotalUnreadMessageCount()) === 3`, 5000, "pushes applied");
    await waitFor(page, `eventsNamed("onSyncServerFinish").length >= 2 || eventsNamed("onSyncServerFailed").length >= 1`, 5000);
    await sleep(300);
    const state = await page.evaluate(async () => ({
      total: await window.cm.getTotalUnreadMessageCount(),
      list: (await window.cm.getConversationList(0, 100)).conversationList.map((c) => [c.conversationID, c.unreadCount, c.lastMessage && c.lastMessage.text]),
    }));
    assert.deepEqual((await eventsOf(page, "onConversationDeleted")).map((e) => e.args[0]), [], "nobody deleted anything");
    assert.deepEqual(state, { total: 3, list: [["c2c_race_dave", 1, "1"], ["c2c_race_bob", 2, "2"]] });
  } finally {
    await context.close();
  }
});
