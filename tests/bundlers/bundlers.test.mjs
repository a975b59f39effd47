// Each line of docs/bundlers.md, proven: a minimal app per bundler is built against the installed
// tarball (node_modules/chat-sdk-wasm, see run.sh), served, and opened in headless Chromium, where
// it runs apps/common/smoke.js against a real chat-server (init, login, send, delete with its
// event, a bad argument refused with a ChatError). Node runs the same scenario with init(bytes).
// Run: tests/bundlers/run.sh (after scripts/build).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const APPS = join(HERE, "apps");
const INSTALLED = join(HERE, "node_modules/chat-sdk-wasm");
const SERVER = join(ROOT, "target/release/chat-server");
const CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const T = 30_000; // per-wait timeout: cold wasm compile on a loaded 2-core machine

const EXPECTED = {
  before: ["c2c_bob"],
  deleted: ["c2c_bob"],
  after: [],
  badArgument: { isChatError: true, code: 6017, codeName: "INVALID_PARAMETERS" },
};

const timings = [];
const timed = async (what, fn) => {
  const t = performance.now();
  const result = await fn();
  timings.push([what, Math.round(performance.now() - t)]);
  return result;
};

/** chat-server --dev on a free port, serving `www` at / and `pkg` at /pkg/. */
async function startChatServer(www, pkg = INSTALLED) {
  const tmp = mkdtempSync(join(tmpdir(), "chat-bundlers-"));
  const ready = join(tmp, "ready");
  const proc = spawn(SERVER, ["--listen", "127.0.0.1:0", "--db", ":memory:", "--dev", "--rate-limit", "0",
    "--www", www, "--pkg", pkg, "--ready-file", ready], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((r) => proc.once("exit", r));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(existsSync(ready) && readFileSync(ready, "utf8").trim())) {
    if (proc.exitCode !== null) { await stop(); throw new Error(`chat-server exited early: ${stderr}`); }
    if (Date.now() > deadline) { await stop(); throw new Error(`chat-server not ready in 10 s: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: readFileSync(ready, "utf8").trim(), stop };
}

/** Runs `node args...` in `cwd`; resolves stdout, rejects with the output on a non-zero exit. */
function run(args, cwd, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d) => { out += d; });
    proc.stderr.on("data", (d) => { out += d; });
    proc.once("exit", (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`node ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

let browser;
before(async () => {
  assert.ok(existsSync(join(INSTALLED, "package.json")), "chat-sdk-wasm is not installed: run tests/bundlers/run.sh");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  console.log(`\n| step | ms |\n|---|---|\n${timings.map(([w, ms]) => `| ${w} | ${ms} |`).join("\n")}`);
});

/** Opens `url` in a fresh context and returns the smoke summary the page shows. */
async function openApp(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(url);
    const pre = page.locator("#result[data-status]");
    await pre.waitFor({ state: "attached", timeout: T }).catch((e) => errors.push(`waiting for #result: ${e.message}`));
    const status = await pre.getAttribute("data-status", { timeout: 2000 }).catch(() => null);
    const text = status ? await pre.textContent() : "";
    assert.equal(status, "ok", `${url}: ${text || "no #result"}\n${errors.join("\n")}`);
    return { page, context, summary: JSON.parse(text), errors };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/** Builds nothing: serves `dir` with chat-server and checks the smoke summary at `path`. */
async function serveAndOpen(www, path = "/") {
  const chat = await startChatServer(www);
  try {
    const { summary, context, errors } = await timed(`open ${path} in Chromium`, () => openApp(chat.url + path));
    await context.close();
    assert.deepEqual(summary, EXPECTED);
    assert.deepEqual(errors, []);
  } finally {
    await chat.stop();
  }
}

/** Starts a Vite dev server (`module`: "vite" or "vite6") on apps/vite, runs `fn(url)`. */
async function withViteDevServer(module, configFile, fn) {
  const { createServer: createViteServer } = await import(module);
  const chat = await startChatServer(APPS);
  const port = await freePort();
  const vite = await createViteServer({
    root: join(APPS, "vite"),
    configFile,
    logLevel: "silent",
    // A fresh pre-bundle cache per server, so one run's optimizeDeps never leaks into the next.
    cacheDir: mkdtempSync(join(tmpdir(), "vite-cache-")),
    server: { host: "127.0.0.1", port, strictPort: true, hmr: false },
  });
  try {
    await vite.listen();
    const result = await fn(`http://127.0.0.1:${port}/?server=${encodeURIComponent(chat.url)}`);
    if (result?.context) {
      await result.context.close();
      return result.summary;
    }
    return result;
  } finally {
    await vite.close();
    rmSync(vite.config.cacheDir, { recursive: true, force: true });
    await chat.stop();
  }
}

describe("bundlers: each app builds, loads the wasm and runs the scenario", { timeout: 600_000 }, () => {
  it("plain <script type=\"module\"> with an import map, no bundler", async () => {
    await serveAndOpen(APPS, "/plain/");
  });

  // Vite 8 needs no configuration: it runs without the app's vite.config.js; Vite 6 with it.
  for (const [name, module, configFile] of [["Vite 8", "vite", false], ["Vite 6", "vite6", join(APPS, "vite/vite.config.js")]]) {
    const outDir = join(APPS, `vite/dist-${module}`);

    it(`${name}: vite build`, async () => {
      const { build } = await import(module);
      await timed(`${name} build`, () => build({
        root: join(APPS, "vite"),
        configFile,
        logLevel: "warn",
        build: { outDir, emptyOutDir: true },
      }));
      await serveAndOpen(outDir);
    });

    it(`${name}: dev server`, async () => {
      const summary = await withViteDevServer(module, configFile, (url) => timed(`${name} dev server first load`, () => openApp(url)));
      assert.deepEqual(summary, EXPECTED);
    });
  }

  it("Vite 6: the dev server without optimizeDeps.exclude fails as docs/bundlers.md says", async () => {
    const failure = await withViteDevServer("vite6", false, (url) => openApp(url).then(
      () => assert.fail("the app worked without optimizeDeps.exclude: update docs/bundlers.md"),
      (e) => e.message));
    assert.match(failure, /expected magic word 00 61 73 6d/);
  });

  it("webpack 5: production build", async () => {
    const { default: webpack } = await import("webpack");
    const { default: config } = await import("./apps/webpack/webpack.config.js");
    const stats = await timed("webpack 5 build", () => new Promise((r, j) => webpack(config, (e, s) => (e ? j(e) : r(s)))));
    assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
    await serveAndOpen(join(APPS, "webpack/dist"));
  });

  it("Next.js 16: next build (static export, SDK inside useEffect) and the React hooks", async () => {
    const app = join(APPS, "next");
    await timed("Next.js 16 build", () => run([join(HERE, "node_modules/next/dist/bin/next"), "build"], app,
      { NEXT_TELEMETRY_DISABLED: "1" }));
    const chat = await startChatServer(join(app, "out"));
    try {
      const { page, summary, context } = await timed("Next.js open in Chromium", () => openApp(chat.url + "/"));
      assert.deepEqual(summary, EXPECTED);
      await page.locator('#hooks[data-state="ready"]').waitFor({ timeout: T });
      assert.match(await page.textContent("#hooks"), /logged in as hooks_user, unread 0/);
      await context.close();
    } finally {
      await chat.stop();
    }
  });

  it("Node: import (ESM) and init(bytes)", async () => {
    const chat = await startChatServer(APPS);
    try {
      const out = await timed("Node run", () => run([join(APPS, "node/smoke.mjs"), chat.url], HERE));
      assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)), EXPECTED);
    } finally {
      await chat.stop();
    }
  });
});
