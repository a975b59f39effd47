// The browser engines the tests run in, behind one small API (the subset of Playwright's that the
// tests use): browser.newContext({viewport}) → context.newPage() → page.goto/evaluate/reload/close/
// waitForFunction/screenshot/context(), page.on("console"|"pageerror").
// Chromium is driven by playwright-core; Firefox and WebKitGTK by W3C WebDriver (selenium-webdriver)
// because Playwright's own Firefox/WebKit builds cannot be installed here.
// Select the engine with BROWSER=chromium|firefox|webkit (default chromium).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

export const ENGINES = ["chromium", "firefox", "webkit"];
export const ENGINE = (process.env.BROWSER || "chromium").trim();
if (!ENGINES.includes(ENGINE)) throw new Error(`BROWSER=${ENGINE}: expected one of ${ENGINES.join(", ")}`);

export const CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Children (drivers, Xvfb) still running when node exits are killed by PID.
const children = new Set();
process.on("exit", () => { for (const c of children) { try { c.kill("SIGKILL"); } catch {} } });

function startChild(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], ...opts });
  let stderr = "";
  child.stderr?.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  children.add(child);
  const exited = new Promise((r) => child.once("exit", () => { children.delete(child); r(); }));
  child.once("error", () => {});
  return {
    child,
    get stderr() { return stderr; },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// Firefox preferences (in webdriver.json, shared with the wasm tests' runner): no JSON viewer (it
// would replace .json pages), and every background service pointed at a closed loopback port or
// off, so a test run makes no connection outside loopback.
const FIREFOX_PREFS = JSON.parse(readFileSync(join(ROOT, "webdriver.json"), "utf8"))["moz:firefoxOptions"].prefs;

const ENGINE_SETUP = {
  firefox: {
    driver: () => process.env.GECKODRIVER || join(homedir(), ".cargo/bin/geckodriver"),
    args: (port) => ["--port", String(port), "--host", "127.0.0.1"],
    caps: () => ({
      browserName: "firefox",
      "moz:firefoxOptions": { binary: process.env.FIREFOX_BIN || "/usr/bin/firefox-esr", args: ["-headless"], prefs: FIREFOX_PREFS },
    }),
  },
  webkit: {
    driver: () => process.env.SAFARIDRIVER || "/usr/bin/WebKitWebDriver",
    args: (port) => [`--port=${port}`, "--host=127.0.0.1"],
    caps: () => ({ browserName: "MiniBrowser" }),
    needsDisplay: true,
  },
};

// WebKitGTK has no headless mode: an Xvfb on a free display (chosen by Xvfb itself), shared by the
// sessions of one browser, unless DISPLAY is already set (e.g. under xvfb-run).
async function startXvfb() {
  const x = startChild("Xvfb", ["-displayfd", "3", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
    { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  const display = await new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`Xvfb gave no display in 10 s: ${x.stderr}`)), 10_000);
    x.child.stdio[3].on("data", (d) => {
      out += d;
      if (out.includes("\n")) { clearTimeout(t); resolve(":" + out.trim()); }
    });
    x.child.once("exit", () => { clearTimeout(t); reject(new Error(`Xvfb exited: ${x.stderr}`)); });
  });
  return { display, stop: () => x.stop() };
}

async function waitDriverReady(url, driver) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try { const r = await fetch(url + "/status"); if (r.ok) return; } catch {}
    if (driver.child.exitCode !== null) throw new Error(`driver exited: ${driver.stderr}`);
    if (Date.now() > deadline) throw new Error(`driver not ready in 20 s: ${driver.stderr}`);
    await sleep(50);
  }
}

