//! The in-memory `Store`: the `storage: "memory"` option, the fallback where IndexedDB cannot be
//! opened, and the reference the conformance suite is checked against.

use crate::error::Result;
use crate::model::{Conversation, Message, Tombstone};
use crate::store::{Namespace, Snapshot, Store, StoreBatch, StoreOpener};
use async_trait::async_trait;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

#[derive(Default)]
struct State {
    conversations: BTreeMap<String, Conversation>,
    tombstones: BTreeMap<String, Tombstone>,
    messages: HashMap<String, BTreeMap<u64, Message>>,
    cursor: u64,
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
        })
    }

    async fn apply(&self, batch: &StoreBatch) -> Result<()> {
        let mut s = self.state.borrow_mut();
        for (id, upto) in &batch.clear_messages {
            if let Some(msgs) = s.messages.get_mut(id) {
                msgs.retain(|seq, _| seq > upto);
            }
        }
        for id in &batch.remove_conversations {
            s.conversations.remove(id);
        }
        for id in &batch.remove_tombstones {
            s.tombstones.remove(id);
        }
        for c in &batch.put_conversations {
            s.conversations.insert(c.conversation_id.clone(), c.clone());
        }
        for t in &batch.put_tombstones {
            s.tombstones.insert(t.conversation_id.clone(), t.clone());
        }
        for m in &batch.put_messages {
            s.messages
                .entry(m.conversation_id.clone())
                .or_default()
                .insert(m.seq, m.clone());
        }
        if let Some(c) = batch.cursor {
            s.cursor = c;
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
        let upper = before_seq.unwrap_or(u64::MAX);
        Ok(msgs
            .range(..upper)
            .rev()
            .take(count)
            .map(|(_, m)| m.clone())
            .collect())
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
