// DOM actions and queries through page.evaluate only, so UI tests run unchanged in every engine
// (Playwright's locators exist only for Chromium here). Selectors are CSS; actions are the DOM
// events a user's input produces (click, input/change), without real pointer movement.
const T = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// In-page helpers, defined once per page load (the string is evaluated before each call).
const PRELUDE = `(window.__dom ??= {
  q: (s) => document.querySelector(s),
  qa: (s) => [...document.querySelectorAll(s)],
  visible: (el) => {
    if (!el || !el.isConnected) return false;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  },
})`;

const run = (page, fn, ...args) =>
  page.evaluate(`(${PRELUDE}, (${fn.toString()})(window.__dom, ...${JSON.stringify(args)}))`);

async function until(page, fn, args, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await run(page, fn, ...args).catch(() => false);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms: ${what}`);
    await sleep(50);
  }
}

/** Waits until `sel` is attached (default), visible, hidden or detached. */
export function waitSel(page, sel, { state = "attached", timeout = T } = {}) {
  return until(page, (d, s, st) => {
    const el = d.q(s);
    if (st === "attached") return !!el;
    if (st === "detached") return !el;
    if (st === "visible") return d.visible(el);
    return !d.visible(el);
  }, [sel, state], timeout, `${sel} ${state}`);
}

/** Clicks the first match once it is visible. */
export async function click(page, sel, { timeout = T } = {}) {
  await waitSel(page, sel, { state: "visible", timeout });
  await run(page, (d, s) => { const el = d.q(s); el.scrollIntoView({ block: "nearest" }); el.click(); }, sel);
}

/** Types `value` into an input or textarea (input + change events). */
export async function fill(page, sel, value) {
  await waitSel(page, sel, { state: "visible" });
  await run(page, (d, s, v) => {
    const el = d.q(s);
    el.focus();
    el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }, sel, value);
}

/** Chooses an option of a <select>. */
export async function selectOption(page, sel, value) {
  await waitSel(page, sel);
  await run(page, (d, s, v) => {
    const el = d.q(s);
    el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }, sel, value);
}

/** Ticks a checkbox (clicks it if unticked, even when styled invisible). */
export async function check(page, sel) {
  await waitSel(page, sel);
  await run(page, (d, s) => { const el = d.q(s); if (!el.checked) el.click(); return el.checked; }, sel);
}

export const text = (page, sel) => run(page, (d, s) => d.q(s)?.textContent ?? null, sel);
export const isVisible = (page, sel) => run(page, (d, s) => d.visible(d.q(s)), sel);
export const count = (page, sel) => run(page, (d, s) => d.qa(s).length, sel);
/** textContent of every match. */
export const texts = (page, sel) => run(page, (d, s) => d.qa(s).map((n) => n.textContent), sel);
/** One dataset field of every match. */
export const dataOf = (page, sel, key) => run(page, (d, s, k) => d.qa(s).map((n) => n.dataset[k]), sel, key);
/** Waits until some match of `sel` has text containing `sub`. */
export const waitText = (page, sel, sub, timeout = T) =>
  until(page, (d, s, x) => d.qa(s).some((n) => n.textContent.includes(x)), [sel, sub], timeout, `${sel} containing ${sub}`);
