//! The browser's `Store`s: IndexedDB (one database per namespace, named `Namespace::key()`) and,
//! through the same adapter (`IdbStore`), the JS memory store of `storage: "memory"` and of the
//! fallback when IndexedDB cannot be opened.
//!
//! The I/O is plain JS (js/glue.js: schema migrations, transactions, requests), which is a small
//! fraction of what the same calls cost the wasm through web-sys; what is read and what is written
//! is decided here (`WritePlan`), so a JS `apply` asks this module, synchronously inside its
//! transaction, for the writes. Each operation awaits one JS promise, rejected with the DOM
//! error's text.
//!
//! Values are the model's JSON shapes, stored as plain objects (converted by `records`; the bulk
//! read of conversations at login is packed by js/glue.js); u64 fields are JS numbers, exact below
//! 2^53.

use crate::records::{decode, encode as to_object, FromJs, ToJs};
use async_trait::async_trait;
use chat_core::error::{ChatError, Result};
use chat_core::model::{Conversation, Message, Tombstone};
use chat_core::store::{Namespace, Snapshot, Store, StoreBatch, StoreOpener, WritePlan};
use js_sys::{Array, Promise};
#[cfg(feature = "test-hooks")]
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What is written, by its index in js/glue.js `STORES` (a number crosses to JS faster than a
/// string). In IndexedDB, a conversation's record, tombstone and version are one record of the
/// conversations' object store (js/glue.js `compose`): a deletion is one put.
const CONVERSATIONS: u32 = 0;
const TOMBSTONES: u32 = 1;
const MESSAGES: u32 = 2;
const META: u32 = 3;
/// conversationID → the feed version of what is stored of it (see `StoreBatch::versions`).
const VERSIONS: u32 = 4;
const CURSOR_KEY: &str = "cursor";

/// The schema version this build opens: one per migration of js/glue.js (`MIGRATIONS`).
pub const DB_VERSION: u32 = 4;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// Resolves to a `Handle` over the database.
    #[wasm_bindgen(js_name = open)]
    fn idb_open(name: &str, version: u32) -> Promise;
    /// One SDK instance's memory stores, by name.
    #[derive(Clone)]
    type MemoryStores;
    #[wasm_bindgen(constructor)]
    fn new() -> MemoryStores;
    #[wasm_bindgen(method)]
    fn open(this: &MemoryStores, name: &str) -> Handle;
}

#[wasm_bindgen]
extern "C" {
    /// A store's JS interface (js/glue.js): an IndexedDB database or a memory store. Every
    /// method but `close` returns a promise.
    type Handle;
    #[wasm_bindgen(method)]
    fn close(this: &Handle);
    #[wasm_bindgen(method)]
    fn load(this: &Handle) -> Promise;
    #[wasm_bindgen(method)]
    fn cursor(this: &Handle) -> Promise;
    #[wasm_bindgen(method)]
    fn messages(this: &Handle, id: &str, upper: f64, upper_open: bool, count: u32) -> Promise;
    #[wasm_bindgen(method)]
    fn apply(
        this: &Handle,
        version_ids: Array,
        floor: f64,
        read_cursor: bool,
        prune: bool,
        cached_ids: Array,
        early: Array,
        decide: &Closure<dyn FnMut(Array) -> Array>,
    ) -> Promise;
}

/// Awaits a js/glue.js promise; its rejection (the DOM error's text) becomes a 6019 naming `what`.
async fn settle(promise: Promise, what: &str) -> Result<JsValue> {
    JsFuture::from(promise).await.map_err(|e| {
        let detail = e.as_string();
        ChatError::database(format!(
            "{what}: {}",
            detail.as_deref().unwrap_or("an unknown error")
        ))
    })
}

/// A list as a JS array of plain objects, or `undefined` when empty.
fn encode<T: ToJs>(values: &[T]) -> Result<JsValue> {
    if values.is_empty() {
        return Ok(JsValue::UNDEFINED);
    }
    to_object(values).map_err(|e| ChatError::database(format!("apply: encode: {e}")))
}

