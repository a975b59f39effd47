// getHistoryMessageList against a server that cuts history pages at its ~2 MiB reply budget.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newClient, sendAs, cleanup, withContext as withContextOf } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await cleanup({ browser, servers: [server] }); });

const withContext = (fn) => withContextOf(browser, fn);

test("getHistoryMessageList returns the whole count when the server cuts its page at the byte budget", () =>
  withContext(async (context) => {
    // 12,000 bytes that JSON writes as \u0001 each: 72 KB per message, about 29 per server page.
    const heavy = "\u0001".repeat(12_000);
    for (let i = 0; i < 100; i++) await sendAs(server.url, "hb_bob", "c2c_hb_alice", heavy);
    await sendAs(server.url, "hb_bob", "c2c_hb_alice", "newest");
    const page = await newClient(context, server.url, "hb_alice");
    const r = await page.evaluate(async () => {
      const first = await window.mm.getHistoryMessageList("c2c_hb_bob", 100);
      const rest = await window.mm.getHistoryMessageList("c2c_hb_bob", 100, first.at(-1).msgID);
      return {
        first: first.map((m) => [m.seq, m.text.length]),
        rest: rest.map((m) => m.seq),
      };
    });
    assert.equal(r.first.length, 100, "a page cut by the server is continued, not taken as the start");
    assert.deepEqual(r.first.map(([seq]) => seq), Array.from({ length: 100 }, (_, i) => 101 - i));
    assert.deepEqual(r.first[0], [101, 6]);
    assert.ok(r.first.slice(1).every(([, len]) => len === 12_000));
    assert.deepEqual(r.rest, [1], "the one older message, then the start");
  }));
