// Bad inputs: each rejected with its code, as a ChatError (and Error) with a numeric code and a
// message naming the bad value, and nothing changes (list, unread, server state, history).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newClient, openPage, sendAs, historyAs, api, getUserSig, waitFor, count,
  listIDs, cleanup,
} from "./harness.mjs";

let server, browser, context, page;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await sendAs(server.url, "bob", "c2c_alice", "b1");
  await sendAs(server.url, "bob", "c2c_alice", "b2");
  await sendAs(server.url, "carol", "c2c_alice", "c1");
  context = await browser.newContext();
  page = await newClient(context, server.url, "alice");
  await waitFor(page, `(await listIDs()).length === 2 && (await cm.getTotalUnreadMessageCount()) === 3`);
});
after(async () => { await cleanup({ browser, servers: [server] }); });

const long10k = "c2c_" + "a".repeat(10 * 1024);
const ids101 = Array.from({ length: 101 }, (_, i) => `c2c_u${i}`);
// [description, call (runs in the page with cm/mm in scope), expected code, substring expected in the message]
const TABLE = [
  ["deleteConversation(123)", "cm.deleteConversation(123)", 6017, "123"],
  ["deleteConversation(null)", "cm.deleteConversation(null)", 6017, "null"],
  ["deleteConversation(undefined)", "cm.deleteConversation(undefined)", 6017, null],
  ["deleteConversation({})", "cm.deleteConversation({})", 6017, null],
  ["deleteConversation(['c2c_bob'])", "cm.deleteConversation(['c2c_bob'])", 6017, null],
  ["deleteConversation(true)", "cm.deleteConversation(true)", 6017, "true"],
  ["deleteConversation('')", "cm.deleteConversation('')", 6017, null],
  ["deleteConversation('bob') (no prefix)", "cm.deleteConversation('bob')", 6017, "bob"],
  ["deleteConversation('<script>…')", "cm.deleteConversation('<script>alert(1)</script>')", 6017, "<script>alert(1)</script>"],
  ["deleteConversation('c2c_../../etc')", "cm.deleteConversation('c2c_../../etc')", 6017, "c2c_../../etc"],
  ["deleteConversation('c2c_bob; DROP TABLE')", "cm.deleteConversation('c2c_bob; DROP TABLE')", 6017, "c2c_bob; DROP TABLE"],
  ["deleteConversation(10 KB string)", `cm.deleteConversation(${JSON.stringify(long10k)})`, 6017, "c2c_aaaaaaaa"],
  ["deleteConversation(userID of 33 bytes)", `cm.deleteConversation("c2c_${"x".repeat(33)}")`, 6017, "c2c_xxxx"],
  ["deleteConversation('group_a b') (space)", "cm.deleteConversation('group_a b')", 6017, "group_a b"],
  ["deleteConversation('c2c_bób') (non-ASCII)", "cm.deleteConversation('c2c_bób')", 6017, "c2c_b"],
  ["deleteConversationList('c2c_bob', true) (not an array)", "cm.deleteConversationList('c2c_bob', true)", 6017, null],
  ["deleteConversationList(null, true)", "cm.deleteConversationList(null, true)", 6017, null],
  ["deleteConversationList(undefined, true)", "cm.deleteConversationList(undefined, true)", 6017, null],
  ["deleteConversationList({0:'c2c_bob',length:1}, true) (array-like)", "cm.deleteConversationList({0:'c2c_bob',length:1}, true)", 6017, null],
  ["deleteConversationList([], true) (0 items)", "cm.deleteConversationList([], true)", 6017, null],
  ["deleteConversationList(101 items, true)", `cm.deleteConversationList(${JSON.stringify(ids101)}, true)`, 6017, "101"],
  ["deleteConversationList(['c2c_bob'], 'true')", "cm.deleteConversationList(['c2c_bob'], 'true')", 6017, "true"],
  ["deleteConversationList(['c2c_bob'], 1)", "cm.deleteConversationList(['c2c_bob'], 1)", 6017, "1"],
  ["deleteConversationList(['c2c_bob'], undefined)", "cm.deleteConversationList(['c2c_bob'], undefined)", 6017, null],
  ["deleteConversationList(['c2c_bob']) (clearMessage missing)", "cm.deleteConversationList(['c2c_bob'])", 6017, null],
  ["deleteConversationList(['c2c_bob'], null)", "cm.deleteConversationList(['c2c_bob'], null)", 6017, null],
  ["deleteConversationList(['c2c_bob', 5], true) (non-string element)", "cm.deleteConversationList(['c2c_bob', 5], true)", 6017, null],
  ["deleteConversationList(['c2c_bob', null], true)", "cm.deleteConversationList(['c2c_bob', null], true)", 6017, null],
  ["deleteConversationList(['c2c_bob', ['c2c_carol']], true) (nested array)", "cm.deleteConversationList(['c2c_bob', ['c2c_carol']], true)", 6017, null],
  ["deleteConversationList(['c2c_bob', {}], false)", "cm.deleteConversationList(['c2c_bob', {}], false)", 6017, null],
  ["getConversationList(0, 0)", "cm.getConversationList(0, 0)", 6017, "0"],
  ["getConversationList(0, 101)", "cm.getConversationList(0, 101)", 6017, "101"],
  ["getConversationList(0, 1.5)", "cm.getConversationList(0, 1.5)", 6017, "1.5"],
  ["getConversationList(0, '10')", "cm.getConversationList(0, '10')", 6017, "10"],
  ["getConversationList(-1, 10)", "cm.getConversationList(-1, 10)", 6017, "-1"],
  ["getConversationList(0, undefined)", "cm.getConversationList(0, undefined)", 6017, null],
  ["getConversation(5)", "cm.getConversation(5)", 6017, "5"],
  ["getConversation('c2c_no_such_peer') (unknown)", "cm.getConversation('c2c_no_such_peer')", 2500, "c2c_no_such_peer"],
  ["deleteConversation('c2c_no_such_peer') (unknown)", "cm.deleteConversation('c2c_no_such_peer')", 2500, "c2c_no_such_peer"],
  ["cleanConversationUnreadMessageCount(null)", "cm.cleanConversationUnreadMessageCount(null)", 6017, null],
  ["sendTextMessage('c2c_bob', '')", "mm.sendTextMessage('c2c_bob', '')", 6017, null],
  ["sendTextMessage('c2c_bob', 12001 bytes)", "mm.sendTextMessage('c2c_bob', 'x'.repeat(12001))", 6017, "12001"],
  ["sendTextMessage('c2c_bob', 6001 two-byte chars = 12002 bytes)", "mm.sendTextMessage('c2c_bob', 'é'.repeat(6001))", 6017, null],
  ["sendTextMessage('c2c_bob', 5)", "mm.sendTextMessage('c2c_bob', 5)", 6017, null],
  ["sendTextMessage('<script>', 'hi')", "mm.sendTextMessage('<script>alert(1)</script>', 'hi')", 6017, "<script>alert(1)</script>"],
  ["getHistoryMessageList('c2c_bob', 0)", "mm.getHistoryMessageList('c2c_bob', 0)", 6017, "0"],
  ["getHistoryMessageList('c2c_bob', 101)", "mm.getHistoryMessageList('c2c_bob', 101)", 6017, "101"],
  ["getHistoryMessageList('c2c_bob', '10')", "mm.getHistoryMessageList('c2c_bob', '10')", 6017, null],
];

