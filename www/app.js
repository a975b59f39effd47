// Demo page of the chat SDK. Plain ES module, no framework. Every server-provided string is
// rendered with textContent (never innerHTML).
import init, { ChatSDK, ChatError } from "/pkg/index.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const params = new URLSearchParams(location.search);
const DEVICE = params.get("device") || "1";
const STORAGE = DEVICE === "1" ? "indexeddb" : "memory";
const PAGE = 100;

const state = {
  info: null,
  sdk: null,
  conv: null,
  msg: null,
  user: null,
  conversations: [],      // exactly as the SDK returned them, page after page
  nextSeq: 0,
  finished: true,
  open: null,             // conversationID of the open chat
  openHint: null,         // { isGroup, name } of a chat opened before the SDK lists it
  messages: [],           // newest last (display order)
  selecting: false,
  selected: new Set(),
  listeners: null,
};

// ---------- helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function errorText(e) {
  if (e instanceof ChatError || (e && typeof e.code === "number")) return `ChatError ${e.code}: ${e.message}`;
  return String(e && e.message ? e.message : e);
}

function showError(e) {
  $("error-text").textContent = typeof e === "string" ? e : errorText(e);
  $("error").hidden = false;
  console.error(e);
}
function clearError() { $("error").hidden = true; }

let toastTimer;
function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 2600);
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
function clock(d = new Date()) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function shortTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
function fullTime(ms) { return ms ? new Date(ms).toLocaleString() : ""; }

function hue(str) {
  let h = 0;
  for (const ch of str) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
function paintAvatar(node, name, isGroup) {
  const label = (name || "?").replace(/^[^A-Za-z0-9]+/, "");
  node.textContent = isGroup ? "#" : (label[0] || "?").toUpperCase();
  node.style.setProperty("--h", hue(name || "?"));
}

function idOf(kind, target) { return kind === "group" ? `group_${target}` : `c2c_${target}`; }

async function fetchJSON(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const code = body && body.code ? body.code : res.status;
    const message = body && body.message ? body.message : res.statusText;
    throw Object.assign(new Error(message), { code });
  }
  return body;
}

// ---------- event log ----------

const MAX_LOG = 300;
function log(source, name, args) {
  const list = $("log");
  const detail = args.length ? args.map(fmtArg).join(", ") : "";
  const item = el("li", { class: `log-item src-${source}`, "data-testid": "log-entry", dataset: { event: name } },
    el("time", { class: "log-time", text: clock() }),
    el("span", { class: "log-name", text: name }),
    el("span", { class: "log-src", text: { conversation: "conv", message: "msg" }[source] ?? source, title: `${source} listener` }),
    detail ? el("code", { class: "log-args", text: detail }) : null);
  list.prepend(item);
  while (list.childElementCount > MAX_LOG) list.lastElementChild.remove();
}
function fmtArg(a) {
  if (Array.isArray(a)) {
    if (a.length && typeof a[0] === "object") return `[${a.map((c) => c.conversationID ?? JSON.stringify(c)).join(", ")}]`;
    return JSON.stringify(a);
  }
  if (a && typeof a === "object") {
    if ("msgID" in a) return `${a.conversationID} ${a.sender}: ${JSON.stringify(a.text.length > 60 ? a.text.slice(0, 60) + "…" : a.text)}`;
    return JSON.stringify(a);
  }
  return JSON.stringify(a);
}

// ---------- server info ----------

async function loadInfo() {
  const note = $("sync-note");
  try {
    state.info = await fetchJSON("/v1/info");
    const on = !!state.info.syncConversationDeletion;
    note.dataset.sync = on ? "on" : "off";
    note.replaceChildren(
      el("strong", { text: on ? "Deletion sync is ON" : "Deletion sync is OFF" }),
      el("span", { class: "sync-detail", text: on
        ? " on this server: a conversation deleted on one device disappears from this user's other devices at once."
        : " on this server: other devices of this user learn about a deletion only when they sync next (e.g. after a reload)." }));
    if (!state.info.dev) showError("This server runs without --dev: the demo cannot fetch userSigs. Start it with scripts/demo.");
  } catch (e) {
    note.dataset.sync = "unknown";
    note.textContent = "Could not reach the chat server.";
    showError(e);
  }
}

