// Two devices of one user = two browser contexts (separate IndexedDB).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newClient, openPage, reloadClient, sendAs, waitFor, count, eventsOf, listIDs, sleep, cleanup,
} from "./harness.mjs";

let syncServer, plainServer, browser;
before(async () => {
  syncServer = await startServer({ sync: true });
  plainServer = await startServer();
  browser = await launchBrowser();
});
after(async () => { await cleanup({ browser, servers: [syncServer, plainServer] }); });

async function twoDevices(fn) {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  try { return await fn(ctxA, ctxB); } finally { await ctxA.close(); await ctxB.close(); }
}

test("with --sync-conversation-deletion the other device gets onConversationDeleted promptly and once", () =>
  twoDevices(async (ctxA, ctxB) => {
    const url = syncServer.url;
    await sendAs(url, "sy_bob", "c2c_sy_alice", "b");
    await sendAs(url, "sy_carol", "c2c_sy_alice", "c");
    const a = await newClient(ctxA, url, "sy_alice");
    const b = await newClient(ctxB, url, "sy_alice");
    await waitFor(a, `(await listIDs()).length === 2`);
    await waitFor(b, `(await listIDs()).length === 2`);
    await waitFor(b, `eventsNamed("onConnectSuccess").length >= 1`, 5000, "B's push connection is up");
    const t0 = Date.now();
    await a.evaluate(() => window.cm.deleteConversation("c2c_sy_bob"));
    await waitFor(b, `eventsNamed("onConversationDeleted").length >= 1`, 3000, "device B gets the pushed deletion");
    const latency = Date.now() - t0;
    await sleep(700);
    assert.deepEqual((await eventsOf(b, "onConversationDeleted")).map((e) => e.args[0]), [["c2c_sy_bob"]]);
    assert.deepEqual(await listIDs(b), ["c2c_sy_carol"]);
    assert.ok(latency < 3000, `latency ${latency} ms`);
    // B re-logging in does not fire it again nor bring it back
    await b.evaluate(async () => { await window.sdk.logout(); await window.sdk.login("sy_alice", window.userSig); });
    await sleep(300);
    assert.equal(await count(b, "onConversationDeleted"), 1);
    assert.deepEqual(await listIDs(b), ["c2c_sy_carol"]);
  }));

test("without sync, a connected device B gets no event; after logout + login it converges and the event fires then", () =>
  twoDevices(async (ctxA, ctxB) => {
    const url = plainServer.url;
    await sendAs(url, "ns_bob", "c2c_ns_alice", "b");
    await sendAs(url, "ns_carol", "c2c_ns_alice", "c");
    const a = await newClient(ctxA, url, "ns_alice");
    const b = await newClient(ctxB, url, "ns_alice");
    await waitFor(b, `(await listIDs()).length === 2`);
    // B's push connection is up and the sync that follows it is over: from now on only a push
    // could deliver the deletion while B stays connected.
    await waitFor(b, `eventsNamed("onConnectSuccess").length >= 1 && eventsNamed("onSyncServerFinish").length >= 2`);
    await a.evaluate(() => window.cm.deleteConversation("c2c_ns_bob"));
    // the WebSocket is alive: a message still reaches B, but the deletion must not
    await sendAs(url, "ns_carol", "c2c_ns_alice", "c2");
    await waitFor(b, `(await cm.getConversation("c2c_ns_carol")).lastMessage.text === "c2"`, 5000, "B receives pushes");
    await sleep(500);
    assert.equal(await count(b, "onConversationDeleted"), 0, "no deletion push without the server option");
    assert.deepEqual((await listIDs(b)).sort(), ["c2c_ns_bob", "c2c_ns_carol"]);

    await b.evaluate(async () => { await window.sdk.logout(); await window.sdk.login("ns_alice", window.userSig); });
    await waitFor(b, `!(await listIDs()).includes("c2c_ns_bob")`, 3000);
    await waitFor(b, `eventsNamed("onConversationDeleted").length === 1`, 3000);
    await sleep(300);
    assert.deepEqual((await eventsOf(b, "onConversationDeleted")).map((e) => e.args[0]), [["c2c_ns_bob"]]);
    assert.deepEqual(await listIDs(b), ["c2c_ns_carol"]);
  }));

test("without sync, device B converges after a reload (IndexedDB had the conversation)", () =>
  twoDevices(async (ctxA, ctxB) => {
    const url = plainServer.url;
    await sendAs(url, "nr_bob", "c2c_nr_alice", "b");
    await sendAs(url, "nr_carol", "c2c_nr_alice", "c");
    const a = await newClient(ctxA, url, "nr_alice");
    const b = await newClient(ctxB, url, "nr_alice");
    await waitFor(b, `(await listIDs()).length === 2`);
    // B's push connection is up and the sync that follows it is over: from now on only a push
    // could deliver the deletion while B stays connected.
    await waitFor(b, `eventsNamed("onConnectSuccess").length >= 1 && eventsNamed("onSyncServerFinish").length >= 2`);
    await a.evaluate(() => window.cm.deleteConversationList(["c2c_nr_bob"], true));
    await sleep(500);
    assert.equal(await count(b, "onConversationDeleted"), 0);
    await reloadClient(b, url, "nr_alice");
    await waitFor(b, `(await listIDs()).length === 1`, 3000);
    assert.deepEqual(await listIDs(b), ["c2c_nr_carol"]);
    await waitFor(b, `eventsNamed("onConversationDeleted").length === 1`, 3000);
    assert.deepEqual((await eventsOf(b, "onConversationDeleted"))[0].args[0], ["c2c_nr_bob"]);
  }));

for (const [name, which] of [["with sync", () => syncServer], ["without sync", () => plainServer]]) {
  test(`a device that was offline (page closed) converges at its next login (${name})`, () =>
    twoDevices(async (ctxA, ctxB) => {
      const url = which().url;
      const u = name === "with sync" ? "off_s" : "off_n";
      await sendAs(url, `${u}_bob`, `c2c_${u}_alice`, "b");
      await sendAs(url, `${u}_carol`, `c2c_${u}_alice`, "c");
      await sendAs(url, `${u}_dan`, `c2c_${u}_alice`, "d");
      const a = await newClient(ctxA, url, `${u}_alice`);
      let b = await newClient(ctxB, url, `${u}_alice`);
      await waitFor(b, `(await listIDs()).length === 3`);
      await b.close();                                       // device B goes offline; its IndexedDB stays
      await a.evaluate((ids) => window.cm.deleteConversationList(ids, true), [`c2c_${u}_bob`, `c2c_${u}_dan`]);
      b = await newClient(ctxB, url, `${u}_alice`);           // next login
      await waitFor(b, `(await listIDs()).length === 1`, 3000);
      assert.deepEqual(await listIDs(b), [`c2c_${u}_carol`]);
      await waitFor(b, `eventsNamed("onConversationDeleted").flatMap((e) => e.args[0]).length === 2`, 3000);
      await sleep(300);
      const got = (await eventsOf(b, "onConversationDeleted")).flatMap((e) => e.args[0]);
      assert.deepEqual(got.sort(), [`c2c_${u}_bob`, `c2c_${u}_dan`]);
    }));
}
