//! The IndexedDB `Store`: one database per namespace, named `Namespace::key()`.
//!
//! Built on raw `web-sys` with a tiny promise wrapper rather than `idb` / `indexed_db_futures`:
//! every call here is "compute everything, issue all requests synchronously, await the
//! transaction's `complete`/`abort`", which needs no per-request futures, and it adds no crate
//! (web-sys and js-sys are already linked) to a bundle with an 80 KB gzip budget.
//!
//! Values are the model's JSON shapes, stored as plain objects (converted by `records`;
//! the bulk read of conversations at login is packed by js/records.js); u64 fields are JS numbers,
//! exact below 2^53.

use crate::records::{decode, encode as to_object, FromJs, ToJs};
use async_trait::async_trait;
use chat_core::error::{ChatError, Result};
use chat_core::model::{Conversation, Message, Tombstone};
use chat_core::store::{Namespace, Snapshot, Store, StoreBatch, StoreOpener, WritePlan};
use js_sys::{Array, Function, Promise, Reflect};
#[cfg(feature = "test-hooks")]
use std::cell::Cell;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbFactory, IdbKeyRange,
    IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
    IdbVersionChangeEvent,
};

const CONVERSATIONS: &str = "conversations";
const TOMBSTONES: &str = "tombstones";
const MESSAGES: &str = "messages";
const META: &str = "meta";
/// conversationID → the feed version of what is stored of it (see `StoreBatch::versions`).
const VERSIONS: &str = "versions";
const CURSOR_KEY: &str = "cursor";

type JsResult<T> = std::result::Result<T, JsValue>;

/// One schema step; `MIGRATIONS[n]` takes a database from version `n` to `n + 1`. Runs inside the
/// `versionchange` transaction (passed along for steps that rewrite data). Append, never edit.
type Migration = fn(&IdbDatabase, &IdbTransaction) -> JsResult<()>;

const MIGRATIONS: &[Migration] = &[migrate_v1, migrate_v2];

/// The schema version this build opens: one per migration.
pub const DB_VERSION: u32 = MIGRATIONS.len() as u32;

fn migrate_v1(db: &IdbDatabase, _tx: &IdbTransaction) -> JsResult<()> {
    let by_id = IdbObjectStoreParameters::new();
    by_id.set_key_path(&JsValue::from_str("conversationID"));
    db.create_object_store_with_optional_parameters(CONVERSATIONS, &by_id)?;
    db.create_object_store_with_optional_parameters(TOMBSTONES, &by_id)?;
    // Keyed [conversationID, seq]: one conversation is one contiguous, ordered key range.
    let by_seq = IdbObjectStoreParameters::new();
    by_seq.set_key_path(&Array::of2(&"conversationID".into(), &"seq".into()));
    db.create_object_store_with_optional_parameters(MESSAGES, &by_seq)?;
    // Out-of-line keys: `cursor` → number.
    db.create_object_store(META)?;
    Ok(())
}

/// Stored versions, so tabs sharing the database never replace a newer record by an older one.
/// Records of an existing database have none: they count as version 0 (older than any feed
/// change), which is how every write treated them before.
fn migrate_v2(db: &IdbDatabase, _tx: &IdbTransaction) -> JsResult<()> {
    // Out-of-line keys (the conversationID) → number, so a version outlives its record's removal.
    db.create_object_store(VERSIONS)?;
    Ok(())
}

fn js_detail(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<DomException>() {
        format!("{}: {}", d.name(), d.message())
    } else if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        String::from(err.message())
    } else {
        // Not `{e:?}`: JsValue's Debug pulls a value printer into the JS glue.
        e.as_string()
            .or_else(|| js_sys::JSON::stringify(e).ok()?.as_string())
            .unwrap_or_else(|| String::from("an unknown error"))
    }
}

fn db_err(what: &str, e: &JsValue) -> ChatError {
    ChatError::database(format!("{what}: {}", js_detail(e)))
}

/// The `IDBFactory` of the current global (Window or Worker), or a 6019 error.
fn factory() -> Result<IdbFactory> {
    let v = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .map_err(|e| db_err("IndexedDB is not accessible", &e))?;
    v.dyn_into::<IdbFactory>()
        .map_err(|_| ChatError::database("IndexedDB is not available in this environment"))
}

/// Resolves on the transaction's `complete`, fails on `abort` (which a failed request causes).
/// Must be created before control returns to the event loop.
fn tx_done(tx: &IdbTransaction) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve: Function, reject: Function| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    }))
}

