// Issue 14: a sync reply never undoes a newer change. The page's SDK talks to chat-server through
// a loopback proxy started here (HTTP and the WebSocket upgrade piped through), which can hold
// /v1/changes replies: each is fetched from the server at once (a snapshot from before what the
// test does next) and delivered only when released. Engine-independent: no browser-specific
// request interception, only page.evaluate and the harness helpers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { startServer, launchBrowser, newClient, openPage, getUserSig, sendAs, waitFor, eventsOf, listIDs, sleep, cleanup } from "./harness.mjs";

/**
 * A proxy to `target` on a free loopback port. `hold(n)`: from now on, hold every /v1/changes
 * reply after the next `n`. `release()` delivers the held ones and stops holding. `pushes` counts
 * WebSocket frames the server sent to the page; `dropSockets()` cuts the WebSockets (the SDK
 * reconnects and syncs).
 */
async function startProxy(target) {
  const up = new URL(target);
  const state = { holding: false, pass: 0, held: [], pushes: 0, sockets: new Set() };
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const chunks = [];
        upRes.on("data", (c) => chunks.push(c));
        upRes.on("end", () => {
          const deliver = () => { res.writeHead(upRes.statusCode, upRes.headers); res.end(Buffer.concat(chunks)); };
          const isChanges = req.method === "GET" && req.url.startsWith("/v1/changes");
          if (isChanges && state.holding && state.pass-- <= 0) state.held.push(deliver);
          else deliver();
        });
      });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("upgrade", (req, socket, head) => {
    const upstream = net.connect(Number(up.port), up.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      upstream.write(head);
      socket.pipe(upstream);
      let handshake = true;
      let pending = Buffer.alloc(0);
      upstream.on("data", (chunk) => {
        socket.write(chunk);
        pending = Buffer.concat([pending, chunk]);
        if (handshake) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) return;
          pending = pending.subarray(end + 4);
          handshake = false;
        }
        // Server frames are unmasked: count complete text frames.
        for (;;) {
          if (pending.length < 2) return;
          let len = pending[1] & 0x7f, off = 2;
          if (len === 126) { if (pending.length < 4) return; len = pending.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (pending.length < 10) return; len = Number(pending.readBigUInt64BE(2)); off = 10; }
          if (pending.length < off + len) return;
          if ((pending[0] & 0x0f) === 1) state.pushes++;
          pending = pending.subarray(off + len);
        }
      });
    });
    const pair = [socket, upstream];
    state.sockets.add(pair);
    const close = () => { socket.destroy(); upstream.destroy(); state.sockets.delete(pair); };
    socket.on("error", close); upstream.on("error", close);
    socket.on("close", close); upstream.on("close", close);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get held() { return state.held.length; },
    get pushes() { return state.pushes; },
    hold(pass = 0) { state.holding = true; state.pass = pass; },
    release() { state.holding = false; for (const d of state.held.splice(0)) d(); },
    dropSockets() { for (const [a, b] of [...state.sockets]) { a.destroy(); b.destroy(); } },
    async stop() {
      this.release();
      this.dropSockets();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

let server, browser, proxy;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  proxy = await startProxy(server.url);
});
after(async () => {
  if (proxy) await proxy.stop();
  await cleanup({ browser, servers: [server] });
});