async function snapshot() {
  return page.evaluate(async () => ({
    list: (await window.cm.getConversationList(0, 100)).conversationList.map((c) => [c.conversationID, c.unreadCount, c.lastMessage && c.lastMessage.text]),
    total: await window.cm.getTotalUnreadMessageCount(),
  }));
}

test(`${TABLE.length} bad inputs reject with their code as ChatError and change nothing`, async () => {
  assert.ok(TABLE.length >= 25);
  const before = await snapshot();
  const failures = [];
  for (const [what, call, code, needle] of TABLE) {
    const r = await page.evaluate((src) => window.outcome(() => { const { cm, mm } = window; return eval(src); }), call);
    const problems = [];
    if (r.ok) problems.push(`resolved ${JSON.stringify(r.value).slice(0, 80)}`);
    else {
      if (r.code !== code) problems.push(`code ${r.code} != ${code}`);
      if (!r.isChatError) problems.push("not instanceof ChatError");
      if (!r.isError) problems.push("not instanceof Error");
      if (r.codeType !== "number") problems.push(`code is ${r.codeType}`);
      if (typeof r.message !== "string" || !r.message) problems.push("empty message");
      else if (needle && !r.message.includes(needle)) problems.push(`message ${JSON.stringify(r.message.slice(0, 120))} lacks ${JSON.stringify(needle)}`);
    }
    if (problems.length) failures.push(`${what}: ${problems.join("; ")}`);
  }
  assert.deepEqual(failures, [], failures.join("\n"));
  assert.deepEqual(await snapshot(), before, "nothing changed locally");
  assert.equal(await count(page, "onConversationDeleted"), 0);
  const onServer = await api(server.url, "alice", "GET", "/v1/conversations?count=100");
  assert.deepEqual(onServer.conversationList.map((c) => c.conversationID).sort(), ["c2c_bob", "c2c_carol"]);
  assert.deepEqual(await historyAs(server.url, "bob", "c2c_alice"), ["b2", "b1"], "no message was sent");
  assert.deepEqual(page.errors, []);
});