const STRINGS_PER_RECORD: usize = 8;
const NUMBERS_PER_RECORD: usize = 6;

/// The stored conversations, read from the three values js/glue.js `packConversations` makes of
/// them (the first three of `load`'s result).
fn unpack_conversations(packed: &Array) -> Result<Vec<Conversation>> {
    let unreadable = || ChatError::database("load: stored conversation unreadable");
    let text = packed.get(0).as_string().unwrap_or_default();
    let ends = js_sys::Uint32Array::new(&packed.get(1));
    let numbers = js_sys::Float64Array::new(&packed.get(2));
    let count = numbers.length() as usize / NUMBERS_PER_RECORD;
    if ends.length() as usize != count * STRINGS_PER_RECORD {
        return Err(unreadable());
    }
    // Offsets and numbers are copied a chunk at a time, and each string is cut as its end is
    // reached: whole copies would add to login's peak memory (which the wasm never gives back).
    let (mut units, mut byte, mut chars) = (0u32, 0usize, text.chars());
    // UTF-16 end offsets (JavaScript's) are byte offsets (Rust's) when all is ASCII, as IDs are.
    let ascii = text.is_ascii();
    let mut next_string = |end: u32| {
        let start = byte;
        if ascii {
            byte = (end as usize).min(text.len()).max(start);
        }
        while units < end && !ascii {
            let Some(c) = chars.next() else { break };
            units += c.len_utf16() as u32;
            byte += c.len_utf8();
        }
        text.get(start..byte).unwrap_or_default().to_owned()
    };
    const CHUNK: usize = 256;
    let mut chunk_ends = vec![0u32; CHUNK * STRINGS_PER_RECORD];
    let mut chunk_numbers = vec![0f64; CHUNK * NUMBERS_PER_RECORD];
    let mut out = Vec::with_capacity(count);
    for first in (0..count).step_by(CHUNK) {
        let len = CHUNK.min(count - first);
        let e = &mut chunk_ends[..len * STRINGS_PER_RECORD];
        let at = (first * STRINGS_PER_RECORD) as u32;
        ends.subarray(at, at + e.len() as u32).copy_to(e);
        let n = &mut chunk_numbers[..len * NUMBERS_PER_RECORD];
        let at = (first * NUMBERS_PER_RECORD) as u32;
        numbers.subarray(at, at + n.len() as u32).copy_to(n);
        let records = e.chunks_exact(STRINGS_PER_RECORD);
        for (e, n) in records.zip(n.chunks_exact(NUMBERS_PER_RECORD)) {
            let mut s: [String; STRINGS_PER_RECORD] = Default::default();
            for (slot, &end) in s.iter_mut().zip(e) {
                *slot = next_string(end);
            }
            let [conversation_id, user_id, group_id, show_name, msg_id, message_conversation_id, sender, text] =
                s;
            let flags = n[3] as u32;
            if flags & 8 != 0 {
                return Err(unreadable());
            }
            out.push(Conversation {
                conversation_id,
                kind: n[0] as u8,
                user_id: (flags & 1 != 0).then_some(user_id),
                group_id: (flags & 2 != 0).then_some(group_id),
                show_name,
                unread_count: n[1] as u32,
                last_message: (flags & 4 != 0).then(|| Message {
                    msg_id,
                    conversation_id: message_conversation_id,
                    sender,
                    text,
                    timestamp: n[4] as u64,
                    seq: n[5] as u64,
                }),
                order_key: n[2] as u64,
            });
        }
    }
    Ok(out)
}

fn from_js<T: FromJs>(value: JsValue, what: &str) -> Result<T> {
    decode(&value)
        .map_err(|e| ChatError::database(format!("{what}: stored record unreadable: {e}")))
}

/// Opens one IndexedDB database per namespace. Stateless: every `open` is a new connection.
/// (Not a unit struct, so `IdbOpener::default()` reads naturally and fields can be added.)
#[derive(Clone, Copy, Debug, Default)]
pub struct IdbOpener {
    _private: (),
}

