// Listener semantics: dedup, unknown removal, throwing listeners, re-entrant calls.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newClient, sendAs, waitFor, listIDs, sleep, cleanup } from "./harness.mjs";

let server, browser, context;
before(async () => { server = await startServer(); browser = await launchBrowser(); context = await browser.newContext(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

async function client(user, peers) {
  for (const p of peers) await sendAs(server.url, p, `c2c_${user}`, "m " + p);
  const page = await newClient(context, server.url, user);
  await waitFor(page, `(await listIDs()).length === ${peers.length}`);
  return page;
}

test("the same listener added twice fires once; removing it once removes it; removing an unknown listener is a no-op", async () => {
  const page = await client("l1_alice", ["l1_b", "l1_c", "l1_d"]);
  const r = await page.evaluate(async () => {
    const calls = [];
    const L = { onConversationDeleted: (ids) => calls.push(ids) };
    window.cm.addConversationListener(L);
    window.cm.addConversationListener(L);
    const unknownRemove = window.cm.removeConversationListener({ onConversationDeleted() {} });
    window.sdk.removeSDKListener({});
    window.mm.removeAdvancedMsgListener({});
    await window.cm.deleteConversation("c2c_l1_b");
    const afterFirst = calls.length;
    window.cm.removeConversationListener(L);
    await window.cm.deleteConversation("c2c_l1_c");
    const msgs = [];
    const M = { onRecvNewMessage: (m) => msgs.push(m.text) };
    window.mm.addAdvancedMsgListener(M);
    window.mm.addAdvancedMsgListener(M);
    window.msgs = msgs;
    return { afterFirst, afterRemove: calls.length, first: calls[0], unknownRemove: unknownRemove === undefined };
  });
  assert.deepEqual(r, { afterFirst: 1, afterRemove: 1, first: ["c2c_l1_b"], unknownRemove: true });
  // the recording listener (registered by the page) still works after the unknown removals
  const rec = await page.evaluate(() => window.eventsNamed("onConversationDeleted").map((e) => e.args[0]));
  assert.deepEqual(rec, [["c2c_l1_b"], ["c2c_l1_c"]]);
  await sendAs(server.url, "l1_d", "c2c_l1_alice", "ping");
  await waitFor(page, `window.msgs.length >= 1`);
  await sleep(300);
  assert.deepEqual(await page.evaluate(() => window.msgs), ["ping"]);
});

test("a listener that throws is reported with console.error and stops neither other listeners nor the operation", async () => {
  const page = await client("l2_alice", ["l2_b", "l2_c"]);
  const r = await page.evaluate(async () => {
    const seen = [];
    window.cm.addConversationListener({ onConversationDeleted: () => { throw new Error("listener boom 42"); } });
    window.cm.addConversationListener({ onConversationDeleted: (ids) => seen.push(ids) });
    const v = await window.cm.deleteConversation("c2c_l2_b");
    return { v: v === undefined, seen, list: await window.listIDs() };
  });
  assert.deepEqual(r, { v: true, seen: [["c2c_l2_b"]], list: ["c2c_l2_c"] });
  await sleep(100);
  const errs = page.consoleMessages.filter((m) => m.type === "error" && m.text.includes("listener boom 42"));
  assert.equal(errs.length, 1, JSON.stringify(page.consoleMessages));
  assert.deepEqual(await page.evaluate(() => window.eventsNamed("onConversationDeleted").map((e) => e.args[0])), [["c2c_l2_b"]]);
  // the SDK keeps working afterwards
  const res = await page.evaluate(() => window.cm.deleteConversationList(["c2c_l2_c"], true));
  assert.equal(res[0].resultCode, 0);
});

test("a listener may call back into the SDK from inside onConversationDeleted and onNewConversation", async () => {
  const page = await client("l3_alice", ["l3_b", "l3_c"]);
  const r = await page.evaluate(async () => {
    const inside = [];
    let pending = [];
    window.cm.addConversationListener({
      onConversationDeleted: (ids) => {
        inside.push({ user: window.sdk.getLoginUser(), ids });
        pending.push(window.cm.getConversationList(0, 100).then((l) => inside.push({ list: l.conversationList.map((c) => c.conversationID) })));
        pending.push(window.cm.getTotalUnreadMessageCount().then((n) => inside.push({ total: n })));
      },
      onNewConversation: (list) => {
        pending.push(window.cm.getConversation(list[0].conversationID).then((c) => inside.push({ got: c.conversationID })));
      },
    });
    await window.cm.deleteConversation("c2c_l3_b");
    await Promise.all(pending);
    pending = [];
    return inside;
  });
  assert.deepEqual(r, [{ user: "l3_alice", ids: ["c2c_l3_b"] }, { list: ["c2c_l3_c"] }, { total: 1 }]);
  await sendAs(server.url, "l3_b", "c2c_l3_alice", "back");
  await waitFor(page, `(await listIDs()).length === 2`);
  await sleep(300);
  const all = [...page.errors, ...page.consoleMessages.map((m) => m.text)];
  assert.ok(!all.some((t) => /recursive use|unreachable|already borrowed|panicked/i.test(t)), all.join("\n"));
  assert.deepEqual(page.errors, []);
});
