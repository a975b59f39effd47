// The server stopped mid-use: deletes reject 9508 and change nothing locally; after a restart on the
// same port with the same database file, the delete succeeds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startServer, launchBrowser, newClient, sendAs, api, waitFor, count, listIDs, outcome, sleep, cleanup,
} from "./harness.mjs";

let dir, server, browser;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "chat-browser-db-"));
  server = await startServer({ db: join(dir, "chat.db") });
  browser = await launchBrowser();
});
after(async () => {
  await cleanup({ browser, servers: [server] });
  rmSync(dir, { recursive: true, force: true });
});

test("server stopped: deletes reject 9508 and nothing is deleted locally; after restart the delete succeeds", async () => {
  const context = await browser.newContext();
  try {
    await sendAs(server.url, "bob", "c2c_alice", "b");
    await sendAs(server.url, "carol", "c2c_alice", "c");
    const page = await newClient(context, server.url, "alice");
    await waitFor(page, `(await listIDs()).length === 2`);
    const port = server.port;

    await server.stop();                                   // SIGTERM to exactly that child
    const single = await outcome(page, () => window.cm.deleteConversation("c2c_bob"));
    assert.equal(single.ok, false);
    assert.equal(single.code, 9508, JSON.stringify(single));
    assert.equal(single.isChatError && single.isError, true);
    const batch = await outcome(page, () => window.cm.deleteConversationList(["c2c_bob", "c2c_carol"], true));
    assert.equal(batch.code, 9508, JSON.stringify(batch));
    assert.deepEqual((await listIDs(page)).sort(), ["c2c_bob", "c2c_carol"], "still listed locally");
    assert.equal(await count(page, "onConversationDeleted"), 0);

    // Same port (the listener socket is closed on SIGTERM, so re-binding works), same DB file.
    server = await startServer({ db: join(dir, "chat.db"), listen: `127.0.0.1:${port}` });
    assert.equal(server.port, port);
    await page.evaluate(() => window.cm.deleteConversation("c2c_bob"));
    assert.deepEqual(await listIDs(page), ["c2c_carol"]);
    assert.equal(await count(page, "onConversationDeleted"), 1);
    const onServer = await api(server.url, "alice", "GET", "/v1/conversations?count=100");
    assert.deepEqual(onServer.conversationList.map((c) => c.conversationID), ["c2c_carol"], "the data survived the restart");
    // the push connection comes back too: a new message reaches the page
    await sendAs(server.url, "bob", "c2c_alice", "after restart");
    await waitFor(page, `(await listIDs()).includes("c2c_bob")`, 15_000, "push reconnects after the restart");
  } finally {
    await context.close();
  }
});