async fn finish(tx: &IdbTransaction, done: JsFuture, what: &str) -> Result<()> {
    match done.await {
        Ok(_) => Ok(()),
        Err(_) => Err(match tx.error() {
            Some(e) => db_err(what, &e),
            None => ChatError::database(format!("{what}: transaction aborted")),
        }),
    }
}

/// A list as a JS array of plain objects, or `undefined` when empty.
fn encode<T: ToJs>(values: &[T]) -> Result<JsValue> {
    if values.is_empty() {
        return Ok(JsValue::UNDEFINED);
    }
    to_object(values).map_err(|e| db_err("apply: encode", &e.into()))
}

#[wasm_bindgen(module = "/js/records.js")]
extern "C" {
    #[wasm_bindgen(js_name = packConversations)]
    fn pack_conversations(list: &JsValue) -> Array;
}

const STRINGS_PER_RECORD: usize = 8;
const NUMBERS_PER_RECORD: usize = 6;

/// The stored conversations, read from the three values `packConversations` makes of them.
fn unpack_conversations(list: &JsValue) -> Result<Vec<Conversation>> {
    let unreadable = || ChatError::database("load: stored conversation unreadable");
    if !Array::is_array(list) {
        return Err(unreadable());
    }
    let packed = pack_conversations(list);
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
    let mut next_string = |end: u32| {
        let start = byte;
        // UTF-16 end offsets (JavaScript's) to byte offsets (Rust's).
        while units < end {
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

/// A Rust handler installed on a request; dropping it (also when the future awaiting the request
/// is dropped early) uninstalls it before freeing the closure, so IndexedDB never calls a freed one.
struct Armed<R, F: ?Sized> {
    target: R,
    unset: fn(&R),
    _closure: Closure<F>,
}

impl<R, F: ?Sized> Drop for Armed<R, F> {
    fn drop(&mut self) {
        (self.unset)(&self.target);
    }
}

fn store_names(names: &[&str]) -> Array {
    names.iter().map(|n| JsValue::from_str(n)).collect()
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

    /// `open`, returning the concrete store.
    pub async fn open_idb(&self, namespace: &Namespace) -> Result<IdbStore> {
        let name = namespace.key();
        let req: IdbOpenDbRequest = factory()?
            .open_with_u32(&name, DB_VERSION)
            .map_err(|e| db_err("cannot open IndexedDB", &e))?;
        let migration_error: Rc<RefCell<Option<String>>> = Rc::default();
        let upgrade = {
            let req = req.clone();
            let migration_error = migration_error.clone();
            Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |ev: IdbVersionChangeEvent| {
                let from = ev.old_version() as usize;
                let (Ok(db), Some(tx)) = (req.result(), req.transaction()) else {
                    return;
                };
                let db: IdbDatabase = db.unchecked_into();
                for (i, step) in MIGRATIONS.iter().enumerate().skip(from) {
                    if let Err(e) = step(&db, &tx) {
                        *migration_error.borrow_mut() =
                            Some(format!("migration to version {}: {}", i + 1, js_detail(&e)));
                        let _ = tx.abort();
                        return;
                    }
                }
            })
        };
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let upgrade = Armed {
            target: req.clone(),
            unset: |r: &IdbOpenDbRequest| r.set_onupgradeneeded(None),
            _closure: upgrade,
        };
        let opened = JsFuture::from(Promise::new(&mut |resolve: Function, reject: Function| {
            req.set_onsuccess(Some(&resolve));
            req.set_onerror(Some(&reject));
            // Another tab keeps an older version open: that can last forever, so fall back now.
            req.set_onblocked(Some(&reject));
        }))
        .await;
        drop(upgrade);
        if let Err(ev) = &opened {
            if Reflect::get(ev, &"type".into())
                .ok()
                .and_then(|t| t.as_string())
                .as_deref()
                == Some("blocked")
            {
                // The request stays pending: when the other tab lets go, abort its upgrade (this
                // build's migrations are gone) and close the connection nobody uses.
                // (One-shot closures: the one that never runs stays allocated, a few bytes.)
                let r = req.clone();
                let abort = Closure::once_into_js(move || {
                    if let Some(tx) = r.transaction() {
                        let _ = tx.abort();
                    }
                });
                let r = req.clone();
                let close = Closure::once_into_js(move || {
                    if let Ok(db) = r.result() {
                        db.unchecked_into::<IdbDatabase>().close();
                    }
                });
                let quiet = Closure::once_into_js(|e: web_sys::Event| e.prevent_default());
                req.set_onupgradeneeded(Some(abort.unchecked_ref()));
                req.set_onsuccess(Some(close.unchecked_ref()));
                req.set_onerror(Some(quiet.unchecked_ref()));
                return Err(ChatError::database(format!(
                    "cannot open {name}: blocked by another tab that keeps an older version open"
                )));
            }
        }
        if opened.is_err() {
            if let Some(m) = migration_error.borrow_mut().take() {
                return Err(ChatError::database(format!("cannot open {name}: {m}")));
            }
            return Err(match req.error() {
                Ok(Some(e)) => db_err(&format!("cannot open {name}"), &e),
                _ => ChatError::database(format!("cannot open {name}")),
            });
        }
        let db: IdbDatabase = req
            .result()
            .map_err(|e| db_err("cannot open IndexedDB", &e))?
            .unchecked_into();
        // Another tab upgrading (or deleting) this database must not be blocked by us: close.
        if let Ok(close) = Reflect::get(&db, &JsValue::from_str("close")) {
            if let Some(close) = close.dyn_ref::<Function>() {
                db.set_onversionchange(Some(&close.bind0(&db)));
            }
        }
        Ok(IdbStore {
            db,
            #[cfg(feature = "test-hooks")]
            fail_next_apply: Cell::new(false),
        })
    }
}

#[async_trait(?Send)]
impl StoreOpener for IdbOpener {
    async fn open(&self, namespace: &Namespace) -> Result<Rc<dyn Store>> {
        Ok(Rc::new(self.open_idb(namespace).await?))
    }
}

/// One open connection to a namespace's database.
pub struct IdbStore {
    db: IdbDatabase,
    #[cfg(feature = "test-hooks")]
    fail_next_apply: Cell<bool>,
}

impl IdbStore {
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

    fn transaction(&self, names: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction> {
        self.db
            .transaction_with_str_sequence_and_mode(&store_names(names), mode)
            .map_err(|e| db_err("cannot start transaction", &e))
    }
}

/// The values of one batch, converted before the transaction starts.
struct Prepared {
    conversations: JsValue,
    tombstones: JsValue,
    messages: JsValue,
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

fn number(request: &IdbRequest) -> JsResult<Option<u64>> {
    Ok(request.result()?.as_f64().map(|v| v as u64))
}

/// Resolves when the request succeeds. Awaited inside its transaction: the continuation runs in
/// the microtasks of the success event, while the transaction is still active.
async fn request_done(request: &IdbRequest) -> JsResult<()> {
    JsFuture::from(Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    }))
    .await
    .map(drop)
}

/// The cached messages of a conversation with seq ≤ `upto`.
fn history_range(id: &str, upto: f64) -> JsResult<JsValue> {
    let id = JsValue::from_str(id);
    IdbKeyRange::bound(
        &Array::of2(&id, &JsValue::from_f64(f64::NEG_INFINITY)),
        &Array::of2(&id, &JsValue::from_f64(upto)),
    )
    .map(JsValue::from)
}

/// What `apply` reads, in its own transaction, before it decides what to write.
struct Reads {
    /// The stored version of each `batch.versions` conversation, in order.
    versions: Vec<IdbRequest>,
    cursor: Option<IdbRequest>,
    /// A reset's: the stored conversation IDs, and every stored version (keys, values).
    prune: Option<(IdbRequest, IdbRequest, IdbRequest)>,
}

impl Reads {
    fn issue(tx: &IdbTransaction, batch: &StoreBatch) -> JsResult<Reads> {
        let mut versions = Vec::with_capacity(batch.versions.len());
        if !batch.versions.is_empty() || batch.prune.is_some() {
            let store = tx.object_store(VERSIONS)?;
            for (id, _) in &batch.versions {
                versions.push(store.get(&JsValue::from_str(id))?);
            }
        }
        let cursor = match batch.cursor {
            Some(_) => Some(tx.object_store(META)?.get(&CURSOR_KEY.into())?),
            None => None,
        };
        let prune = match batch.prune {
            Some(_) => {
                let stored = tx.object_store(VERSIONS)?;
                Some((
                    tx.object_store(CONVERSATIONS)?.get_all_keys()?,
                    stored.get_all_keys()?,
                    stored.get_all()?,
                ))
            }
            None => None,
        };
        Ok(Reads {
            versions,
            cursor,
            prune,
        })
    }

    /// The last request issued: requests of one transaction complete in order.
    fn last(&self) -> Option<&IdbRequest> {
        match (&self.prune, &self.cursor) {
            (Some((_, _, last)), _) | (None, Some(last)) => Some(last),
            (None, None) => self.versions.last(),
        }
    }

    /// The stored versions, the stored cursor, and the stored conversations a reset removes.
    fn plan<'a>(&self, batch: &'a StoreBatch) -> JsResult<(WritePlan<'a>, Vec<(String, u64)>)> {
        let mut stored = Vec::with_capacity(self.versions.len());
        for r in &self.versions {
            stored.push(number(r)?);
        }
        let cursor = match &self.cursor {
            Some(r) => number(r)?,
            None => None,
        };
        let plan = WritePlan::new(batch, &stored, cursor);
        let pruned = match &self.prune {
            Some((ids, keys, values)) => {
                let list: Array = ids.result()?.dyn_into()?;
                let mut ids = Vec::with_capacity(list.length() as usize);
                for i in 0..list.length() {
                    ids.extend(list.get(i).as_string());
                }
                plan.pruned(ids, key_numbers(&keys.result()?, &values.result()?))
            }
            None => Vec::new(),
        };
        Ok((plan, pruned))
    }
}

/// Puts the values (in the batch's order) whose conversation (`id_of` each index) the plan admits.
fn put_admitted<'a>(
    tx: &IdbTransaction,
    name: &str,
    values: &JsValue,
    id_of: &dyn Fn(usize) -> &'a str,
    plan: &WritePlan,
) -> JsResult<()> {
    let Some(values) = values.dyn_ref::<Array>() else {
        return Ok(());
    };
    let store = tx.object_store(name)?;
    for (i, value) in values.iter().enumerate() {
        if plan.writes(id_of(i)) {
            store.put(&value)?;
        }
    }
    Ok(())
}