async function until(predicate, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A page whose SDK uses the proxy; `user` logged in unless `opts.login` is false. */
async function pageFor(context, user, opts = {}) {
  const page = await openPage(context, server.url);
  return newClient(context, server.url, user, { page, sdk: { serverURL: proxy.url }, login: opts.login ?? true });
}

/** Starts the login in the page without waiting for it (its first sync may be held). */
async function startLogin(page, user) {
  const sig = await getUserSig(server.url, user);
  await page.evaluate(([u, s]) => { window.loginDone = false; window.sdk.login(u, s).then(() => { window.loginDone = true; }); }, [user, sig]);
}

/** Waits until every sync the page started has finished and nothing more arrives. */
async function settle(page) {
  await waitFor(page, `eventsNamed("onSyncServerStart").length === eventsNamed("onSyncServerFinish").length + eventsNamed("onSyncServerFailed").length`, 5000, "syncs finished");
  await sleep(300);
}

const state = (page) => page.evaluate(async () => ({
  total: await window.cm.getTotalUnreadMessageCount(),
  list: (await window.cm.getConversationList(0, 100)).conversationList.map((c) => [c.conversationID, c.unreadCount, c.lastMessage && c.lastMessage.text]),
}));

/** Cuts the WebSocket; the SDK reconnects and syncs from its cursor. */
async function reconnect(page) {
  const before = await page.evaluate(() => window.eventsNamed("onConnectSuccess").length);
  proxy.dropSockets();
  await waitFor(page, `eventsNamed("onConnectSuccess").length > ${before}`, 8000, "reconnected");
  await settle(page);
}

test("pushes that arrive during a held reset are not undone by it", async () => {
  const context = await browser.newContext();
  try {
    const page = await pageFor(context, "race1_alice");          // first login: an empty feed
    proxy.hold();                                                 // the post-connect sync is held
    await waitFor(page, `eventsNamed("onConnectSuccess").length >= 1`, 5000);
    await until(() => proxy.held >= 1, "the post-connect sync request");
    const pushesBefore = proxy.pushes;
    await sendAs(server.url, "race1_bob", "c2c_race1_alice", "1");
    await sendAs(server.url, "race1_bob", "c2c_race1_alice", "2");
    await sendAs(server.url, "race1_dave", "c2c_race1_alice", "1");
    await until(() => proxy.pushes >= pushesBefore + 3, "three pushes reaching the page while the sync is held");
    proxy.release();
    await waitFor(page, `(await cm.getTotalUnreadMessageCount()) === 3`, 5000, "pushes applied");
    await settle(page);
    assert.deepEqual((await eventsOf(page, "onConversationDeleted")).map((e) => e.args[0]), [], "nobody deleted anything");
    assert.deepEqual(await state(page), { total: 3, list: [["c2c_race1_dave", 1, "1"], ["c2c_race1_bob", 2, "2"]] });
  } finally {
    proxy.release();
    await context.close();
  }
});

test("a send during a held reset stays listed, also after a reconnect", async () => {
  const context = await browser.newContext();
  try {
    const page = await pageFor(context, "race2_alice");
    proxy.hold();
    await waitFor(page, `eventsNamed("onConnectSuccess").length >= 1`, 5000);
    await until(() => proxy.held >= 1, "the post-connect sync request (a reset: the feed was empty)");
    const sent = await page.evaluate(async () => (await window.mm.sendTextMessage("c2c_race2_v", "hello")).text);
    assert.equal(sent, "hello");
    assert.deepEqual(await listIDs(page), ["c2c_race2_v"], "listed once the send resolved");
    proxy.release();
    await settle(page);
    assert.deepEqual(await listIDs(page), ["c2c_race2_v"], "the older reset did not remove it");
    assert.deepEqual(await eventsOf(page, "onConversationDeleted"), [], "nobody deleted anything");
    await reconnect(page);
    assert.deepEqual(await listIDs(page), ["c2c_race2_v"], "still listed after a reconnect");
    await sendAs(server.url, "race2_v", "c2c_race2_alice", "back");
    await waitFor(page, `(await cm.getTotalUnreadMessageCount()) === 1`, 5000, "the reply is counted");
    assert.deepEqual(await eventsOf(page, "onConversationDeleted"), []);
  } finally {
    proxy.release();
    await context.close();
  }
});

test("a read mark during a held sync is not rolled back", async () => {
  const context = await browser.newContext();
  try {
    await sendAs(server.url, "race3_v", "c2c_race3_alice", "1");
    await sendAs(server.url, "race3_v", "c2c_race3_alice", "2");
    const page = await pageFor(context, "race3_alice", { login: false });
    proxy.hold();                                                 // the login's reset is held
    await startLogin(page, "race3_alice");
    await until(() => proxy.held >= 1, "the login's sync request");
    const read = await page.evaluate(() => window.outcome(() => window.cm.cleanConversationUnreadMessageCount("c2c_race3_v")));
    assert.equal(read.ok, true, `read mark: ${JSON.stringify(read)}`);
    proxy.release();
    await waitFor(page, `window.loginDone`, 5000, "login finished");
    await settle(page);
    assert.deepEqual(await state(page), { total: 0, list: [["c2c_race3_v", 0, "2"]] });
    const totals = (await eventsOf(page, "onTotalUnreadMessageCountChanged")).map((e) => e.args[0]);
    assert.ok(totals.every((n) => n === 0), `the unread total never went back up: ${JSON.stringify(totals)}`);
    await reconnect(page);
    assert.equal((await state(page)).total, 0);
  } finally {
    proxy.release();
    await context.close();
  }
});

test("a delete during a held sync is not undone and fires once", async () => {
  const context = await browser.newContext();
  try {
    await sendAs(server.url, "race4_v", "c2c_race4_alice", "1");
    await sendAs(server.url, "race4_w", "c2c_race4_alice", "2");
    const page = await pageFor(context, "race4_alice", { login: false });
    proxy.hold();
    await startLogin(page, "race4_alice");
    await until(() => proxy.held >= 1, "the login's sync request");
    const results = await page.evaluate(() => window.cm.deleteConversationList(["c2c_race4_v"], true));
    assert.equal(results[0].resultCode, 0);
    proxy.release();
    await waitFor(page, `window.loginDone`, 5000, "login finished");
    await settle(page);
    assert.deepEqual(await listIDs(page), ["c2c_race4_w"], "the older snapshot did not bring it back");
    await reconnect(page);
    assert.deepEqual(await listIDs(page), ["c2c_race4_w"]);
    const deleted = (await eventsOf(page, "onConversationDeleted")).map((e) => e.args[0]);
    assert.deepEqual(deleted, [["c2c_race4_v"]], "onConversationDeleted exactly once");
  } finally {
    proxy.release();
    await context.close();
  }
});