/** Launches the selected engine. Returns a browser with newContext(opts) and close(). */
export async function launchEngine() {
  if (ENGINE === "chromium") {
    return chromium.launch({ executablePath: process.env.CHROME_BIN || "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }
  const { Builder } = await import("selenium-webdriver");
  const setup = ENGINE_SETUP[ENGINE];
  let xvfb = null;
  const env = { ...process.env };
  if (setup.needsDisplay && !process.env.DISPLAY) {
    xvfb = await startXvfb();
    env.DISPLAY = xvfb.display;
  }
  const contexts = new Set();
  return {
    engine: ENGINE,
    // One driver process and one session per context: a session is a fresh profile (its own
    // storage), and geckodriver serves one session at a time.
    async newContext(opts = {}) {
      const port = await freePort();
      const bin = setup.driver();
      if (!existsSync(bin)) throw new Error(`${ENGINE} driver not found at ${bin} (run scripts/setup)`);
      const driverProc = startChild(bin, setup.args(port), { env });
      const url = `http://127.0.0.1:${port}`;
      let driver;
      try {
        await waitDriverReady(url, driverProc);
        driver = await new Builder().usingServer(url).withCapabilities(setup.caps()).build();
      } catch (e) {
        await driverProc.stop();
        throw e;
      }
      const ctx = new WebDriverContext(driver, driverProc, opts);
      contexts.add(ctx);
      ctx.onClose = () => contexts.delete(ctx);
      await ctx.init();
      return ctx;
    },
    async close() {
      for (const c of [...contexts]) await c.close().catch(() => {});
      if (xvfb) await xvfb.stop();
    },
  };
}

// One WebDriver session. Pages are its windows; WebDriver commands act on the current window,
// so each page's commands run one at a time, after switching to that page's window.
class WebDriverContext {
  constructor(driver, driverProc, opts) {
    this.driver = driver;
    this.driverProc = driverProc;
    this.viewport = opts.viewport ?? { width: 1280, height: 720 };
    this.pages = new Set();
    this.queue = Promise.resolve();
    this.current = null;
    this.closed = false;
  }

  async init() {
    await this.driver.manage().setTimeouts({ script: 120_000, pageLoad: 30_000 });
    // The first window stays open (about:blank) so that closing every page keeps the session
    // and its storage, as closing the last tab of a Playwright context does.
    this.home = await this.driver.getWindowHandle();
    this.current = this.home;
  }

  /** Runs fn(driver) alone, with `handle`'s window current. */
  run(handle, fn) {
    const next = this.queue.then(async () => {
      if (this.closed) throw new Error("context closed");
      if (handle && this.current !== handle) {
        await this.driver.switchTo().window(handle);
        this.current = handle;
      }
      return fn(this.driver);
    });
    this.queue = next.catch(() => {});
    return next;
  }

  async newPage() {
    const handle = await this.run(null, async (d) => {
      await d.switchTo().newWindow("window");
      this.current = await d.getWindowHandle();
      await d.manage().window().setRect({ width: this.viewport.width, height: this.viewport.height }).catch(() => {});
      return this.current;
    });
    const page = new WebDriverPage(this, handle);
    this.pages.add(page);
    return page;
  }

  setDefaultTimeout(ms) { this.defaultTimeout = ms; }

  async close() {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.onClose?.();
    try { await this.driver.quit(); } catch {}
    await this.driverProc.stop();
  }
}

// Runs `expr` (a JS expression, possibly a Promise) in the page's own realm: a <script> element
// is injected, because scripts sent by WebDriver run in a sandbox in Firefox (own Error/Array,
// no import()). The result comes back as JSON through a DOM event, with the console lines and
// page errors recorded by the page since the last call (see CONSOLE_HOOK).
const INJECT = `
const [code, id, done] = arguments;
window.addEventListener(id, (e) => done(String(e.detail)), { once: true });
const s = document.createElement("script");
s.textContent = code;
(document.head || document.documentElement).appendChild(s);
s.remove();`;

// Installed in the page on first use (the test page installs it itself, before the SDK loads).
const CONSOLE_HOOK = `if (!window.__hooked) {
  window.__hooked = true; window.__log = [];
  for (const type of ["log", "info", "warn", "error", "debug"]) {
    const orig = console[type].bind(console);
    const name = type === "warn" ? "warning" : type;
    console[type] = (...a) => { window.__log.push({ kind: "console", type: name, text: a.map((x) => x instanceof Error ? String(x) : typeof x === "string" ? x : (() => { try { return JSON.stringify(x); } catch { return String(x); } })()).join(" ") }); orig(...a); };
  }
  window.addEventListener("error", (e) => window.__log.push({ kind: "pageerror", text: String(e.message) }));
  window.addEventListener("unhandledrejection", (e) => window.__log.push({ kind: "pageerror", text: String((e.reason && e.reason.message) || e.reason) }));
}`;

let seq = 0;

class WebDriverPage {
  constructor(ctx, handle) {
    this.ctx = ctx;
    this.handle = handle;
    this.handlers = { console: [], pageerror: [], dialog: [] };
    this.closed = false;
  }

  context() { return this.ctx; }
  isClosed() { return this.closed; }
  on(event, fn) { (this.handlers[event] ??= []).push(fn); return this; }
  url() { return this.ctx.run(this.handle, (d) => d.getCurrentUrl()); }

  async goto(url) {
    await this.ctx.run(this.handle, (d) => d.get(url));
    await this.evaluate("1");
  }

  async reload() {
    await this.ctx.run(this.handle, (d) => d.navigate().refresh());
    await this.evaluate("1");
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.ctx.pages.delete(this);
    await this.ctx.run(this.handle, async (d) => {
      await d.close();
      await d.switchTo().window(this.ctx.home);
      this.ctx.current = this.ctx.home;
    });
  }

  /** page.evaluate(fn, arg) or page.evaluate("expression"), as in Playwright. */
  async evaluate(fnOrExpr, arg) {
    const expr = typeof fnOrExpr === "function"
      ? `(${fnOrExpr.toString()})(${arg === undefined ? "undefined" : `JSON.parse(${JSON.stringify(JSON.stringify(arg))})`})`
      : String(fnOrExpr);
    const id = `__wd_result_${++seq}`;
    const code = `${CONSOLE_HOOK}
(async () => {
  let r;
  try {
    const v = await (${expr}\n);
    r = v === undefined ? { ok: true, undef: true } : { ok: true, value: v };
  } catch (e) {
    r = { ok: false, error: String((e && e.stack) || e), message: String((e && e.message) || e) };
  }
  r.log = window.__log.splice(0);
  let json;
  try { json = JSON.stringify(r); } catch (e) { json = JSON.stringify({ ok: false, message: "result is not serializable: " + e, log: r.log }); }
  window.dispatchEvent(new CustomEvent(${JSON.stringify(id)}, { detail: json }));
})();`;
    const raw = await this.ctx.run(this.handle, (d) => d.executeAsyncScript(INJECT, code, id));
    const r = JSON.parse(raw);
    for (const l of r.log ?? []) {
      if (l.kind === "console") {
        const msg = { type: () => l.type, text: () => l.text };
        for (const h of this.handlers.console) h(msg);
      } else {
        for (const h of this.handlers.pageerror) h(new Error(l.text));
      }
    }
    if (!r.ok) throw new Error(`page.evaluate: ${r.message}`);
    return r.undef ? undefined : r.value;
  }

  /** Polls fn(arg) (or an expression) in the page until it is truthy. */
  async waitForFunction(fnOrExpr, arg, opts = {}) {
    const timeout = opts.timeout ?? this.ctx.defaultTimeout ?? 30_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      let v;
      try { v = await this.evaluate(fnOrExpr, arg); } catch (e) {
        if (/context closed/.test(String(e))) throw e;
      }
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`waitForFunction timed out after ${timeout} ms: ${String(fnOrExpr).slice(0, 200)}`);
      await sleep(50);
    }
  }

  async screenshot({ path } = {}) {
    const b64 = await this.ctx.run(this.handle, (d) => d.takeScreenshot());
    const buf = Buffer.from(b64, "base64");
    if (path) (await import("node:fs")).writeFileSync(path, buf);
    return buf;
  }

  async setViewportSize({ width, height }) {
    await this.ctx.run(this.handle, (d) => d.manage().window().setRect({ width, height }));
  }
}