impl IdbOpener {
    pub fn new() -> Self {
        Self::default()
    }

    /// `open`, returning the concrete store. Fails (6019) when IndexedDB is missing or refuses,
    /// the database is newer than this build, a migration fails, or another tab blocks the
    /// upgrade (js/glue.js `open`): the engine then falls back to memory.
    pub async fn open_idb(&self, namespace: &Namespace) -> Result<IdbStore> {
        let name = namespace.key();
        let db = settle(idb_open(&name, DB_VERSION), &format!("cannot open {name}")).await?;
        Ok(IdbStore::new(db.unchecked_into()))
    }
}

#[async_trait(?Send)]
impl StoreOpener for IdbOpener {
    async fn open(&self, namespace: &Namespace) -> Result<Rc<dyn Store>> {
        Ok(Rc::new(self.open_idb(namespace).await?))
    }

    fn fallback(&self) -> Rc<dyn Store> {
        own_memory_store()
    }
}

/// Where state lives when a store cannot be opened: a JS memory store of its own (the one store
/// of a `MemoryStores` nobody else holds).
fn own_memory_store() -> Rc<dyn Store> {
    Rc::new(IdbStore::new(MemoryStores::new().open("")))
}

/// `storage: "memory"`: one memory store per namespace for the life of the SDK instance, so a
/// logout and a login again find the same state, and two users never share one.
#[derive(Clone)]
pub struct JsMemoryOpener {
    stores: MemoryStores,
}

impl Default for JsMemoryOpener {
    fn default() -> Self {
        Self {
            stores: MemoryStores::new(),
        }
    }
}

#[async_trait(?Send)]
impl StoreOpener for JsMemoryOpener {
    async fn open(&self, namespace: &Namespace) -> Result<Rc<dyn Store>> {
        Ok(Rc::new(IdbStore::new(self.stores.open(&namespace.key()))))
    }

    fn fallback(&self) -> Rc<dyn Store> {
        own_memory_store()
    }
}

/// One open store: a connection to a namespace's database (an `IDBDatabase`) or, with the same
/// interface, a memory store.
pub struct IdbStore {
    db: Handle,
    #[cfg(feature = "test-hooks")]
    fail_next_apply: Cell<bool>,
}

impl IdbStore {
    fn new(db: Handle) -> Self {
        IdbStore {
            db,
            #[cfg(feature = "test-hooks")]
            fail_next_apply: Cell::new(false),
        }
    }

    /// Test hook (feature `test-hooks`, never in the package): the next `apply` issues all its
    /// requests, then one that fails, so the whole transaction must abort.
    #[cfg(feature = "test-hooks")]
    pub fn fail_next_apply(&self) {
        self.fail_next_apply.set(true);
    }

    #[cfg(feature = "test-hooks")]
    fn take_fault(&self) -> bool {
        self.fail_next_apply.replace(false)
    }

    #[cfg(not(feature = "test-hooks"))]
    fn take_fault(&self) -> bool {
        false
    }
}

/// (key, number) pairs from a `getAllKeys` and a `getAll` of one store (same order); entries
/// that are not a string key and a number are skipped.
fn key_numbers(keys: &JsValue, values: &JsValue) -> Vec<(String, u64)> {
    let (Some(keys), Some(values)) = (keys.dyn_ref::<Array>(), values.dyn_ref::<Array>()) else {
        return Vec::new();
    };
    // Plain loops here and below: each iterator chain is its own code in the wasm.
    let mut out = Vec::with_capacity(keys.length() as usize);
    for i in 0..keys.length() {
        if let (Some(k), Some(v)) = (keys.get(i).as_string(), values.get(i).as_f64()) {
            out.push((k, v as u64));
        }
    }
    out
}

fn number(v: JsValue) -> Option<u64> {
    v.as_f64().map(|v| v as u64)
}

/// The write operations of js/glue.js `apply`: [store, op, a, b] each.
const PUT: u32 = 0;
const DELETE: u32 = 1;
const ADD: u32 = 2;
const CLEAR_MESSAGES: u32 = 3;
const PUT_ALL_BUT: u32 = 4;

