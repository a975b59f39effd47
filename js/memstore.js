// The store in memory (`storage: "memory"`, and where state lives when IndexedDB cannot be
// opened): js/idb.js's interface over Maps, so src/idb_store.rs drives both and the wasm carries
// no second store (the Rust one cost it 4 KB gzip). As there, Rust decides every write.
import { packConversations } from "./idb.js";

const [CONVERSATIONS, , MESSAGES, META, VERSIONS] = [0, 1, 2, 3, 4]; // js/idb.js STORES

class Memory {
  constructor() {
    // By store index: conversations and tombstones by conversationID, messages by conversationID
    // then seq, meta and versions by key.
    this.s = [new Map(), new Map(), new Map(), new Map(), new Map()];
  }

  close() {}

  async cursor() {
    return this.s[META].get("cursor");
  }

  async load() {
    const cursor = this.s[META].get("cursor");
    const newer = [...this.s[VERSIONS]].filter(([, v]) => v > (cursor ?? 0));
    return [...packConversations([...this.s[CONVERSATIONS].values()]), [...this.s[1].values()], cursor,
      newer.map(([k]) => k), newer.map(([, v]) => v)];
  }

  async messages(id, upper, upperOpen, count) {
    const list = [...(this.s[MESSAGES].get(id)?.values() ?? [])];
    return list.filter((m) => (upperOpen ? m.seq < upper : m.seq <= upper))
      .sort((a, b) => b.seq - a.seq).slice(0, count);
  }

  /** js/idb.js `apply`, all or nothing: the one write that can fail, an add of a present key,
   *  is checked before any is made. */
  async apply(_stores, versionIds, _floor, readCursor, prune, early, decide) {
    const [conversations, , messages, meta, versions] = this.s;
    const reads = [versionIds.map((id) => versions.get(id)), readCursor ? meta.get("cursor") : undefined];
    if (prune) reads.push([...conversations.keys()], [...versions.keys()], [...versions.values()]);
    const ops = [...early, ...decide(reads)];
    const added = new Set();
    for (let i = 0; i < ops.length; i += 4) {
      const key = `${ops[i]} ${ops[i + 3]}`;
      if (ops[i + 1] === 2 && (this.s[ops[i]].has(ops[i + 3]) || added.has(key))) {
        throw "ConstraintError: a record with this key exists";
      }
      if (ops[i + 1] === 0 || ops[i + 1] === 2) added.add(key);
    }
    const put = (store, v) => {
      if (store !== MESSAGES) return this.s[store].set(v.conversationID, v);
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

/** One SDK instance's memory stores, by name: a logout and a login again find the same state. */
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

/** A store of its own (the fallback when IndexedDB cannot be opened). */
export const inMemory = () => new Memory();
