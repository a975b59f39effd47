// Everything the wasm imports from hand-written JavaScript, in one module (one request, and gzip
// shares what the parts have in common: 370 B less than four files): ChatError, the HTTP request,
// the push WebSocket and tab channel queues, and the stores' I/O (IndexedDB, and memory). Each part
// does I/O only; every decision stays in Rust.

// ===== ChatError (src/errors.rs) =====

// ChatError must be a real Error subclass (instanceof Error, a stack), which a Rust-exported
// class cannot be; the SDK creates its errors through this constructor, and the package entry
// re-exports this very class (so it works before the wasm is loaded).
export class ChatError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ChatError";
    this.code = code;
  }
}

// ===== HTTP (src/http.rs) =====

// One HTTP request for the wasm, in plain JS: the wasm then imports one function instead of the
// Request/Headers/Response/AbortController bindings (and gloo-net's wrapper around them).
// Resolves [status, text]; rejects with "timeout" when no answer came within timeoutMs, otherwise
// with the error's text.
export function request(method, url, sig, body, timeoutMs) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  const headers = {};
  if (sig) headers.Authorization = `Bearer ${sig}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, { method, headers, body, signal: controller.signal })
    .then((response) => response.text().then((text) => [response.status, text]))
    .catch((e) => { throw timedOut ? "timeout" : String(e); })
    .finally(() => clearTimeout(timer));
}

// ===== Push socket and tab channel (src/events.rs) =====

// The push WebSocket and the cross-tab BroadcastChannel for the wasm, in plain JS: each queues
// what arrives and the wasm takes it in a loop (`ready` then `take`), so the wasm needs neither a
// closure per handler nor a channel of its own, nor the web-sys bindings of either API.
// `take` returns a text (a frame or a tab message), OPEN, CLOSED, or undefined when the queue is empty.
const OPEN = 0, CLOSED = 1;

class Queue {
  constructor() { this.q = []; this.wake = null; }
  put(e) {
    this.q.push(e);
    if (this.wake) { this.wake(); this.wake = null; }
  }
  /** Resolves when something is queued (at once if something is). */
  ready() { return this.q.length ? Promise.resolve() : new Promise((r) => { this.wake = r; }); }
  take() { return this.q.shift(); }
  /** The next queued item if it is a text, else undefined (and it stays queued). */
  takeText() { return typeof this.q[0] === "string" ? this.q.shift() : undefined; }
}

/** Throws (a SyntaxError) when the URL cannot be used. */
export class PushSocket extends Queue {
  constructor(url) {
    super();
    const ws = this.ws = new WebSocket(url);
    ws.onopen = () => this.put(OPEN);
    ws.onmessage = (e) => { if (typeof e.data === "string") this.put(e.data); };
    ws.onclose = () => this.put(CLOSED);
  }
  /** The socket's close event ends the wasm's loop. */
  close() { this.ws.close(); }
}

/** Throws where BroadcastChannel is unavailable. */
export class TabChannel extends Queue {
  constructor(name) {
    super();
    this.ch = new BroadcastChannel(name);
    this.ch.onmessage = (e) => { if (typeof e.data === "string") this.put(e.data); };
  }
  post(text) { this.ch.postMessage(text); }
  /** Stops receiving; the wasm's loop ends at CLOSED. */
  close() { this.ch.onmessage = null; this.ch.close(); this.put(CLOSED); }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ===== Stores (src/idb_store.rs) =====

// The stores' I/O for src/idb_store.rs, in plain JS: IndexedDB (`open`), and the same interface
// over Maps (`MemoryStores`, `inMemory`: `storage: "memory"`, and where state lives when
// IndexedDB cannot be opened). The IndexedDB requests through web-sys cost the wasm ~24 KB (async
// state machines, closures and an import shim per call), a Rust memory store 4 KB more. Decisions
// stay in Rust: `apply` asks it, inside the transaction, what to write. Every failure rejects
// with a string naming the DOM error ("Name: message"). One module: gzip shares what the two
// have in common.
const CONVERSATIONS = "conversations";
const TOMBSTONES = "tombstones";
const MESSAGES = "messages";
const META = "meta";
const VERSIONS = "versions"; // conversationID → the feed version of what is stored of it
const BY_VERSION = "byVersion"; // the index on the version (VERSIONS' value; from MIGRATIONS[3], the record's `v`)
const CURSOR = "cursor";
const FEW = 8; // conversations a write reads one by one (`apply`)
const STORES = [CONVERSATIONS, TOMBSTONES, MESSAGES, META, VERSIONS]; // as numbered by src/idb_store.rs
const [C, T, , X, V] = STORES.map((_, i) => i);

// One schema step per version: MIGRATIONS[n] takes a database from version n to n + 1 (inside the
// versionchange transaction). Append, never edit: users' databases are at every version.
const MIGRATIONS = [
  (db) => {
    db.createObjectStore(CONVERSATIONS, { keyPath: "conversationID" });
    db.createObjectStore(TOMBSTONES, { keyPath: "conversationID" });
    // Keyed [conversationID, seq]: one conversation is one contiguous, ordered key range.
    db.createObjectStore(MESSAGES, { keyPath: ["conversationID", "seq"] });
    db.createObjectStore(META); // out-of-line keys: "cursor" → number
  },
  // Stored versions (out-of-line keys, so a version outlives its record's removal). Records of an
  // older database have none: they count as version 0.
  (db) => db.createObjectStore(VERSIONS),
  // Load reads only the versions newer than the cursor (the others count as it): a key range of
  // this index instead of every stored version (10,000 keys and values were a third of login's
  // reads).
  (db, tx) => tx.objectStore(VERSIONS).createIndex(BY_VERSION, ""),
  // One record per conversation (`compose`) holds its tombstone and version too: a deletion is one
  // put instead of a removal, a tombstone and a version (the local part of deleting 100
  // conversations took 1.5× a plain removal, now about as long).
  (db, tx) => {
    const s = (n) => tx.objectStore(n);
    const r = [s(CONVERSATIONS).getAll(), s(TOMBSTONES).getAll(), s(VERSIONS).getAllKeys(), s(VERSIONS).getAll()];
    s(CONVERSATIONS).createIndex(BY_VERSION, "v");
    r[3].onsuccess = () => {
      const [all, tombs, keys, values] = r.map((q) => q.result), byId = new Map();
      const at = (id) => byId.get(id) ?? byId.set(id, { conversationID: id }).get(id);
      all.forEach((c) => byId.set(c.conversationID, c));
      tombs.forEach((t) => { at(t.conversationID).t = t; });
      keys.forEach((id, i) => { at(id).v = values[i]; });
      byId.forEach((c) => s(CONVERSATIONS).put(c));
      db.deleteObjectStore(TOMBSTONES);
      db.deleteObjectStore(VERSIONS);
    };
  },
];
// Where each of STORES lives from MIGRATIONS[3] on: tombstones and versions in the conversations'
// records.
const HOME = [CONVERSATIONS, CONVERSATIONS, MESSAGES, META, CONVERSATIONS];

/** A stored record: a conversation's own fields while it exists (`type` is set), its tombstone
 *  `t` and its version `v`, from `parse`'s parts: the new ones (0 removes, undefined keeps
 *  `old`'s). */
function compose(old = {}, id, { [C]: c = old, [T]: t = old.t, [V]: v = old.v }) {
  const r = c || {};
  r.conversationID = id;
  t ? (r.t = t) : delete r.t;
  v === undefined ? delete r.v : (r.v = v);
  return r.type !== undefined || t || v !== undefined ? r : undefined;
}

const detail = (e) => (e == null ? "transaction aborted" : e.name ? `${e.name}: ${e.message}` : String(e));

/** Opens `name` at `version`, migrating older databases; resolves to the store's interface. */
export function open(name, version) {
  return new Promise((resolve, reject) => {
    if (!globalThis.indexedDB) throw "IndexedDB is not available in this environment";
    let failure;
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = (e) => {
      for (let v = e.oldVersion; v < version; v++) {
        try {
          MIGRATIONS[v](req.result, req.transaction);
        } catch (err) {
          failure = `migration to version ${v + 1}: ${detail(err)}`;
          return req.transaction.abort();
        }
      }
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading (or deleting) this database must not be blocked by us.
      db.onversionchange = () => db.close();
      resolve({
        close: () => db.close(),
        load: () => load(db),
        cursor: () => cursor(db),
        messages: (...a) => messages(db, ...a),
        apply: (...a) => apply(db, ...a),
      });
    };
    req.onerror = () => reject(failure ?? detail(req.error));
    // Another tab keeps an older version open: that can last forever, so fail now. The request
    // stays pending: when the other tab lets go, abort our upgrade and close what nobody uses.
    req.onblocked = () => {
      req.onupgradeneeded = () => req.transaction.abort();
      req.onsuccess = () => req.result.close();
      req.onerror = (e) => e.preventDefault();
      reject("blocked by another tab that keeps an older version open");
    };
  }).catch((e) => { throw typeof e === "string" ? e : detail(e); });
}

// One transaction: `issue(tx, fail)` makes its requests and returns what to resolve with on
// `complete` (a function, called then). Any throw, or `fail(e)`, aborts the whole transaction.
function run(db, names, mode, issue) {
  return new Promise((resolve, reject) => {
    let failure, out;
    const tx = db.transaction(names, mode);
    const fail = (e) => {
      failure = detail(e);
      try { tx.abort(); } catch { /* already finished */ }
    };
    tx.oncomplete = () => {
      try { resolve(out?.()); } catch (e) { reject(detail(e)); }
    };
    tx.onabort = () => reject(failure ?? detail(tx.error));
    try { out = issue(tx, fail); } catch (e) { fail(e); }
  }).catch((e) => { throw typeof e === "string" ? e : detail(e); });
}

/** Of stored records: [the conversations, the tombstones, the IDs and versions of those whose
 *  version is above `above`]. */
function split(records, above) {
  const r = [[], [], [], []];
  for (const c of records) {
    if (c.type !== undefined) r[0].push(c);
    if (c.t) r[1].push(c.t);
    if (c.v > above) r[2].push(c.conversationID), r[3].push(c.v);
  }
  return r;
}

/** `load`'s result, of every stored record and the cursor: [text, ends, numbers (packed
 *  conversations), tombstones, cursor, version keys, version values] (those above the cursor). */
function loaded(records, cursor) {
  const [live, ...rest] = split(records, Number(cursor) || 0);
  rest.splice(1, 0, cursor);
  return [...packConversations(live), ...rest];
}

/** What `decide` reads: the stored versions, the cursor, of every stored record (`all`, a
 *  reset's) the conversation IDs and all versions, and the stored tombstones `tombs`. */
const reads = (stored, cursor, all, tombs) => {
  const [live, , keys, values] = all ? split(all, -1) : [];
  return [stored, cursor, live?.map((c) => c.conversationID), keys, values, tombs];
};

/** Calls `f` with each of `values` but those at the indexes `skip`. */
const each = (values, skip, f) => {
  skip = new Set(skip);
  values.forEach((v, j) => skip.has(j) || f(v));
};

/** The writes (see `apply`) to the records, as `compose`'s parts by conversationID ([record,
 *  tombstone, , , version], 0 removes), and `other(store, op, a, b)` for the rest. Plain loops and
 *  no closure per write: this runs once per batch, before the JIT has optimized it. */
function parse(ops, other) {
  const parts = new Map();
  const part = (id, n, v) => { (parts.get(id) ?? parts.set(id, []).get(id))[n] = v; };
  for (let i = 0; i < ops.length; i += 4) {
    const n = ops[i], op = ops[i + 1], a = ops[i + 2], b = ops[i + 3];
    // Versions are put by key, records and tombstones by value; either removed by key.
    if (HOME[n] !== CONVERSATIONS) other(n, op, a, b);
    else if (op === 4) each(a, b, (v) => part(v.conversationID, n, v));
    else op ? part(a, n, 0) : part(b, n, a);
  }
  return parts;
}

/** `load`, from IndexedDB. */
function load(db) {
  return run(db, [CONVERSATIONS, META], "readonly", (tx) => {
    const cursor = tx.objectStore(META).get(CURSOR), all = tx.objectStore(CONVERSATIONS).getAll();
    return () => loaded(all.result, cursor.result);
  });
}

/** The stored cursor (undefined when none). */
function cursor(db) {
  return run(db, [META], "readonly", (tx) => {
    const r = tx.objectStore(META).get(CURSOR);
    return () => r.result;
  });
}

/** Up to `count` messages of a conversation, newest first, below seq `upper` (`upperOpen`) or at it. */
function messages(db, id, upper, upperOpen, count) {
  return run(db, [MESSAGES], "readonly", (tx) => {
    const out = [];
    const range = IDBKeyRange.bound([id, -Infinity], [id, upper], false, upperOpen);
    const req = tx.objectStore(MESSAGES).openCursor(range, "prev");
    req.onsuccess = () => {
      const c = req.result; // null: the range is exhausted
      if (!c) return;
      out.push(c.value);
      if (out.length < count) c.continue();
    };
    return () => out;
  });
}

/** One readwrite transaction (over every object store: the SDK's writes are one at a time
 *  anyway): reads the stored versions of `versionIds` (of a large batch, only those above `floor`,
 *  `WritePlan::floor`: the others cannot refuse a write, and are reported as undefined), the
 *  tombstones of `cachedIds` (`StoreBatch::cached_conversations`), the cursor (`readCursor`)
 *  and, for a reset (`prune`), the stored conversation IDs and every stored version; issues the
 *  `early` writes (which no read decides: the backend works on them while the reads come back and
 *  Rust decides); then, while the transaction is still active, `decide([versions, cursor, ids,
 *  keys, values, tombstones])` (Rust) returns the other writes. Writes are a flat array of [store (index in
 *  STORES), op, a, b]: op 0 put(a, b), 1 delete(a), 2 add(a, b), 3 delete conversation b's
 *  messages with seq ≤ a, 4 put each of the array a except the indexes in b. The records of
 *  conversations, tombstones and versions are one object store's (`parse`, `compose`). */
function apply(db, versionIds, floor, readCursor, prune, cachedIds, early, decide) {
  return run(db, [CONVERSATIONS, MESSAGES, META], "readwrite", (tx, fail) => {
    const store = (n) => tx.objectStore(n);
    // `known`: stored records already read, by conversationID (undefined: none is stored).
    const issue = (ops, known) => parse(ops, (n, op, a, b) => {
      const s = store(HOME[n]);
      op === 3 ? s.delete(IDBKeyRange.bound([b, -Infinity], [b, a])) : op === 4 ? each(a, b, (v) => s.put(v)) : s[op ? "add" : "put"](a, b);
    }).forEach((p, id) => {
      const s = store(CONVERSATIONS), write = (old) => {
        const r = compose(old, id, p);
        r ? s.put(r) : s.delete(id);
      };
      // Written whole (record or removal, tombstone, version: a deletion) without a read.
      if (Object.keys(p).length > 2) return write();
      if (known?.has(id)) return write(known.get(id));
      const get = s.get(id);
      get.onsuccess = () => write(get.result);
    });
    // A few conversations (a push, a send) are read whole, one request each: their versions, and
    // what a partial write keeps. Of more (a deletion list, a sync page), only the records newer
    // than the batch's oldest version, through the index: usually none (a batch's versions are
    // the newest changes), and a batch of old versions, such as a lagging tab's, reads more,
    // never wrongly.
    const home = versionIds.length || prune ? store(CONVERSATIONS) : undefined;
    const few = versionIds.length <= FEW;
    const gets = few ? versionIds.map((id) => home.get(id)) : [];
    const newer = few ? undefined : home.index(BY_VERSION).getAll(IDBKeyRange.lowerBound(floor, true));
    const tombs = cachedIds.map((id) => store(CONVERSATIONS).get(id));
    const cursor = readCursor ? store(META).get(CURSOR) : undefined;
    const all = prune ? home.getAll() : undefined;
    issue(early);
    const write = () => {
      try {
        const known = new Map(few ? gets.map((g, i) => [versionIds[i], g.result]) : newer.result.map((c) => [c.conversationID, c]));
        const stored = reads(versionIds.map((id) => known.get(id)?.v), cursor?.result, all?.result, tombs.map((g) => g.result?.t));
        issue(decide(stored), known);
      } catch (e) {
        fail(e);
      }
    };
    // Requests of one transaction complete in order: the last read's success means all are read.
    const last = all ?? cursor ?? tombs.at(-1) ?? newer ?? gets.at(-1);
    last ? (last.onsuccess = write) : write();
  });
}

// The bulk read at login, packed for the wasm: 10,000 stored conversations cross the boundary as
// one string (every string field, concatenated, with UTF-16 end offsets) and one array of numbers,
// instead of dozens of calls per record (field-by-field conversion made the cold start 3× slower).
const NUMBERS_PER_RECORD = 6;

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const isText = (v) => typeof v === "string";

/** [text, ends: Uint32Array (8 per record), numbers: Float64Array (6 per record)]. Numbers per
 *  record: type, unreadCount, orderKey, flags (1 userID, 2 groupID, 4 lastMessage, 8 malformed),
 *  lastMessage.timestamp, lastMessage.seq. Field by field into one growing string: this runs once
 *  per page, mostly before the JIT has optimized it (a loop over field-name lists with a join
 *  took 1.6× as long). */
function packConversations(list) {
  const count = list.length;
  const ends = new Uint32Array(count * 8);
  const numbers = new Float64Array(count * NUMBERS_PER_RECORD);
  let text = "", e = 0, n = 0;
  // A missing string adds nothing: its end is the previous one.
  const add = (v) => {
    if (isText(v)) text += v;
    ends[e++] = text.length;
  };
  for (let i = 0; i < count; i++) {
    const c = list[i], m = c.lastMessage;
    const user = c.userID, group = c.groupID;
    add(c.conversationID);
    add(user);
    add(group);
    add(c.showName);
    add(m?.msgID);
    add(m?.conversationID);
    add(m?.sender);
    add(m?.text);
    const ok = isText(c.conversationID) && isText(c.showName) && (c.type === 1 || c.type === 2)
      && isCount(c.unreadCount) && isCount(c.orderKey)
      && (user === undefined || isText(user)) && (group === undefined || isText(group))
      && (!m || (isText(m.msgID) && isText(m.conversationID) && isText(m.sender) && isText(m.text)
        && isCount(m.timestamp) && isCount(m.seq)));
    numbers[n++] = c.type;
    numbers[n++] = c.unreadCount;
    numbers[n++] = c.orderKey;
    numbers[n++] = (isText(user) ? 1 : 0) | (isText(group) ? 2 : 0) | (m ? 4 : 0) | (ok ? 0 : 8);
    numbers[n++] = m ? m.timestamp : 0;
    numbers[n++] = m ? m.seq : 0;
  }
  return [text, ends, numbers];
}

// ---- In memory ----

class Memory {
  constructor() {
    // The records (`compose`) and the meta values by key, the messages by conversationID then seq.
    this.s = [new Map(), new Map(), new Map()];
  }

  close() {}

  async cursor() {
    return this.s[1].get(CURSOR);
  }

  async load() {
    return loaded([...this.s[0].values()], await this.cursor());
  }

  async messages(id, upper, upperOpen, count) {
    const list = [...(this.s[2].get(id)?.values() ?? [])];
    return list.filter((m) => (upperOpen ? m.seq < upper : m.seq <= upper))
      .sort((a, b) => b.seq - a.seq).slice(0, count);
  }

  /** `apply` above. No write can fail here: an add (made only by the test hook that fails an
   *  IndexedDB transaction) is a put. */
  async apply(versionIds, _floor, readCursor, prune, cachedIds, early, decide) {
    const [records, meta, messages] = this.s;
    const ops = [...early, ...decide(reads(versionIds.map((id) => records.get(id)?.v),
      readCursor ? meta.get(CURSOR) : undefined, prune ? [...records.values()] : undefined,
      cachedIds.map((id) => records.get(id)?.t)))];
    parse(ops, (n, op, a, b) => {
      if (n === X) return meta.set(b, a);
      if (op === 3) for (const seq of messages.get(b)?.keys() ?? []) seq > a || messages.get(b).delete(seq);
      else each(a, b, (m) => messages.set(m.conversationID, (messages.get(m.conversationID) ?? new Map()).set(m.seq, m)));
    }).forEach((p, id) => {
      const r = compose(records.get(id), id, p);
      r ? records.set(id, r) : records.delete(id);
    });
  }
}

/** One SDK instance's memory stores, by name: a logout and a login again find the same state.
 *  (A fallback store is the one store of a `MemoryStores` of its own.) */
export class MemoryStores {
  constructor() {
    this.byName = new Map();
  }

  open(name) {
    const m = this.byName.get(name) ?? new Memory();
    this.byName.set(name, m);
    return m;
  }
}
