// Loading the package: no init() needed, ErrorCode and ChatError before the wasm, load failures as
// ChatErrors, init(bytes) in Node, and managers that are one object per SDK.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ROOT, SDK_APP_ID, startServer, launchBrowser, withContext, getUserSig, sendAs, createGroup, newClient, reloadClient,
  waitFor, cleanup,
} from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

/** A same-origin page that has not imported the package. */
async function barePage(context) {
  const page = await context.newPage();
  await page.goto(server.url + "/bare.html");
  return page;
}

test("without init(): ErrorCode and ChatError work, and ChatSDK.create loads the wasm itself", async () => {
  await withContext(browser, async (context) => {
    const page = await barePage(context);
    await sendAs(server.url, "ld_bob", "c2c_ld_alice", "hello");
    const sig = await getUserSig(server.url, "ld_alice");
    const r = await page.evaluate(async ([sdkAppID, sig]) => {
      const { ChatSDK, ChatError, ErrorCode } = await import("/pkg/index.js");
      const before = {
        invalid: ErrorCode.INVALID_PARAMETERS,
        frozen: Object.isFrozen(ErrorCode),
        names: Object.keys(ErrorCode).length,
        error: new ChatError(6017, "x") instanceof Error,
      };
      let bad;
      try { await ChatSDK.create({ sdkAppID: -1, serverURL: location.origin }); } catch (e) {
        bad = { chat: e instanceof ChatError, code: e.code, message: e.message };
      }
      const sdk = await ChatSDK.create({ sdkAppID, serverURL: location.origin });
      await sdk.login("ld_alice", sig);
      const list = await sdk.getConversationManager().getConversationList(0, 10);
      return { before, bad, ids: list.conversationList.map((c) => c.conversationID) };
    }, [SDK_APP_ID, sig]);
    assert.deepEqual(r.before, { invalid: 6017, frozen: true, names: 12, error: true });
    assert.equal(r.bad.chat, true);
    assert.equal(r.bad.code, 6017);
    assert.match(r.bad.message, /-1/);
    assert.deepEqual(r.ids, ["c2c_ld_bob"]);
  });
});

test("a wasm that cannot be loaded rejects create with ChatError 6013 (not a TypeError); a later load succeeds", async () => {
  await withContext(browser, async (context) => {
    const page = await barePage(context);
    // The wasm answers 404 (through the page's fetch, so that every engine sees the same failure).
    const failed = await page.evaluate(async () => {
      window.realFetch = window.fetch;
      window.fetch = (input, init) => String(input instanceof Request ? input.url : input).includes("chat_sdk_bg.wasm")
        ? Promise.resolve(new Response("gone", { status: 404 }))
        : window.realFetch(input, init);
      const { ChatSDK, ChatError } = await import("/pkg/index.js");
      try { await ChatSDK.create({ sdkAppID: 1, serverURL: location.origin }); return "resolved"; } catch (e) {
        return { chat: e instanceof ChatError, type: e instanceof TypeError, code: e.code, message: e.message };
      }
    });
    assert.equal(failed.chat, true, JSON.stringify(failed));
    assert.equal(failed.type, false);
    assert.equal(failed.code, 6013);
    assert.match(failed.message, /init\(/);
    const retried = await page.evaluate(async () => {
      window.fetch = window.realFetch;
      const { ChatSDK } = await import("/pkg/index.js");
      const sdk = await ChatSDK.create({ sdkAppID: 1, serverURL: location.origin, storage: "memory" });
      return sdk.getLoginUser();
    });
    assert.equal(retried, null);
  });
});

test("managers are the same object on every call, and free() on one breaks neither it nor its listeners", async () => {
  await withContext(browser, async (context) => {
    const page = await barePage(context);
    await sendAs(server.url, "mg_bob", "c2c_mg_alice", "one");
    await sendAs(server.url, "mg_carol", "c2c_mg_alice", "two");
    const sig = await getUserSig(server.url, "mg_alice");
    const r = await page.evaluate(async ([sdkAppID, sig]) => {
      const { ChatSDK } = await import("/pkg/index.js");
      const sdk = await ChatSDK.create({ sdkAppID, serverURL: location.origin });
      const same = sdk.getConversationManager() === sdk.getConversationManager()
        && sdk.getMessageManager() === sdk.getMessageManager();
      const deleted = [];
      sdk.getConversationManager().addConversationListener({ onConversationDeleted: (ids) => deleted.push(...ids) });
      sdk.getConversationManager().free();
      sdk.getMessageManager().free();
      await sdk.login("mg_alice", sig);
      await sdk.getConversationManager().deleteConversation("c2c_mg_bob");
      const list = await sdk.getConversationManager().getConversationList(0, 10);
      return { same, deleted, ids: list.conversationList.map((c) => c.conversationID) };
    }, [SDK_APP_ID, sig]);
    assert.deepEqual(r, { same: true, deleted: ["c2c_mg_bob"], ids: ["c2c_mg_carol"] });
  });
});

test("in Node: ErrorCode before init, create rejects 6013 until init(bytes), then works (memory storage)", async () => {
  const chat = await import(pathToFileURL(join(ROOT, "pkg/index.js")).href);
  assert.equal(chat.ErrorCode.SDK_NOT_INITIALIZED, 6013);
  await assert.rejects(chat.ChatSDK.create({ sdkAppID: 1, serverURL: server.url, storage: "memory" }),
    (e) => e instanceof chat.ChatError && e.code === 6013 && /init\(/.test(e.message));
  await chat.default(readFileSync(join(ROOT, "pkg/chat_sdk_bg.wasm")));
  const sdk = await chat.ChatSDK.create({ sdkAppID: SDK_APP_ID, serverURL: server.url, storage: "memory" });
  assert.equal(sdk.getLoginUser(), null);
  await assert.rejects(sdk.getConversationManager().getConversationList(0, 10),
    (e) => e instanceof chat.ChatError && e.code === chat.ErrorCode.SDK_NOT_LOGGED_IN);
  await sdk.destroy();
});

test("conversations read back from IndexedDB after a reload are identical (non-ASCII and astral text, C2C and group)", async () => {
  await createGroup(server.url, "rt_team", "Grüße 👋 team", ["rt_alice", "rt_bob"]);
  await sendAs(server.url, "rt_bob", "group_rt_team", "𝄞 clef, ü, \u0000 nul, \"quotes\"");
  await sendAs(server.url, "rt_carol", "c2c_rt_alice", "😀😀 two emoji then text");
  await withContext(browser, async (context) => {
    const page = await newClient(context, server.url, "rt_alice");
    const list = () => page.evaluate(async () => (await window.cm.getConversationList(0, 100)).conversationList);
    await waitFor(page, "(await listIDs()).length === 2");
    const before = await list();
    await reloadClient(page, server.url, "rt_alice");
    const after = await list();
    assert.deepEqual(after, before);
    assert.equal(before.find((c) => c.type === 2).lastMessage.text, "𝄞 clef, ü, \u0000 nul, \"quotes\"");
  });
});