test("listener arguments that are not objects throw ChatError 6017 synchronously", async () => {
  const r = await page.evaluate(() => {
    const out = [];
    const bad = [null, undefined, 5, "listener", true];
    const calls = [
      (x) => window.cm.addConversationListener(x), (x) => window.cm.removeConversationListener(x),
      (x) => window.mm.addAdvancedMsgListener(x), (x) => window.sdk.addSDKListener(x), (x) => window.sdk.removeSDKListener(x),
    ];
    for (const call of calls) for (const x of bad) {
      try { const v = call(x); out.push({ threw: false, promise: v instanceof Promise }); }
      catch (e) { out.push({ threw: true, chat: e instanceof window.chat.ChatError, err: e instanceof Error, code: e.code }); }
    }
    return out;
  });
  assert.equal(r.length, 25);
  for (const o of r) assert.deepEqual(o, { threw: true, chat: true, err: true, code: 6017 });
});

test("ChatSDK.create and login reject bad options and credentials", async () => {
  const p = await openPage(context, server.url);
  const goodSig = await getUserSig(server.url, "alice");
  const bobSig = await getUserSig(server.url, "bob");
  const r = await p.evaluate(async ([goodSig, bobSig]) => {
    const { ChatSDK } = window.chat;
    const o = (extra) => ({ sdkAppID: 1400000001, serverURL: location.origin, ...extra });
    const out = {};
    const run = async (name, fn) => { out[name] = await window.outcome(fn); };
    await run("sdkAppID 0", () => ChatSDK.create(o({ sdkAppID: 0 })));
    await run("sdkAppID -1", () => ChatSDK.create(o({ sdkAppID: -1 })));
    await run("sdkAppID '1400000001'", () => ChatSDK.create(o({ sdkAppID: "1400000001" })));
    await run("sdkAppID 1.5", () => ChatSDK.create(o({ sdkAppID: 1.5 })));
    await run("serverURL missing", () => ChatSDK.create({ sdkAppID: 1400000001 }));
    await run("serverURL ftp", () => ChatSDK.create(o({ serverURL: "ftp://example.com" })));
    await run("storage 'disk'", () => ChatSDK.create(o({ storage: "disk" })));
    await run("style 'WEB'", () => ChatSDK.create(o({ conversationIDStyle: "WEB" })));
    await run("options null", () => ChatSDK.create(null));
    const sdk = await ChatSDK.create(o({ storage: "memory" }));
    await run("login userID ''", () => sdk.login("", goodSig));
    await run("login userID 'a b'", () => sdk.login("a b", goodSig));
    await run("login sig of another user", () => sdk.login("alice", bobSig));
    await run("login garbage sig", () => sdk.login("alice", "not-a-sig"));
    out.loginUser = sdk.getLoginUser();
    return out;
  }, [goodSig, bobSig]);
  const expect = {
    "sdkAppID 0": 6017, "sdkAppID -1": 6017, "sdkAppID '1400000001'": 6017, "sdkAppID 1.5": 6017,
    "serverURL missing": 6017, "serverURL ftp": 6017, "storage 'disk'": 6017, "style 'WEB'": 6017, "options null": 6017,
    "login userID ''": 6017, "login userID 'a b'": 6017, "login sig of another user": 70003, "login garbage sig": 70003,
  };
  for (const [k, code] of Object.entries(expect)) {
    assert.equal(r[k].ok, false, `${k} resolved`);
    assert.equal(r[k].code, code, `${k}: ${JSON.stringify(r[k])}`);
    assert.equal(r[k].isChatError && r[k].isError, true, k);
  }
  assert.ok(r["storage 'disk'"].message.includes("disk"));
  assert.ok(r["style 'WEB'"].message.includes("WEB"));
  assert.equal(r.loginUser, null);
  await p.close();
});