// ---------- login / logout ----------

async function login(userID) {
  clearError();
  const submit = $("login-submit");
  submit.disabled = true;
  submit.textContent = "Signing in…";
  try {
    if (!state.info) await loadInfo();
    if (!state.info) throw new Error("server unavailable");
    const { userSig } = await fetchJSON(`/dev/usersig?userID=${encodeURIComponent(userID)}`);
    const sdk = await ChatSDK.create({ sdkAppID: state.info.sdkAppID, serverURL: location.origin, storage: STORAGE });
    state.sdk = sdk;
    state.conv = sdk.getConversationManager();
    state.msg = sdk.getMessageManager();
    attachListeners();
    await sdk.login(userID, userSig);
    state.user = sdk.getLoginUser() || userID;
    if (DEVICE === "1") try { localStorage.setItem("chat-demo-user", state.user); } catch { /* private mode */ }
    const url = new URL(location.href);
    url.searchParams.set("user", state.user);
    history.replaceState(null, "", url);
    enterApp();
    await Promise.all([scheduleRefresh(), refreshTotalUnread()]);
  } catch (e) {
    showError(e);
    await teardown();
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
}

function attachListeners() {
  const L = (src, name, extra) => (...args) => {
    log(src, name, args);
    if (extra) extra(...args);
  };
  const sdkL = {
    onConnecting: L("sdk", "onConnecting", () => setConn("connecting")),
    onConnectSuccess: L("sdk", "onConnectSuccess", () => setConn("online")),
    onConnectFailed: L("sdk", "onConnectFailed", (code, message) => setConn("offline", `${code}: ${message}`)),
    onUserSigExpired: L("sdk", "onUserSigExpired", () => showError("ChatError 70001: userSig expired, sign in again")),
    onStorageFallback: L("sdk", "onStorageFallback", (reason) => toast(`Storage fell back to memory: ${reason}`)),
  };
  const convL = {
    onNewConversation: L("conversation", "onNewConversation", () => scheduleRefresh()),
    onConversationChanged: L("conversation", "onConversationChanged", () => scheduleRefresh()),
    onConversationDeleted: L("conversation", "onConversationDeleted", (ids) => onDeleted(ids)),
    onTotalUnreadMessageCountChanged: L("conversation", "onTotalUnreadMessageCountChanged", (n) => setTotalUnread(n)),
    onSyncServerStart: L("conversation", "onSyncServerStart"),
    onSyncServerFinish: L("conversation", "onSyncServerFinish", () => scheduleRefresh()),
    onSyncServerFailed: L("conversation", "onSyncServerFailed"),
  };
  const msgL = {
    onRecvNewMessage: L("message", "onRecvNewMessage", (m) => onMessage(m)),
  };
  state.sdk.addSDKListener(sdkL);
  state.conv.addConversationListener(convL);
  state.msg.addAdvancedMsgListener(msgL);
  state.listeners = { sdkL, convL, msgL };
}

async function teardown() {
  const { sdk, conv, msg, listeners } = state;
  state.sdk = state.conv = state.msg = state.listeners = null;
  if (!sdk) return;
  try {
    if (listeners) {
      conv.removeConversationListener(listeners.convL);
      msg.removeAdvancedMsgListener(listeners.msgL);
      sdk.removeSDKListener(listeners.sdkL);
    }
    if (sdk.getLoginUser()) await sdk.logout();
  } catch (e) { console.warn(e); }
  try { await sdk.destroy(); } catch (e) { console.warn(e); }
}

async function logout() {
  await teardown();
  Object.assign(state, { user: null, conversations: [], open: null, openHint: null, messages: [], selecting: false });
  state.selected.clear();
  const url = new URL(location.href);
  url.searchParams.delete("user");
  history.replaceState(null, "", url);
  $("app-view").hidden = true;
  $("session").hidden = true;
  $("login-view").hidden = false;
  $("log").replaceChildren();
  closeChat();
  setConn("idle");
}

function enterApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("session").hidden = false;
  $("current-user").textContent = state.user;
  $("current-device").textContent = DEVICE === "1" ? "device 1 · IndexedDB" : `device ${DEVICE} · in-memory`;
  document.title = `${state.user} · Chat SDK demo`;
  setView("list");
}

