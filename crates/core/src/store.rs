//! What the SDK keeps locally, per (sdkAppID, userID): conversations, tombstones of deletions,
//! messages, and the change-feed cursor. Implemented in memory (here) and on IndexedDB (browser).

use crate::error::Result;
use crate::model::{Conversation, Message, Tombstone};
use async_trait::async_trait;
use std::rc::Rc;

/// One user's state in one app: two users in one browser never share a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    pub sdk_app_id: u64,
    pub user_id: String,
}

impl Namespace {
    /// A stable name, usable as a database or channel name (userIDs are `[A-Za-z0-9_-]`).
    pub fn key(&self) -> String {
        format!("chat-sdk-{}-{}", self.sdk_app_id, self.user_id)
    }
}

/// Everything one operation writes, applied atomically (one IndexedDB transaction). Computed in
/// full before the store is touched, because IndexedDB transactions cannot wait for other work.
///
/// Order of application: `clear_messages`, removals, then puts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreBatch {
    /// (canonical conversation ID, seq): remove that conversation's messages with seq ≤ it.
    pub clear_messages: Vec<(String, u64)>,
    pub remove_conversations: Vec<String>,
    pub remove_tombstones: Vec<String>,
    pub put_conversations: Vec<Conversation>,
    pub put_tombstones: Vec<Tombstone>,
    pub put_messages: Vec<Message>,
    pub cursor: Option<u64>,
}

impl StoreBatch {
    pub fn is_empty(&self) -> bool {
        *self == StoreBatch::default()
    }
}

/// What `load` returns: the state a client starts from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub conversations: Vec<Conversation>,
    pub tombstones: Vec<Tombstone>,
    pub cursor: u64,
}

#[async_trait(?Send)]
pub trait Store {
    async fn load(&self) -> Result<Snapshot>;
    /// All of the batch or, on error, none of it.
    async fn apply(&self, batch: &StoreBatch) -> Result<()>;
    /// Messages of a conversation, newest first, with seq < `before_seq` when given.
    async fn messages(
        &self,
        conversation_id: &str,
        before_seq: Option<u64>,
        count: usize,
    ) -> Result<Vec<Message>>;
    /// Releases the database; later calls may fail.
    async fn close(&self);
}

/// Opens the store of a namespace (an IndexedDB database, or a map in memory).
#[async_trait(?Send)]
pub trait StoreOpener {
    async fn open(&self, namespace: &Namespace) -> Result<Rc<dyn Store>>;
}
