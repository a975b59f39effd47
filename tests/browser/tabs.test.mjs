// Persistence across reloads (IndexedDB) and two tabs of one user in one browser context.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newClient, reloadClient, sendAs, waitFor, count, eventsOf, listIDs, sleep, cleanup,
  withContext as withContextOf,
} from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

const withContext = (fn) => withContextOf(browser, fn);

test("a deleted conversation stays deleted after reload and re-login (IndexedDB)", () =>
  withContext(async (context) => {
    await sendAs(server.url, "rl_bob", "c2c_rl_alice", "b");
    await sendAs(server.url, "rl_carol", "c2c_rl_alice", "c");
    let page = await newClient(context, server.url, "rl_alice");
    await waitFor(page, `(await listIDs()).length === 2`);
    await page.evaluate(() => window.cm.deleteConversationList(["c2c_rl_bob"], false));
    assert.deepEqual(await listIDs(page), ["c2c_rl_carol"]);

    await reloadClient(page, server.url, "rl_alice");
    assert.deepEqual(await listIDs(page), ["c2c_rl_carol"], "right after login");
    await sleep(300);
    assert.deepEqual(await listIDs(page), ["c2c_rl_carol"], "after a settle");
    assert.equal(await count(page, "onNewConversation"), 0, "not brought back by the reload");
    assert.equal(await count(page, "onStorageFallback"), 0, "IndexedDB was used");
    const got = await page.evaluate(() => window.outcome(() => window.cm.getConversation("c2c_rl_bob")));
    assert.equal(got.code, 2500);

    // logout + login on the same instance
    await page.evaluate(async () => { await window.sdk.logout(); await window.sdk.login("rl_alice", window.userSig); });
    assert.deepEqual(await listIDs(page), ["c2c_rl_carol"]);

    // reload while the server is the only source of truth for the peer: a new message still brings it back
    await sendAs(server.url, "rl_bob", "c2c_rl_alice", "again");
    await waitFor(page, `(await listIDs()).includes("c2c_rl_bob")`);
    await reloadClient(page, server.url, "rl_alice");
    assert.deepEqual(await listIDs(page), ["c2c_rl_bob", "c2c_rl_carol"]);
    const hist = await page.evaluate(async () => (await window.mm.getHistoryMessageList("c2c_rl_bob", 10)).map((m) => m.text));
    assert.deepEqual(hist, ["again", "b"], "clearMessage false keeps the history");
  }));

test("IndexedDB state is per user: another user in the same browser does not see it", () =>
  withContext(async (context) => {
    await sendAs(server.url, "pu_bob", "c2c_pu_alice", "x");
    await sendAs(server.url, "pu_carol", "c2c_pu_dave", "y");
    const page = await newClient(context, server.url, "pu_alice");
    await waitFor(page, `(await listIDs()).length === 1`);
    await page.evaluate(async () => { await window.sdk.logout(); });
    await newClient(context, server.url, "pu_dave", { page });
    await waitFor(page, `(await listIDs()).length === 1`);
    assert.deepEqual(await listIDs(page), ["c2c_pu_carol"]);
  }));

for (const storage of ["indexeddb", "memory"]) {
  test(`two tabs of one user (${storage}): a delete in tab A fires onConversationDeleted exactly once in tab B`, () =>
    withContext(async (context) => {
      const u = `tt_${storage}`;
      for (const p of ["b", "c", "d", "e"]) await sendAs(server.url, `${u}_${p}`, `c2c_${u}_alice`, "m");
      const a = await newClient(context, server.url, `${u}_alice`, { sdk: { storage } });
      const b = await newClient(context, server.url, `${u}_alice`, { sdk: { storage } });
      await waitFor(a, `(await listIDs()).length === 4`);
      await waitFor(b, `(await listIDs()).length === 4`);

      await a.evaluate((id) => window.cm.deleteConversation(id), `c2c_${u}_b`);
      await waitFor(b, `eventsNamed("onConversationDeleted").length >= 1`, 5000, "tab B gets the deletion");
      await sleep(700);
      assert.deepEqual((await eventsOf(b, "onConversationDeleted")).map((e) => e.args[0]), [[`c2c_${u}_b`]]);
      assert.equal(await count(a, "onConversationDeleted"), 1);
      assert.ok(!(await listIDs(b)).includes(`c2c_${u}_b`));

      // a batch in tab B: each deleted ID reaches tab A once
      const res = await b.evaluate((ids) => window.cm.deleteConversationList(ids, true), [`c2c_${u}_c`, `c2c_${u}_d`, `c2c_${u}_b`]);
      assert.deepEqual(res.map((r) => r.resultCode), [0, 0, 2500]);
      await waitFor(a, `eventsNamed("onConversationDeleted").flatMap((e) => e.args[0]).length >= 3`);
      await sleep(700);
      const inA = (await eventsOf(a, "onConversationDeleted")).flatMap((e) => e.args[0]);
      assert.deepEqual(inA.sort(), [`c2c_${u}_b`, `c2c_${u}_c`, `c2c_${u}_d`]);
      const inB = (await eventsOf(b, "onConversationDeleted")).flatMap((e) => e.args[0]);
      assert.deepEqual(inB.sort(), [`c2c_${u}_b`, `c2c_${u}_c`, `c2c_${u}_d`]);
      assert.deepEqual(await listIDs(a), [`c2c_${u}_e`]);
      assert.deepEqual(await listIDs(b), [`c2c_${u}_e`]);
    }));
}