function setConn(s, detail) {
  const dot = $("connection-status");
  dot.dataset.state = s;
  dot.title = { idle: "Not connected", connecting: "Connecting…", online: "Connected", offline: `Disconnected ${detail || ""}` }[s];
}

// ---------- conversation list ----------

let refreshing = null;
let refreshAgain = false;
function scheduleRefresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await refreshConversations();
      } while (refreshAgain);
    } finally { refreshing = null; }
  })();
  return refreshing;
}

// Re-reads the list from the top, as many pages as were shown before (at least one).
async function refreshConversations() {
  if (!state.conv) return;
  const wanted = Math.max(state.conversations.length, 1);
  const list = [];
  let seq = 0;
  let finished = false;
  try {
    while (!finished && list.length < wanted) {
      const page = await state.conv.getConversationList(seq, PAGE);
      list.push(...page.conversationList);
      seq = page.nextSeq;
      finished = page.isFinished;
    }
  } catch (e) { showError(e); return; }
  state.conversations = list;
  state.nextSeq = seq;
  state.finished = finished;
  renderConversations();
}

async function loadMore() {
  if (refreshing) await refreshing;
  try {
    const page = await state.conv.getConversationList(state.nextSeq, PAGE);
    state.conversations.push(...page.conversationList);
    state.nextSeq = page.nextSeq;
    state.finished = page.isFinished;
    renderConversations();
  } catch (e) { showError(e); }
}

function renderConversations() {
  const ul = $("conversation-list");
  const present = new Set(state.conversations.map((c) => c.conversationID));
  for (const id of [...state.selected]) if (!present.has(id)) state.selected.delete(id);
  ul.replaceChildren(...state.conversations.map(renderRow));
  $("conversation-empty").hidden = state.conversations.length > 0;
  $("load-more").hidden = state.finished;
  updateBatchBar();
  if (state.open) setChatHeader();
}

function renderRow(c) {
  const id = c.conversationID;
  const isGroup = c.type === 2;
  const name = c.showName || (isGroup ? c.groupID : c.userID) || id;
  const last = c.lastMessage;
  const avatar = el("span", { class: "avatar", "aria-hidden": "true" });
  paintAvatar(avatar, name, isGroup);

  const preview = last
    ? `${last.sender === state.user ? "You: " : isGroup ? `${last.sender}: ` : ""}${last.text}`
    : "No messages";
  const check = el("input", {
    type: "checkbox", class: "row-check", "data-testid": "conversation-check",
    "aria-label": `Select ${name}`, checked: state.selected.has(id),
  });
  check.checked = state.selected.has(id);
  check.addEventListener("change", () => {
    if (check.checked) state.selected.add(id); else state.selected.delete(id);
    li.classList.toggle("selected", check.checked);
    updateBatchBar();
  });
  check.addEventListener("click", (e) => e.stopPropagation());

  const del = el("button", {
    type: "button", class: "icon-btn row-delete", "data-testid": "conversation-delete",
    "aria-label": `Delete conversation ${name}`, title: "Delete conversation",
  });
  del.append(trashIcon());
  del.addEventListener("click", (e) => { e.stopPropagation(); deleteOne(id, del); });

  const main = el("button", { type: "button", class: "row-main", "data-testid": "conversation-open" },
    avatar,
    el("span", { class: "row-body" },
      el("span", { class: "row-top" },
        el("span", { class: "row-name", "data-testid": "conversation-name", text: name }),
        el("time", { class: "row-time", "data-testid": "conversation-time", text: shortTime(last?.timestamp), title: fullTime(last?.timestamp) })),
      el("span", { class: "row-bottom" },
        el("span", { class: "row-preview", "data-testid": "conversation-last", text: preview }),
        c.unreadCount > 0
          ? el("span", { class: "badge", "data-testid": "unread-badge", text: c.unreadCount > 99 ? "99+" : String(c.unreadCount) })
          : null)));
  main.addEventListener("click", () => openChat(id));

  const li = el("li", {
    class: `conv-row${state.open === id ? " active" : ""}${state.selected.has(id) ? " selected" : ""}`,
    "data-testid": "conversation-row",
    dataset: { conversationId: id, unread: String(c.unreadCount) },
  }, state.selecting ? check : null, main, del);
  return li;
}

function trashIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", "M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h1.5v-8H10zm3.5 0v8H15v-8h-1.5z");
  svg.append(p);
  return svg;
}

async function refreshTotalUnread() {
  try { setTotalUnread(await state.conv.getTotalUnreadMessageCount()); } catch (e) { showError(e); }
}
function setTotalUnread(n) {
  const t = $("total-unread");
  t.dataset.count = String(n);
  t.textContent = `${n} unread`;
  t.classList.toggle("has-unread", n > 0);
  const tab = $("tab-unread");
  tab.hidden = n === 0;
  tab.textContent = String(n);
  document.title = `${n > 0 ? `(${n}) ` : ""}${state.user ?? "Chat"} · Chat SDK demo`;
}

function onDeleted(ids) {
  const gone = new Set(ids);
  state.conversations = state.conversations.filter((c) => !gone.has(c.conversationID));
  renderConversations();
  if (state.open && gone.has(state.open)) {
    state.messages = [];
    renderMessages();
    const n = $("chat-notice");
    n.textContent = "This conversation was deleted. Sending a new message starts it again.";
    n.hidden = false;
  }
  scheduleRefresh();
}

async function deleteOne(id, button) {
  clearError();
  if (button) button.disabled = true;
  try {
    await state.conv.deleteConversation(id);
    toast(`Deleted ${id}`);
  } catch (e) {
    showError(e);
  } finally {
    if (button) button.disabled = false;
    scheduleRefresh();
  }
}

// ---------- batch delete ----------

function extraIDs() {
  return $("extra-ids").value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}
function updateBatchBar() {
  const n = state.selected.size + extraIDs().length;
  $("selected-count").textContent = `${state.selected.size} selected${extraIDs().length ? ` + ${extraIDs().length} typed` : ""}`;
  $("delete-selected").disabled = n === 0;
}
function setSelecting(on) {
  state.selecting = on;
  if (!on) state.selected.clear();
  $("select-mode").setAttribute("aria-pressed", String(on));
  $("select-mode").textContent = on ? "Done" : "Select";
  $("batch-bar").hidden = !on;
  renderConversations();
}
async function deleteSelected() {
  clearError();
  // Order: rows in list order, then typed IDs; the SDK collapses duplicates.
  const ids = [
    ...state.conversations.map((c) => c.conversationID).filter((id) => state.selected.has(id)),
    ...extraIDs(),
  ];
  if (!ids.length) return;
  const clear = $("clear-history").checked;
  const btn = $("delete-selected");
  btn.disabled = true;
  try {
    const results = await state.conv.deleteConversationList(ids, clear);
    showResults(results, clear);
    state.selected.clear();
    $("extra-ids").value = "";
  } catch (e) {
    showError(e);
  } finally {
    updateBatchBar();
    scheduleRefresh();
  }
}
function showResults(results, clear) {
  const ok = results.filter((r) => r.resultCode === 0).length;
  const ul = $("batch-results-list");
  ul.replaceChildren(
    el("li", { class: "results-summary muted", text: `${ok} of ${results.length} deleted${clear ? ", history cleared" : ", history kept on server"}` }),
    ...results.map((r) => el("li", {
      class: `result ${r.resultCode === 0 ? "ok" : "fail"}`, "data-testid": "batch-result",
      dataset: { conversationId: r.conversationID, code: String(r.resultCode) },
    },
    el("span", { class: "result-id", text: r.conversationID }),
    el("span", { class: "result-code", "data-testid": "batch-result-code", text: r.resultCode === 0 ? "0 · deleted" : String(r.resultCode) }),
    r.resultInfo ? el("span", { class: "result-info", "data-testid": "batch-result-info", text: r.resultInfo }) : null)));
  $("batch-results").hidden = false;
}

