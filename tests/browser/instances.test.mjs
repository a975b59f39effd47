// Several chat-server instances on one PostgreSQL database (docs/scaling.md): two devices of one
// user whose SDKs talk to two different instances, and a peer writing through a third. Needs
// CHAT_TEST_POSTGRES (scripts/test runs the browser tests under scripts/with-postgres); without it
// this file fails rather than skips, so that a CI run cannot pass without testing it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newClient, sendAs, waitFor, eventsOf, listIDs, sleep, cleanup } from "./harness.mjs";

const PG = process.env.CHAT_TEST_POSTGRES;
// Users of one run: the database outlives a run (several engines share one cluster).
const run = `mi${Date.now().toString(36)}`;
const alice = `${run}_alice`, bob = `${run}_bob`, carol = `${run}_carol`;

let servers = [], browser;
before(async () => {
  if (!PG) throw new Error("CHAT_TEST_POSTGRES is not set: run under scripts/with-postgres (as scripts/test does)");
  // One after the other: the first migrates the schema (the others would wait on its lock anyway).
  for (let i = 0; i < 3; i++) servers.push(await startServer({ sync: true, db: PG, args: ["--db-pool", "4"] }));
  browser = await launchBrowser();
});
after(async () => { await cleanup({ browser, servers }); });

async function twoDevices(fn) {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  try { return await fn(ctxA, ctxB); } finally { await ctxA.close(); await ctxB.close(); }
}

// The last message text of a conversation in the page (undefined while it does not exist).
const lastText = (id) => `(await cm.getConversation(${JSON.stringify(id)}).catch(() => null))?.lastMessage?.text`;

test("two devices on two instances: a delete on one fires onConversationDeleted on the other; a send via a third reaches both", () =>
  twoDevices(async (ctxA, ctxB) => {
    const [one, two, three] = servers.map((s) => s.url);
    assert.equal(new Set([one, two, three]).size, 3, "three instances");
    await sendAs(three, bob, `c2c_${alice}`, "from bob");
    await sendAs(one, carol, `c2c_${alice}`, "from carol");
    // Each page is served by, and its SDK talks to, its own instance.
    const a = await newClient(ctxA, one, alice);
    const b = await newClient(ctxB, two, alice);
    for (const page of [a, b]) {
      await waitFor(page, `(await listIDs()).length === 2`, 5000, "both conversations listed");
      await waitFor(page, `eventsNamed("onConnectSuccess").length >= 1`, 5000, "push connection up");
    }
    assert.equal(await a.evaluate(() => location.origin), one);
    assert.equal(await b.evaluate(() => location.origin), two);

    // A message written through the third instance is pushed to both devices.
    await sendAs(three, bob, `c2c_${alice}`, "via three");
    await waitFor(a, `${lastText(`c2c_${bob}`)} === "via three"`, 5000, "device A gets the message");
    await waitFor(b, `${lastText(`c2c_${bob}`)} === "via three"`, 5000, "device B gets the message");

    // A deletes on instance 1: instance 2 pushes it to B.
    await a.evaluate((id) => window.cm.deleteConversation(id), `c2c_${bob}`);
    await waitFor(b, `eventsNamed("onConversationDeleted").length >= 1`, 5000, "device B gets the pushed deletion");
    await sleep(500);
    assert.deepEqual((await eventsOf(b, "onConversationDeleted")).map((e) => e.args[0]), [[`c2c_${bob}`]], "once");
    assert.deepEqual(await listIDs(b), [`c2c_${carol}`]);
    assert.deepEqual(await listIDs(a), [`c2c_${carol}`]);

    // And the deleted conversation comes back on both with a new message via the third instance.
    await sendAs(three, bob, `c2c_${alice}`, "again");
    for (const page of [a, b]) {
      await waitFor(page, `${lastText(`c2c_${bob}`)} === "again"`, 5000, "the conversation is back");
    }
  }));
