// deleteConversation / deleteConversationList through the JavaScript surface.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newClient, sendAs, historyAs, createGroup, waitFor, count, eventsOf,
  listIDs, outcome, sleep, cleanup,
  withContext as withContextOf,
} from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

const withContext = (fn) => withContextOf(browser, fn);

test("deleteConversation resolves undefined, removes the conversation and fires onConversationDeleted once before resolving", () =>
  withContext(async (context) => {
    await sendAs(server.url, "sd_bob", "c2c_sd_alice", "hello");
    await sendAs(server.url, "sd_carol", "c2c_sd_alice", "hi");
    const page = await newClient(context, server.url, "sd_alice");
    await waitFor(page, `(await listIDs()).length === 2`);
    const r = await page.evaluate(async () => {
      window.mark("call");
      const v = await window.cm.deleteConversation("c2c_sd_bob");
      window.mark("resolved");
      return { isUndefined: v === undefined, names: window.events.map((e) => e.name) };
    });
    assert.equal(r.isUndefined, true);
    const iDel = r.names.indexOf("onConversationDeleted");
    assert.ok(iDel > r.names.indexOf("mark:call"), "event after the call");
    assert.ok(iDel < r.names.indexOf("mark:resolved"), "event before the Promise resolved");
    assert.deepEqual(await listIDs(page), ["c2c_sd_carol"]);
    await sleep(300);
    const evs = await eventsOf(page, "onConversationDeleted");
    assert.deepEqual(evs.map((e) => e.args[0]), [["c2c_sd_bob"]], "exactly one event with only the deleted ID");
    const again = await outcome(page, () => window.cm.getConversation("c2c_sd_bob"));
    assert.equal(again.ok, false); assert.equal(again.code, 2500);
    const twice = await outcome(page, () => window.cm.deleteConversation("c2c_sd_bob"));
    assert.equal(twice.ok, false); assert.equal(twice.code, 2500);
    assert.equal(twice.isChatError, true);
    assert.equal(await count(page, "onConversationDeleted"), 1, "a failed delete fires nothing");
    // single delete clears history: a new message brings it back with only that message.
    await sendAs(server.url, "sd_bob", "c2c_sd_alice", "after");
    await waitFor(page, `(await listIDs()).includes("c2c_sd_bob")`);
    const hist = await page.evaluate(async () => (await window.mm.getHistoryMessageList("c2c_sd_bob", 100)).map((m) => m.text));
    assert.deepEqual(hist, ["after"]);
  }));

test("deleteConversationList returns per-item results: 6017 malformed, 2500 unknown, 0 deleted, duplicates collapse in first-seen order", () =>
  withContext(async (context) => {
    for (const p of ["bl_p1", "bl_p2", "bl_p3", "bl_keep"]) await sendAs(server.url, p, "c2c_bl_alice", "m " + p);
    const page = await newClient(context, server.url, "bl_alice");
    await waitFor(page, `(await listIDs()).length === 4`);
    const results = await page.evaluate(() => window.cm.deleteConversationList(
      ["c2c_bl_p1", "bad id!", "c2c_bl_nobody", "C2Cbl_p2", "c2c_bl_p1", "c2c_bl_p2", "bad id!", "c2c_bl_p3"], false));
    assert.equal(results.length, 5, JSON.stringify(results));
    assert.deepEqual(results.map((r) => r.conversationID), ["c2c_bl_p1", "bad id!", "c2c_bl_nobody", "c2c_bl_p2", "c2c_bl_p3"]);
    assert.deepEqual(results.map((r) => r.resultCode), [0, 6017, 2500, 0, 0]);
    for (const r of results) {
      assert.equal(typeof r.resultInfo, "string");
      if (r.resultCode === 0) assert.equal(r.resultInfo, "");
      else assert.ok(r.resultInfo.length > 0, "failed items say why");
    }
    assert.deepEqual(await listIDs(page), ["c2c_bl_keep"]);
    const deleted = (await eventsOf(page, "onConversationDeleted")).flatMap((e) => e.args[0]);
    assert.deepEqual([...deleted].sort(), ["c2c_bl_p1", "c2c_bl_p2", "c2c_bl_p3"], "only really deleted IDs, each once");
    await sleep(300);
    assert.equal((await eventsOf(page, "onConversationDeleted")).flatMap((e) => e.args[0]).length, 3);
  }));