// ---------- chat ----------

// The open chat's kind and name: from the SDK's conversation once it exists, else from what the
// user typed to open it (state.openHint); conversation IDs are never parsed here.
function openChatInfo() {
  const c = state.conversations.find((x) => x.conversationID === state.open);
  if (c) return { isGroup: c.type === 2, name: c.showName || (c.type === 2 ? c.groupID : c.userID) || c.conversationID };
  return { isGroup: !!state.openHint?.isGroup, name: state.openHint?.name || state.open };
}

function setChatHeader() {
  const id = state.open;
  const { isGroup, name } = openChatInfo();
  $("chat-title").textContent = name;
  $("chat-id").textContent = id;
  paintAvatar($("chat-avatar"), name, isGroup);
}

/** hint: { isGroup, name } for a chat the SDK does not list yet (a new chat or group). */
async function openChat(id, hint = null) {
  clearError();
  state.open = id;
  state.openHint = hint;
  state.messages = [];
  $("chat-empty").hidden = true;
  $("chat-open").hidden = false;
  $("chat-notice").hidden = true;
  setChatHeader();
  for (const row of document.querySelectorAll('[data-testid="conversation-row"]')) {
    row.classList.toggle("active", row.dataset.conversationId === id);
  }
  renderMessages();
  setView("chat");
  $("send-input").focus({ preventScroll: true });
  const known = state.conversations.some((c) => c.conversationID === id);
  try {
    const list = await state.msg.getHistoryMessageList(id, 50);
    if (state.open !== id) return;
    mergeMessages(list);
  } catch (e) {
    if (state.open === id) showError(e);
  }
  if (known) markRead(id);
}

async function markRead(id) {
  try {
    await state.conv.cleanConversationUnreadMessageCount(id);
  } catch (e) {
    if (e && e.code === 2500) return; // not a conversation yet (no message so far)
    showError(e);
  }
}

function closeChat() {
  state.open = null;
  state.messages = [];
  $("chat-open").hidden = true;
  $("chat-empty").hidden = false;
  for (const row of document.querySelectorAll(".conv-row.active")) row.classList.remove("active");
  setView("list");
}

function mergeMessages(list) {
  const byID = new Map(state.messages.map((m) => [m.msgID, m]));
  for (const m of list) byID.set(m.msgID, m);
  state.messages = [...byID.values()].sort((a, b) => (a.seq - b.seq) || (a.timestamp - b.timestamp));
  renderMessages();
}

