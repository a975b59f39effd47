//! The in-memory `Store` of native builds (the browser's memory store is JS, see the wasm
//! crate's `idb_store`): `StoreOpener::fallback`'s default, and the reference the conformance
//! suite is checked against.

use crate::error::Result;
use crate::map::HashMap;
use crate::model::{Conversation, Message, Tombstone};
use crate::store::{Namespace, Snapshot, Store, StoreBatch, StoreOpener, WritePlan};
use async_trait::async_trait;
use std::cell::RefCell;
use std::rc::Rc;

// Plain maps and sorted vectors rather than BTreeMaps: the map type the rest of the core uses.
#[derive(Default)]
struct State {
    conversations: HashMap<String, Conversation>,
    tombstones: HashMap<String, Tombstone>,
    /// Per conversation, sorted by seq.
    messages: HashMap<String, Vec<Message>>,
    cursor: u64,
    /// Per conversation, the version of what is stored (see `StoreBatch::versions`).
    versions: HashMap<String, u64>,
}

fn listed(versions: &HashMap<String, u64>) -> Vec<(String, u64)> {
    versions.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

#[derive(Default)]
pub struct MemoryStore {
    state: RefCell<State>,
}

#[async_trait(?Send)]
impl Store for MemoryStore {
    async fn load(&self) -> Result<Snapshot> {
        let s = self.state.borrow();
        Ok(Snapshot {
            conversations: s.conversations.values().cloned().collect(),
            tombstones: s.tombstones.values().cloned().collect(),
            cursor: s.cursor,
            versions: (s.versions.iter())
                .filter(|(_, v)| **v > s.cursor)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        })
    }

    async fn cursor(&self) -> Result<u64> {
        Ok(self.state.borrow().cursor)
    }

    async fn apply(&self, batch: &StoreBatch) -> Result<()> {
        let mut s = self.state.borrow_mut();
        let stored: Vec<Option<u64>> = batch
            .versions
            .iter()
            .map(|(id, _)| s.versions.get(id).copied())
            .collect();
        let tombstones: Vec<Option<Tombstone>> = (batch.cached_conversations().iter())
            .map(|id| s.tombstones.get(id).cloned())
            .collect();
        let plan = WritePlan::new(batch, &stored, Some(s.cursor)).hiding(&tombstones);
        let pruned = if batch.prune.is_some() {
            let ids = s.conversations.keys().cloned().collect();
            let versions = listed(&s.versions);
            plan.pruned(ids, versions)
        } else {
            Vec::new()
        };
        for (id, version) in pruned {
            s.conversations.remove(&id);
            s.messages.remove(&id);
            s.versions.insert(id, version);
        }
        for (id, upto) in &batch.clear_messages {
            if let Some(msgs) = s.messages.get_mut(id) {
                msgs.retain(|m| m.seq > *upto);
            }
        }
        for id in batch
            .remove_conversations
            .iter()
            .filter(|id| plan.writes(id))
        {
            s.conversations.remove(id);
        }
        for id in batch.remove_tombstones.iter().filter(|id| plan.writes(id)) {
            s.tombstones.remove(id);
        }
        for c in &batch.put_conversations {
            if plan.writes(&c.conversation_id) {
                s.conversations.insert(c.conversation_id.clone(), c.clone());
            }
        }
        for t in &batch.put_tombstones {
            if plan.writes(&t.conversation_id) {
                s.tombstones.insert(t.conversation_id.clone(), t.clone());
            }
        }
        for m in &batch.put_messages {
            if !plan.writes_message(&m.conversation_id, m.seq) {
                continue;
            }
            let msgs = s.messages.entry(m.conversation_id.clone()).or_default();
            match msgs.binary_search_by_key(&m.seq, |x| x.seq) {
                Ok(i) => msgs[i] = m.clone(),
                Err(i) => msgs.insert(i, m.clone()),
            }
        }
        if let Some(c) = plan.cursor() {
            s.cursor = c;
        }
        for (id, v) in &batch.versions {
            if plan.writes(id) {
                s.versions.insert(id.clone(), *v);
            }
        }
        Ok(())
    }

    async fn messages(
        &self,
        conversation_id: &str,
        before_seq: Option<u64>,
        count: usize,
    ) -> Result<Vec<Message>> {
        let s = self.state.borrow();
        let Some(msgs) = s.messages.get(conversation_id) else {
            return Ok(Vec::new());
        };
        let end = msgs.partition_point(|m| before_seq.is_none_or(|b| m.seq < b));
        Ok(msgs[..end].iter().rev().take(count).cloned().collect())
    }

    async fn close(&self) {}
}

/// Keeps one `MemoryStore` per namespace for the life of the SDK instance, so a logout and a
/// login again find the same state, and two users never share one.
#[derive(Default)]
pub struct MemoryOpener {
    stores: RefCell<HashMap<Namespace, Rc<MemoryStore>>>,
}

#[async_trait(?Send)]
impl StoreOpener for MemoryOpener {
    async fn open(&self, namespace: &Namespace) -> Result<Rc<dyn Store>> {
        let store = self
            .stores
            .borrow_mut()
            .entry(namespace.clone())
            .or_default()
            .clone();
        Ok(store)
    }
}