fn issue(
    tx: &IdbTransaction,
    batch: &StoreBatch,
    p: &Prepared,
    (plan, pruned): &(WritePlan, Vec<(String, u64)>),
    fail: bool,
) -> JsResult<()> {
    if !batch.clear_messages.is_empty() || !pruned.is_empty() {
        let messages = tx.object_store(MESSAGES)?;
        for (id, upto) in &batch.clear_messages {
            messages.delete(&history_range(id, *upto as f64)?)?;
        }
        for (id, _) in pruned {
            messages.delete(&history_range(id, f64::INFINITY)?)?;
        }
    }
    if !batch.remove_conversations.is_empty() || !pruned.is_empty() {
        let conversations = tx.object_store(CONVERSATIONS)?;
        let admitted = batch
            .remove_conversations
            .iter()
            .filter(|id| plan.writes(id));
        for id in admitted.chain(pruned.iter().map(|(id, _)| id)) {
            conversations.delete(&JsValue::from_str(id))?;
        }
    }
    if !batch.remove_tombstones.is_empty() {
        let tombstones = tx.object_store(TOMBSTONES)?;
        for id in batch.remove_tombstones.iter().filter(|id| plan.writes(id)) {
            tombstones.delete(&JsValue::from_str(id))?;
        }
    }
    let (c, t, m) = (
        &batch.put_conversations,
        &batch.put_tombstones,
        &batch.put_messages,
    );
    let conversation_of = |i: usize| c[i].conversation_id.as_str();
    put_admitted(tx, CONVERSATIONS, &p.conversations, &conversation_of, plan)?;
    let tombstone_of = |i: usize| t[i].conversation_id.as_str();
    put_admitted(tx, TOMBSTONES, &p.tombstones, &tombstone_of, plan)?;
    let message_of = |i: usize| m[i].conversation_id.as_str();
    put_admitted(tx, MESSAGES, &p.messages, &message_of, plan)?;
    if let Some(cursor) = plan.cursor() {
        tx.object_store(META)?
            .put_with_key(&JsValue::from_f64(cursor as f64), &CURSOR_KEY.into())?;
    }
    if !batch.versions.is_empty() || !pruned.is_empty() {
        let versions = tx.object_store(VERSIONS)?;
        let put = |id: &str, version: u64| {
            versions.put_with_key(&JsValue::from_f64(version as f64), &JsValue::from_str(id))
        };
        for (id, version) in &batch.versions {
            if plan.writes(id) {
                put(id, *version)?;
            }
        }
        for (id, version) in pruned {
            put(id, *version)?;
        }
    }
    if fail {
        // The second `add` of one key fails asynchronously (ConstraintError): the transaction
        // aborts and every request above is rolled back.
        let meta = tx.object_store(META)?;
        meta.add_with_key(&JsValue::NULL, &"fault".into())?;
        meta.add_with_key(&JsValue::NULL, &"fault".into())?;
    }
    Ok(())
}