/// What `apply` decides once its reads are in. JS calls it later, inside the transaction, so it
/// owns what it needs (a `Closure` cannot borrow): the batch without its puts, which are already
/// JS values, and the conversation of each of those.
struct Decision {
    batch: StoreBatch,
    /// (store, values, the conversation of each value).
    puts: [(u32, JsValue, Vec<String>); 3],
    /// The seq of each message put.
    seqs: Vec<u64>,
    fail: bool,
}

impl Decision {
    /// `reads`: [stored version of each `batch.versions` conversation, stored cursor, and for a
    /// reset: stored conversation IDs, stored version keys, stored version values; then the
    /// stored tombstone of each of the batch's `cached_conversations`].
    fn writes(self, reads: Array) -> Array {
        let Decision {
            batch,
            puts,
            seqs,
            fail,
        } = self;
        let read: Array = reads.get(0).unchecked_into();
        let mut stored = Vec::with_capacity(batch.versions.len());
        for i in 0..read.length() {
            stored.push(number(read.get(i)));
        }
        let read: Array = reads.get(5).unchecked_into();
        let mut tombstones = Vec::with_capacity(read.length() as usize);
        for i in 0..read.length() {
            // An unreadable stored tombstone hides nothing, as none would.
            tombstones.push(Tombstone::from_js(&read.get(i)).ok());
        }
        let plan = WritePlan::new(&batch, &stored, number(reads.get(1))).hiding(&tombstones);
        let pruned = match reads.get(2).dyn_into::<Array>() {
            Ok(list) if batch.prune.is_some() => {
                let mut ids = Vec::with_capacity(list.length() as usize);
                for i in 0..list.length() {
                    ids.extend(list.get(i).as_string());
                }
                plan.pruned(ids, key_numbers(&reads.get(3), &reads.get(4)))
            }
            _ => Vec::new(),
        };
        let ops = Array::new();
        let op = |store: u32, op: u32, a: &JsValue, b: &JsValue| push_op(&ops, store, op, a, b);
        let key = |id: &str| JsValue::from_str(id);
        let none = JsValue::UNDEFINED;
        for (id, _) in &pruned {
            op(MESSAGES, CLEAR_MESSAGES, &f64::INFINITY.into(), &key(id));
        }
        for id in &batch.remove_conversations {
            if plan.writes(id) {
                op(CONVERSATIONS, DELETE, &key(id), &none);
            }
        }
        for (id, _) in &pruned {
            op(CONVERSATIONS, DELETE, &key(id), &none);
        }
        for id in &batch.remove_tombstones {
            if plan.writes(id) {
                op(TOMBSTONES, DELETE, &key(id), &none);
            }
        }
        for (store, values, ids) in &puts {
            if ids.is_empty() {
                continue;
            }
            let skipped = Array::new();
            for (i, id) in ids.iter().enumerate() {
                let writes = match seqs.get(i) {
                    Some(seq) if *store == MESSAGES => plan.writes_message(id, *seq),
                    _ => plan.writes(id),
                };
                if !writes {
                    skipped.push(&(i as u32).into());
                }
            }
            op(*store, PUT_ALL_BUT, values, &skipped);
        }
        if let Some(cursor) = plan.cursor() {
            op(META, PUT, &(cursor as f64).into(), &CURSOR_KEY.into());
        }
        for (id, version) in &batch.versions {
            if plan.writes(id) {
                op(VERSIONS, PUT, &(*version as f64).into(), &key(id));
            }
        }
        for (id, version) in &pruned {
            op(VERSIONS, PUT, &(*version as f64).into(), &key(id));
        }
        if fail {
            // The second `add` of one key fails asynchronously (ConstraintError): the transaction
            // aborts and every request above is rolled back.
            op(META, ADD, &JsValue::NULL, &"fault".into());
            op(META, ADD, &JsValue::NULL, &"fault".into());
        }
        ops
    }
}