test("the 100 limit: 101 IDs reject 6017 and delete nothing; exactly 100 work", () =>
  withContext(async (context) => {
    const peers = Array.from({ length: 100 }, (_, i) => `lim_p${i}`);
    for (const p of peers) await sendAs(server.url, "lim_alice", `c2c_${p}`, "x");
    const page = await newClient(context, server.url, "lim_alice");
    await waitFor(page, `(await listIDs()).length === 100`, 10_000);
    const ids = peers.map((p) => `c2c_${p}`);
    const over = await outcome(page, (l) => window.cm.deleteConversationList(l, true), [...ids, "c2c_lim_extra"]);
    assert.equal(over.ok, false);
    assert.equal(over.code, 6017);
    assert.equal(over.isChatError, true);
    assert.equal((await listIDs(page)).length, 100, "nothing deleted on a refused request");
    // 101 where the 101st is a duplicate is still over the limit (refused, never truncated).
    const overDup = await outcome(page, (l) => window.cm.deleteConversationList(l, true), [...ids, ids[0]]);
    assert.equal(overDup.code, 6017);
    assert.equal(await count(page, "onConversationDeleted"), 0);
    assert.equal((await listIDs(page)).length, 100);
    const ok = await page.evaluate((l) => window.cm.deleteConversationList(l, true), ids);
    assert.equal(ok.length, 100);
    assert.ok(ok.every((r) => r.resultCode === 0 && r.resultInfo === ""), JSON.stringify(ok.filter((r) => r.resultCode)));
    assert.deepEqual(ok.map((r) => r.conversationID), ids);
    assert.deepEqual(await listIDs(page), []);
    const deleted = (await eventsOf(page, "onConversationDeleted")).flatMap((e) => e.args[0]);
    assert.equal(new Set(deleted).size, 100); assert.equal(deleted.length, 100);
  }));

test("clearMessage true hides older history, false keeps it; the peer keeps theirs", () =>
  withContext(async (context) => {
    for (const t of ["b1", "b2", "b3"]) await sendAs(server.url, "cm_bob", "c2c_cm_alice", t);
    for (const t of ["c1", "c2", "c3"]) await sendAs(server.url, "cm_carol", "c2c_cm_alice", t);
    const page = await newClient(context, server.url, "cm_alice");
    await waitFor(page, `(await listIDs()).length === 2`);
    const res = await page.evaluate(async () => [
      ...(await window.cm.deleteConversationList(["c2c_cm_bob"], true)),
      ...(await window.cm.deleteConversationList(["c2c_cm_carol"], false)),
    ]);
    assert.deepEqual(res.map((r) => r.resultCode), [0, 0]);
    assert.deepEqual(await listIDs(page), []);
    await sendAs(server.url, "cm_bob", "c2c_cm_alice", "b4");
    await sendAs(server.url, "cm_carol", "c2c_cm_alice", "c4");
    await waitFor(page, `(await listIDs()).length === 2`);
    const hist = (id) => page.evaluate(async (i) => (await window.mm.getHistoryMessageList(i, 100)).map((m) => m.text), id);
    assert.deepEqual(await hist("c2c_cm_bob"), ["b4"], "cleared: only messages newer than the deletion");
    assert.deepEqual(await hist("c2c_cm_carol"), ["c4", "c3", "c2", "c1"], "kept: full history again");
    const bobConv = await page.evaluate(() => window.cm.getConversation("c2c_cm_bob"));
    assert.equal(bobConv.lastMessage.text, "b4");
    // the peers keep their own history
    assert.deepEqual(await historyAs(server.url, "cm_bob", "c2c_cm_alice"), ["b4", "b3", "b2", "b1"]);
    assert.deepEqual(await historyAs(server.url, "cm_carol", "c2c_cm_alice"), ["c4", "c3", "c2", "c1"]);
  }));

test("unread totals: deleting an unread conversation fires the new total; clean unread; a new message brings it back", () =>
  withContext(async (context) => {
    const page = await newClient(context, server.url, "ur_alice");
    // Wait for the sync that follows the push connection (the race between that sync and pushes
    // is covered by its own test in sync-race.test.mjs).
    await waitFor(page, `eventsNamed("onConnectSuccess").length >= 1 && eventsNamed("onSyncServerFinish").length >= 2`);
    for (const t of ["1", "2", "3"]) await sendAs(server.url, "ur_bob", "c2c_ur_alice", t);
    for (const t of ["1", "2"]) await sendAs(server.url, "ur_dave", "c2c_ur_alice", t);
    await waitFor(page, `(await cm.getTotalUnreadMessageCount()) === 5`);
    await waitFor(page, `eventsNamed("onTotalUnreadMessageCountChanged").some((e) => e.args[0] === 5)`);
    await page.evaluate(() => window.cm.deleteConversation("c2c_ur_bob"));
    const totals = (await eventsOf(page, "onTotalUnreadMessageCountChanged")).map((e) => e.args[0]);
    assert.equal(totals.at(-1), 2, `total after deleting 3 unread: ${totals}`);
    assert.equal(await page.evaluate(() => window.cm.getTotalUnreadMessageCount()), 2);

    await page.evaluate(() => window.cm.cleanConversationUnreadMessageCount("c2c_ur_dave"));
    assert.equal(await page.evaluate(() => window.cm.getTotalUnreadMessageCount()), 0);
    assert.equal((await page.evaluate(() => window.cm.getConversation("c2c_ur_dave"))).unreadCount, 0);
    await waitFor(page, `eventsNamed("onTotalUnreadMessageCountChanged").at(-1).args[0] === 0`);
    const unk = await outcome(page, () => window.cm.cleanConversationUnreadMessageCount("c2c_ur_nobody"));
    assert.equal(unk.ok, false);

    const newBefore = await count(page, "onNewConversation");
    await sendAs(server.url, "ur_bob", "c2c_ur_alice", "back");
    await waitFor(page, `eventsNamed("onNewConversation").length > ${newBefore}`);
    const ev = (await eventsOf(page, "onNewConversation")).at(-1).args[0];
    assert.deepEqual(ev.map((c) => c.conversationID), ["c2c_ur_bob"]);
    assert.equal(ev[0].unreadCount, 1);
    assert.equal(ev[0].lastMessage.text, "back");
    assert.equal(await page.evaluate(() => window.cm.getTotalUnreadMessageCount()), 1);
    await waitFor(page, `eventsNamed("onTotalUnreadMessageCountChanged").at(-1).args[0] === 1`);
    assert.deepEqual(await listIDs(page), ["c2c_ur_bob", "c2c_ur_dave"], "sorted newest first");
  }));