test("calls before login and after logout reject 6014; after destroy 6013", async () => {
  const p = await openPage(context, server.url);
  const sig = await getUserSig(server.url, "dora");
  const r = await p.evaluate(async (sig) => {
    const sdk = await window.chat.ChatSDK.create({ sdkAppID: 1400000001, serverURL: location.origin });
    const cm = sdk.getConversationManager(), mm = sdk.getMessageManager();
    const calls = {
      getConversationList: () => cm.getConversationList(0, 10),
      getConversation: () => cm.getConversation("c2c_bob"),
      getTotalUnreadMessageCount: () => cm.getTotalUnreadMessageCount(),
      cleanConversationUnreadMessageCount: () => cm.cleanConversationUnreadMessageCount("c2c_bob"),
      deleteConversation: () => cm.deleteConversation("c2c_bob"),
      deleteConversationList: () => cm.deleteConversationList(["c2c_bob"], true),
      sendTextMessage: () => mm.sendTextMessage("c2c_bob", "hi"),
      getHistoryMessageList: () => mm.getHistoryMessageList("c2c_bob", 10),
    };
    const all = async () => { const o = {}; for (const [k, f] of Object.entries(calls)) o[k] = await window.outcome(f); return o; };
    const beforeLogin = await all();
    await sdk.login("dora", sig);
    const loggedIn = sdk.getLoginUser();
    await sdk.logout();
    const afterLogout = await all();
    const userAfterLogout = sdk.getLoginUser();
    await sdk.login("dora", sig);
    await sdk.destroy();
    const afterDestroy = await all();
    afterDestroy.login = await window.outcome(() => sdk.login("dora", sig));
    afterDestroy.logout = await window.outcome(() => sdk.logout());
    let listenerAfterDestroy;
    try { cm.addConversationListener({}); listenerAfterDestroy = "no throw"; } catch (e) { listenerAfterDestroy = e.code; }
    return { beforeLogin, loggedIn, afterLogout, userAfterLogout, afterDestroy, listenerAfterDestroy, userAfterDestroy: sdk.getLoginUser() };
  }, sig);
  assert.equal(r.loggedIn, "dora");
  assert.equal(r.userAfterLogout, null);
  for (const [phase, code] of [["beforeLogin", 6014], ["afterLogout", 6014], ["afterDestroy", 6013]]) {
    for (const [k, o] of Object.entries(r[phase])) {
      assert.equal(o.ok, false, `${phase} ${k} resolved`);
      assert.equal(o.code, code, `${phase} ${k}: ${JSON.stringify(o)}`);
      assert.equal(o.isChatError && o.isError && o.codeType === "number", true, `${phase} ${k}`);
    }
  }
  assert.equal(r.listenerAfterDestroy, 6013);
  assert.equal(r.userAfterDestroy, null);
  await p.close();
});