/// Appends one write to a js/glue.js list of writes.
fn push_op(ops: &Array, store: u32, op: u32, a: &JsValue, b: &JsValue) {
    ops.push(&store.into());
    ops.push(&op.into());
    ops.push(a);
    ops.push(b);
}

/// The conversation of each value of a list.
fn ids_of<T>(values: &[T], id: fn(&T) -> &String) -> Vec<String> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(id(v).clone());
    }
    out
}

#[async_trait(?Send)]
impl Store for IdbStore {
    async fn load(&self) -> Result<Snapshot> {
        // [packed conversations (3 values), tombstones, cursor, version keys, version values]: the
        // versions newer than the cursor (`Snapshot::versions`).
        let r: Array = settle(self.db.load(), "load").await?.unchecked_into();
        Ok(Snapshot {
            conversations: unpack_conversations(&r)?,
            tombstones: from_js::<Vec<Tombstone>>(r.get(3), "load")?,
            cursor: number(r.get(4)).unwrap_or(0),
            versions: key_numbers(&r.get(5), &r.get(6)),
        })
    }

    async fn cursor(&self) -> Result<u64> {
        Ok(number(settle(self.db.cursor(), "cursor").await?).unwrap_or(0))
    }

    async fn apply(&self, batch: &StoreBatch) -> Result<()> {
        let fail = self.take_fault();
        if batch.is_empty() && !fail {
            return Ok(());
        }
        // Everything is computed before the transaction exists: it cannot wait for other work.
        let puts = [
            (
                CONVERSATIONS,
                encode(&batch.put_conversations)?,
                ids_of(&batch.put_conversations, |c| &c.conversation_id),
            ),
            (
                TOMBSTONES,
                encode(&batch.put_tombstones)?,
                ids_of(&batch.put_tombstones, |t| &t.conversation_id),
            ),
            (
                MESSAGES,
                encode(&batch.put_messages)?,
                ids_of(&batch.put_messages, |m| &m.conversation_id),
            ),
        ];
        let prune = batch.prune.is_some();
        let version_ids = Array::new();
        for (id, _) in &batch.versions {
            version_ids.push(&id.into());
        }
        let cached_ids = Array::new();
        for id in batch.cached_conversations() {
            cached_ids.push(&id.into());
        }
        let mut seqs = Vec::with_capacity(batch.put_messages.len());
        for m in &batch.put_messages {
            seqs.push(m.seq);
        }
        // Message clears take effect whatever is stored (`WritePlan`): issued before the decision.
        let early = Array::new();
        for (id, upto) in &batch.clear_messages {
            let (upto, id) = (JsValue::from(*upto as f64), JsValue::from_str(id));
            push_op(&early, MESSAGES, CLEAR_MESSAGES, &upto, &id);
        }
        let decision = Decision {
            batch: StoreBatch {
                remove_conversations: batch.remove_conversations.clone(),
                remove_tombstones: batch.remove_tombstones.clone(),
                cursor: batch.cursor,
                versions: batch.versions.clone(),
                prune: batch.prune.clone(),
                ..StoreBatch::default()
            },
            puts,
            seqs,
            fail,
        };
        // Called (once) by JS in the last read's success event, while the transaction is active.
        let decide: Closure<dyn FnMut(Array) -> Array> =
            Closure::once(move |reads: Array| decision.writes(reads));
        let done = self.db.apply(
            version_ids,
            WritePlan::floor(batch) as f64,
            batch.cursor.is_some(),
            prune,
            cached_ids,
            early,
            &decide,
        );
        settle(done, "apply").await.map(drop)
    }

    async fn messages(
        &self,
        conversation_id: &str,
        before_seq: Option<u64>,
        count: usize,
    ) -> Result<Vec<Message>> {
        if count == 0 || before_seq == Some(0) {
            return Ok(Vec::new());
        }
        let upper = before_seq.map_or(f64::INFINITY, |s| s as f64);
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let found = self
            .db
            .messages(conversation_id, upper, before_seq.is_some(), count);
        from_js(settle(found, "messages").await?, "messages")
    }

    async fn close(&self) {
        self.db.close();
    }
}