function renderMessages() {
  const ol = $("messages");
  const items = [];
  let lastDay = "";
  const { isGroup } = openChatInfo();
  for (const m of state.messages) {
    const day = new Date(m.timestamp).toDateString();
    if (day !== lastDay) {
      items.push(el("li", { class: "day-sep", text: new Date(m.timestamp).toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" }) }));
      lastDay = day;
    }
    const mine = m.sender === state.user;
    items.push(el("li", { class: `msg ${mine ? "mine" : "theirs"}`, "data-testid": "message", dataset: { msgId: m.msgID, sender: m.sender } },
      !mine && isGroup ? el("span", { class: "msg-sender", text: m.sender }) : null,
      el("span", { class: "msg-text", "data-testid": "message-text", text: m.text }),
      el("time", { class: "msg-time", text: shortTime(m.timestamp), title: fullTime(m.timestamp) })));
  }
  if (!state.messages.length && state.open) {
    items.push(el("li", { class: "no-messages muted", text: "No messages yet. Say hello." }));
  }
  ol.replaceChildren(...items);
  ol.scrollTop = ol.scrollHeight;
}

function onMessage(m) {
  if (m.conversationID === state.open) {
    $("chat-notice").hidden = true;
    mergeMessages([m]);
    if (!document.hidden && m.sender !== state.user) markRead(m.conversationID);
  }
}

async function send(text) {
  const id = state.open;
  if (!id || !text.trim()) return;
  clearError();
  const btn = $("send-button");
  btn.disabled = true;
  try {
    const m = await state.msg.sendTextMessage(id, text);
    $("send-input").value = "";
    autosize();
    $("chat-notice").hidden = true;
    if (state.open === id) mergeMessages([m]);
    scheduleRefresh();
  } catch (e) {
    showError(e);
  } finally {
    btn.disabled = false;
    $("send-input").focus();
  }
}

function autosize() {
  const t = $("send-input");
  t.style.height = "auto";
  t.style.height = `${Math.min(t.scrollHeight, 160)}px`;
}

// ---------- groups ----------

async function createGroup(form) {
  clearError();
  const data = new FormData(form);
  const groupID = String(data.get("groupID")).trim();
  const name = String(data.get("name")).trim();
  const members = String(data.get("members") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (!members.includes(state.user)) members.unshift(state.user);
  try {
    await fetchJSON("/dev/groups", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ groupID, name, members }),
    });
    form.reset();
    form.closest("details").open = false;
    toast(`Group "${name}" created with ${members.length} members`);
    openChat(idOf("group", groupID), { isGroup: true, name: name || groupID });
  } catch (e) {
    showError(e);
  }
}

// ---------- views (phone) ----------

function setView(v) {
  document.body.dataset.view = v;
  for (const t of document.querySelectorAll(".tab")) t.setAttribute("aria-current", String(t.dataset.tab === v));
}

// ---------- wiring ----------

function wire() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("login-user").value.trim();
    if (id) login(id);
  });
  for (const chip of document.querySelectorAll(".chip[data-user]")) {
    chip.addEventListener("click", () => { $("login-user").value = chip.dataset.user; login(chip.dataset.user); });
  }
  $("logout").addEventListener("click", logout);
  $("error-dismiss").addEventListener("click", clearError);
  $("open-second-device").addEventListener("click", () => {
    const url = new URL(location.pathname, location.origin);
    url.searchParams.set("user", state.user);
    url.searchParams.set("device", String(Number(DEVICE) + 1));
    window.open(url, "_blank", "noopener");
  });
  $("new-chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const kind = $("new-chat-kind").value;
    const target = $("new-chat-target").value.trim();
    if (!target) return;
    $("new-chat-target").value = "";
    openChat(idOf(kind, target), { isGroup: kind === "group", name: target });
  });
  $("create-group-form").addEventListener("submit", (e) => { e.preventDefault(); createGroup(e.currentTarget); });
  $("select-mode").addEventListener("click", () => setSelecting(!state.selecting));
  $("select-all").addEventListener("click", () => {
    const all = state.conversations.every((c) => state.selected.has(c.conversationID));
    state.selected = new Set(all ? [] : state.conversations.map((c) => c.conversationID));
    renderConversations();
  });
  $("extra-ids").addEventListener("input", updateBatchBar);
  $("delete-selected").addEventListener("click", deleteSelected);
  $("batch-results-close").addEventListener("click", () => { $("batch-results").hidden = true; });
  $("load-more").addEventListener("click", loadMore);
  $("chat-back").addEventListener("click", closeChat);
  $("chat-delete").addEventListener("click", () => state.open && deleteOne(state.open, $("chat-delete")));
  $("send-form").addEventListener("submit", (e) => { e.preventDefault(); send($("send-input").value); });
  $("send-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send($("send-input").value); }
  });
  $("send-input").addEventListener("input", autosize);
  $("log-clear").addEventListener("click", () => $("log").replaceChildren());
  for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => setView(t.dataset.tab));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.open && state.conversations.find((c) => c.conversationID === state.open)?.unreadCount) markRead(state.open);
  });
}

async function main() {
  wire();
  const infoP = loadInfo();
  try {
    await init();
  } catch (e) {
    showError(`Could not load the SDK package from /pkg/: ${errorText(e)}`);
    return;
  }
  await infoP;
  const auto = params.get("user");
  if (auto) {
    $("login-user").value = auto;
    await login(auto);
  } else {
    try { $("login-user").value = localStorage.getItem("chat-demo-user") || ""; } catch { /* ignore */ }
    $("login-user").focus();
  }
  document.body.dataset.ready = "true";
}

main();