#[async_trait(?Send)]
impl Store for IdbStore {
    async fn load(&self) -> Result<Snapshot> {
        let tx = self.transaction(
            &[CONVERSATIONS, TOMBSTONES, META, VERSIONS],
            IdbTransactionMode::Readonly,
        )?;
        let done = tx_done(&tx);
        let requests = (|| -> JsResult<_> {
            let versions = tx.object_store(VERSIONS)?;
            Ok((
                tx.object_store(CONVERSATIONS)?.get_all()?,
                tx.object_store(TOMBSTONES)?.get_all()?,
                tx.object_store(META)?.get(&CURSOR_KEY.into())?,
                (versions.get_all_keys()?, versions.get_all()?),
            ))
        })();
        let (conversations, tombstones, cursor, versions) = match requests {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.abort();
                return Err(db_err("load", &e));
            }
        };
        finish(&tx, done, "load").await?;
        let result = |r: &IdbRequest| r.result().map_err(|e| db_err("load", &e));
        Ok(Snapshot {
            conversations: unpack_conversations(&result(&conversations)?)?,
            tombstones: from_js::<Vec<Tombstone>>(result(&tombstones)?, "load")?,
            cursor: result(&cursor)?.as_f64().map_or(0, |c| c as u64),
            versions: key_numbers(&result(&versions.0)?, &result(&versions.1)?),
        })
    }

    async fn apply(&self, batch: &StoreBatch) -> Result<()> {
        let fail = self.take_fault();
        if batch.is_empty() && !fail {
            return Ok(());
        }
        // Everything is computed before the transaction exists: it cannot wait for other work.
        let prepared = Prepared {
            conversations: encode(&batch.put_conversations)?,
            tombstones: encode(&batch.put_tombstones)?,
            messages: encode(&batch.put_messages)?,
        };
        let mut names = Vec::with_capacity(5);
        let prune = batch.prune.is_some();
        if prune || !batch.remove_conversations.is_empty() || !batch.put_conversations.is_empty() {
            names.push(CONVERSATIONS);
        }
        if !batch.remove_tombstones.is_empty() || !batch.put_tombstones.is_empty() {
            names.push(TOMBSTONES);
        }
        if prune || !batch.clear_messages.is_empty() || !batch.put_messages.is_empty() {
            names.push(MESSAGES);
        }
        if batch.cursor.is_some() || fail {
            names.push(META);
        }
        if prune || !batch.versions.is_empty() {
            names.push(VERSIONS);
        }
        let tx = self.transaction(&names, IdbTransactionMode::Readwrite)?;
        let done = tx_done(&tx);
        // Read what is stored of the touched conversations, then write what the plan admits,
        // all in this transaction (only its own requests are awaited, so it stays active).
        let written = async {
            let reads = Reads::issue(&tx, batch)?;
            if let Some(last) = reads.last() {
                request_done(last).await?;
            }
            issue(&tx, batch, &prepared, &reads.plan(batch)?, fail)
        };
        if let Err(e) = written.await {
            let _ = tx.abort();
            let _ = done.await;
            return Err(db_err("apply", &e));
        }
        finish(&tx, done, "apply").await
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
        let id = JsValue::from_str(conversation_id);
        let upper = before_seq.map_or(f64::INFINITY, |s| s as f64);
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &Array::of2(&id, &JsValue::from_f64(f64::NEG_INFINITY)),
            &Array::of2(&id, &JsValue::from_f64(upper)),
            false,
            before_seq.is_some(),
        )
        .map_err(|e| db_err("messages", &e))?;
        let tx = self.transaction(&[MESSAGES], IdbTransactionMode::Readonly)?;
        let done = tx_done(&tx);
        let req = match tx
            .object_store(MESSAGES)
            .and_then(|s| s.open_cursor_with_range_and_direction(&range, IdbCursorDirection::Prev))
        {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.abort();
                return Err(db_err("messages", &e));
            }
        };
        let out = Array::new();
        let on_success = {
            let (req, out) = (req.clone(), out.clone());
            Closure::<dyn FnMut()>::new(move || {
                let Some(cursor) = req
                    .result()
                    .ok()
                    .and_then(|c| c.dyn_into::<IdbCursorWithValue>().ok())
                else {
                    return; // null: the range is exhausted
                };
                if let Ok(v) = cursor.value() {
                    out.push(&v);
                }
                if (out.length() as usize) < count {
                    let _ = cursor.continue_();
                }
            })
        };
        req.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        let on_success = Armed {
            target: req,
            unset: |r: &IdbRequest| r.set_onsuccess(None),
            _closure: on_success,
        };
        let finished = finish(&tx, done, "messages").await;
        drop(on_success);
        finished?;
        from_js(out.into(), "messages")
    }

    async fn close(&self) {
        self.db.close();
    }
}