test("web ID style: every returned and emitted ID is C2C…/GROUP…; both styles accepted as input", () =>
  withContext(async (context) => {
    await createGroup(server.url, "ws_g1", "Group one", ["ws_alice", "ws_bob"]);
    await sendAs(server.url, "ws_bob", "group_ws_g1", "to group");
    for (const p of ["ws_bob", "ws_carol", "ws_dan", "ws_erin"]) await sendAs(server.url, p, "c2c_ws_alice", "hi");
    const page = await newClient(context, server.url, "ws_alice", { sdk: { conversationIDStyle: "web" } });
    await waitFor(page, `(await listIDs()).length === 5`);
    const ids = await listIDs(page);
    assert.deepEqual([...ids].sort(), ["C2Cws_bob", "C2Cws_carol", "C2Cws_dan", "C2Cws_erin", "GROUPws_g1"]);
    const conv = await page.evaluate(() => window.cm.getConversation("c2c_ws_bob"));
    assert.equal(conv.conversationID, "C2Cws_bob");
    assert.equal(conv.type, 1); assert.equal(conv.userID, "ws_bob");
    assert.equal(conv.lastMessage.conversationID, "C2Cws_bob");
    const g = await page.evaluate(() => window.cm.getConversation("GROUPws_g1"));
    assert.equal(g.type, 2); assert.equal(g.groupID, "ws_g1"); assert.equal(g.conversationID, "GROUPws_g1");
    const hist = await page.evaluate(() => window.mm.getHistoryMessageList("group_ws_g1", 10));
    assert.ok(hist.every((m) => m.conversationID === "GROUPws_g1"));
    const sent = await page.evaluate(() => window.mm.sendTextMessage("c2c_ws_carol", "reply"));
    assert.equal(sent.conversationID, "C2Cws_carol");

    await page.evaluate(() => window.cm.deleteConversation("group_ws_g1"));       // native input
    const res = await page.evaluate(() => window.cm.deleteConversationList(["c2c_ws_bob", "C2Cws_dan", "c2c_ws_dan", "c2c_ws_zed"], true));
    assert.deepEqual(res.map((r) => [r.conversationID, r.resultCode]), [["C2Cws_bob", 0], ["C2Cws_dan", 0], ["C2Cws_zed", 2500]]);
    const deleted = (await eventsOf(page, "onConversationDeleted")).flatMap((e) => e.args[0]);
    assert.deepEqual(deleted.sort(), ["C2Cws_bob", "C2Cws_dan", "GROUPws_g1"]);
    assert.deepEqual((await listIDs(page)).sort(), ["C2Cws_carol", "C2Cws_erin"]);
    const changed = (await eventsOf(page, "onConversationChanged")).concat(await eventsOf(page, "onNewConversation"))
      .flatMap((e) => e.args[0]).map((c) => c.conversationID);
    assert.ok(changed.every((id) => /^(C2C|GROUP)/.test(id)), `emitted: ${changed}`);
    await sendAs(server.url, "ws_bob", "c2c_ws_alice", "back");
    await waitFor(page, `eventsNamed("onNewConversation").some((e) => e.args[0].some((c) => c.conversationID === "C2Cws_bob"))`);
  }));

test("native style (default) accepts web-style input and emits native IDs", () =>
  withContext(async (context) => {
    await sendAs(server.url, "ns_bob", "c2c_ns_alice", "hi");
    const page = await newClient(context, server.url, "ns_alice");
    await waitFor(page, `(await listIDs()).length === 1`);
    assert.deepEqual(await listIDs(page), ["c2c_ns_bob"]);
    await page.evaluate(() => window.cm.deleteConversation("C2Cns_bob"));
    assert.deepEqual((await eventsOf(page, "onConversationDeleted")).map((e) => e.args[0]), [["c2c_ns_bob"]]);
    assert.deepEqual(await listIDs(page), []);
  }));
