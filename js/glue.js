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
const BY_VERSION = "byVersion"; // VERSIONS' index on the version (the value itself)
const NEWER_LIMIT = 64; // stored versions above a batch's read in one request, at most
const CURSOR = "cursor";
const STORES = [CONVERSATIONS, TOMBSTONES, MESSAGES, META, VERSIONS]; // as numbered by src/idb_store.rs

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
];

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

/** [text, ends, numbers (packed conversations), tombstones, cursor, version keys, version values]:
 *  the versions newer than the cursor only. */
function load(db) {
  return run(db, [CONVERSATIONS, TOMBSTONES, META, VERSIONS], "readonly", (tx) => {
    const cursor = tx.objectStore(META).get(CURSOR);
    const r = [tx.objectStore(CONVERSATIONS).getAll(), tx.objectStore(TOMBSTONES).getAll(), cursor];
    cursor.onsuccess = () => {
      const newer = IDBKeyRange.lowerBound(Number(cursor.result) || 0, true);
      const index = tx.objectStore(VERSIONS).index(BY_VERSION);
      r.push(index.getAllKeys(newer), index.getAll(newer));
    };
    return () => [...packConversations(r[0].result), ...r.slice(1).map((q) => q.result)];
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

/** One readwrite transaction over the STORES whose bits are set in `stores`: reads the stored
 *  versions of `versionIds` that are above `floor` (`WritePlan::floor`: the others cannot refuse a
 *  write, and are reported as undefined), the cursor (`readCursor`) and, for a reset (`prune`),
 *  the stored conversation IDs and every stored version; issues the `early` writes (which no read
 *  decides: the backend works on them while the reads come back and Rust decides); then, while
 *  the transaction is still active, `decide([versions, cursor, ids, keys, values])` (Rust)
 *  returns the other writes. Writes are a flat array of [store (index in STORES), op, a, b]:
 *  op 0 put(a, b), 1 delete(a), 2 add(a, b), 3 delete conversation b's messages with seq ≤ a,
 *  4 put each of the array a except the indexes in b. */
function apply(db, stores, versionIds, floor, readCursor, prune, early, decide) {
  return run(db, STORES.filter((_, i) => (stores >> i) & 1), "readwrite", (tx, fail) => {
    const store = (n) => tx.objectStore(n);
    const issue = (ops) => {
      for (let i = 0; i < ops.length; i += 4) {
        const s = store(STORES[ops[i]]), a = ops[i + 2], b = ops[i + 3];
        switch (ops[i + 1]) {
          case 0: b === undefined ? s.put(a) : s.put(a, b); break;
          case 1: s.delete(a); break;
          case 2: s.add(a, b); break;
          case 3: s.delete(IDBKeyRange.bound([b, -Infinity], [b, a])); break;
          case 4: { const skip = new Set(b); a.forEach((v, j) => skip.has(j) || s.put(v)); }
        }
      }
    };
    // Usually none is newer than the batch (its versions are the newest changes): two requests
    // instead of one per conversation.
    const versions = versionIds.length ? store(VERSIONS) : undefined;
    const above = IDBKeyRange.lowerBound(floor, true);
    const newer = versions && [versions.index(BY_VERSION).getAllKeys(above, NEWER_LIMIT),
      versions.index(BY_VERSION).getAll(above, NEWER_LIMIT)];
    const cursor = readCursor ? store(META).get(CURSOR) : undefined;
    const pruned = prune ? [store(CONVERSATIONS).getAllKeys(), store(VERSIONS).getAllKeys(), store(VERSIONS).getAll()] : [];
    issue(early);
    const write = (stored) => {
      try {
        issue(decide([stored, cursor?.result, ...pruned.map((r) => r.result)]));
      } catch (e) {
        fail(e);
      }
    };
    const read = () => {
      if (!newer) return write([]);
      const [keys, values] = newer.map((r) => r.result);
      if (keys.length < NEWER_LIMIT) {
        const found = new Map(keys.map((k, i) => [k, values[i]]));
        return write(versionIds.map((id) => found.get(id)));
      }
      // Many are newer (a batch of old versions, such as a reset's): read the batch's own.
      const gets = versionIds.map((id) => versions.get(id));
      gets[gets.length - 1].onsuccess = () => write(gets.map((r) => r.result));
    };
    // Requests of one transaction complete in order: the last read's success means all are read.
    const last = pruned[2] ?? cursor ?? newer?.[1];
    if (last) last.onsuccess = read;
    else read();
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
const [C, T, M, X, V] = STORES.map((_, i) => i);

class Memory {
  constructor() {
    // By store index: conversations and tombstones by conversationID, messages by conversationID
    // then seq, meta and versions by key.
    this.s = [new Map(), new Map(), new Map(), new Map(), new Map()];
  }

  close() {}

  async cursor() {
    return this.s[X].get(CURSOR);
  }

  async load() {
    const cursor = this.s[X].get(CURSOR);
    const newer = [...this.s[V]].filter(([, v]) => v > (cursor ?? 0));
    return [...packConversations([...this.s[C].values()]), [...this.s[T].values()], cursor,
      newer.map(([k]) => k), newer.map(([, v]) => v)];
  }

  async messages(id, upper, upperOpen, count) {
    const list = [...(this.s[M].get(id)?.values() ?? [])];
    return list.filter((m) => (upperOpen ? m.seq < upper : m.seq <= upper))
      .sort((a, b) => b.seq - a.seq).slice(0, count);
  }

  /** `apply` above. No write can fail here: an add (made only by the test hook that fails an
   *  IndexedDB transaction) is a put. */
  async apply(_stores, versionIds, _floor, readCursor, prune, early, decide) {
    const [conversations, , messages, meta, versions] = this.s;
    const reads = [versionIds.map((id) => versions.get(id)), readCursor ? meta.get(CURSOR) : undefined];
    if (prune) reads.push([...conversations.keys()], [...versions.keys()], [...versions.values()]);
    const ops = [...early, ...decide(reads)];
    const put = (store, v) => {
      if (store !== M) return this.s[store].set(v.conversationID, v);
      const list = messages.get(v.conversationID) ?? new Map();
      messages.set(v.conversationID, list.set(v.seq, v));
    };
    for (let i = 0; i < ops.length; i += 4) {
      const store = this.s[ops[i]], a = ops[i + 2], b = ops[i + 3];
      switch (ops[i + 1]) {
        case 0: case 2: store.set(b, a); break;
        case 1: store.delete(a); break;
        case 3: for (const seq of store.get(b)?.keys() ?? []) if (seq <= a) store.get(b).delete(seq); break;
        case 4: { const skip = new Set(b); a.forEach((v, j) => skip.has(j) || put(ops[i], v)); }
      }
    }
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
