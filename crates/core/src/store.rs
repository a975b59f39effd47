//! What the SDK keeps locally, per (sdkAppID, userID): conversations, tombstones of deletions,
//! messages, and the change-feed cursor. Implemented in memory (here) and on IndexedDB (browser).

use crate::error::Result;
use crate::map::HashMap;
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
///
/// Two tabs write one store, each from its own knowledge, so a write may be older than what the
/// store holds: writes are version-conditional, decided by `WritePlan` (see there).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreBatch {
    /// (canonical conversation ID, seq): remove that conversation's messages with seq ≤ it.
    pub clear_messages: Vec<(String, u64)>,
    pub remove_conversations: Vec<String>,
    pub remove_tombstones: Vec<String>,
    pub put_conversations: Vec<Conversation>,
    pub put_tombstones: Vec<Tombstone>,
    pub put_messages: Vec<Message>,
    /// Moves the stored cursor forward only.
    pub cursor: Option<u64>,
    /// Per conversation whose record, tombstone, removal or messages this batch writes: the feed
    /// seq of the newest change the written state reflects. Stored with the records; writes of
    /// conversations not listed are unconditional (history pages cached as read).
    pub versions: Vec<(String, u64)>,
    /// Set by a reset: the stored conversations it deletes although the writer never knew them.
    pub prune: Option<Prune>,
}

/// A reset is a full list as of its pages' cursors: what it lacks was deleted. The writer removes
/// what it knows of; a store may also hold conversations only another tab knew, so it removes
/// those it holds absent from the list, unless their stored version is newer than the page that
/// covers them (`WritePlan::pruned`). Their cached messages are forgotten and the version kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prune {
    /// Per page, in order: (`upto_id`, `cursor`); a page covers the IDs after the previous
    /// page's `upto_id` up to its own (`None`: to the end), as of feed seq `cursor`.
    pub pages: Vec<(Option<String>, u64)>,
    /// The IDs in the list.
    pub listed: Vec<String>,
}

impl Prune {
    /// The cursor of the page that covers `id`.
    pub fn cursor_of(&self, id: &str) -> u64 {
        for (upto, cursor) in &self.pages {
            if upto.as_deref().is_none_or(|u| id <= u) {
                return *cursor;
            }
        }
        0
    }
}

impl StoreBatch {
    pub fn is_empty(&self) -> bool {
        // Field by field, not `== default()`: smaller in the wasm.
        self.clear_messages.is_empty()
            && self.remove_conversations.is_empty()
            && self.remove_tombstones.is_empty()
            && self.put_conversations.is_empty()
            && self.put_tombstones.is_empty()
            && self.put_messages.is_empty()
            && self.cursor.is_none()
            && self.versions.is_empty()
            && self.prune.is_none()
    }

    /// The conversations of the batch's message puts that it does not version (history pages
    /// cached as read), each once: a store reads their stored tombstones for `WritePlan::hiding`.
    /// A versioned write needs none: it reflects every deletion stored before it, or is refused.
    pub fn cached_conversations(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if self.put_messages.is_empty() {
            return out;
        }
        let mut seen: HashMap<String, u64> = HashMap::default();
        seen.extend(self.versions.iter().cloned());
        for m in &self.put_messages {
            if !seen.contains_key(m.conversation_id.as_str()) {
                seen.insert(m.conversation_id.clone(), 0);
                out.push(m.conversation_id.clone());
            }
        }
        out
    }
}

/// What `load` returns: the state a client starts from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub conversations: Vec<Conversation>,
    pub tombstones: Vec<Tombstone>,
    pub cursor: u64,
    /// The stored versions (see `StoreBatch::versions`) newer than `cursor`, and only those: a
    /// loaded conversation reflects at least the cursor (`LocalState::from_snapshot`), so an
    /// older version says nothing more, and reading every version made login a third slower.
    /// Conversations without one (written before versions were stored) are version 0.
    pub versions: Vec<(String, u64)>,
}

/// The rule "the newer record per conversation wins", written once for every store: which writes
/// of a batch take effect over what the store holds. A store reads the stored versions of the
/// batch's conversations (and its cursor) in the same transaction, then writes what this admits.
///
/// A conversation's writes (record put or removal, tombstone put or removal, message puts) take
/// effect only if the stored version is not newer than the batch's; message clears always do (they
/// only forget cached copies of what the server hides or still serves); the cursor only moves
/// forward. A store then holds, per conversation, the newest state any writer knew, and a cursor
/// all of whose changes its records reflect: records at or below it are never overwritten by
/// older ones.
///
/// Unversioned message puts (a history page, cached as read) are dropped at or below the stored
/// tombstone of a deletion that cleared the history (`hiding`): a page read before another tab's
/// clearing deletion and cached after it must not put back what that deletion removed.
#[derive(Debug)]
pub struct WritePlan<'a> {
    /// Conversations whose writes are refused, with their stored (newer) version. A map of the
    /// type the engine already uses: no other instantiation in the wasm (nor a sort).
    refused: HashMap<String, u64>,
    /// Of the batch's `cached_conversations`, those a stored deletion cleared, with its seq.
    hidden: HashMap<String, u64>,
    cursor: Option<u64>,
    batch: &'a StoreBatch,
}

impl<'a> WritePlan<'a> {
    /// `stored`: the stored version of each of `batch.versions`' conversations, in that order
    /// (`None` when none is stored, or when it is at most `floor(batch)`); `stored_cursor`: the
    /// stored cursor (`None` when none).
    pub fn new(batch: &'a StoreBatch, stored: &[Option<u64>], stored_cursor: Option<u64>) -> Self {
        let mut refused = HashMap::default();
        for ((id, version), stored) in batch.versions.iter().zip(stored) {
            if let Some(s) = stored.filter(|s| s > version) {
                refused.insert(id.clone(), s);
            }
        }
        WritePlan {
            refused,
            hidden: HashMap::default(),
            cursor: batch
                .cursor
                .filter(|c| stored_cursor.is_none_or(|s| *c > s)),
            batch,
        }
    }

    /// Only stored versions newer than a batch's own refuse its writes, so none at or below the
    /// batch's oldest version does: a store may read just the versions above this (one index
    /// range instead of a read per conversation) and report the others as `None`.
    pub fn floor(batch: &StoreBatch) -> u64 {
        batch.versions.iter().map(|(_, v)| *v).min().unwrap_or(0)
    }

    /// `tombstones`: the stored tombstone of each of `batch.cached_conversations()`, in that
    /// order (`None` when none is stored).
    pub fn hiding(mut self, tombstones: &[Option<Tombstone>]) -> Self {
        for t in tombstones.iter().flatten() {
            if t.cleared_upto() > 0 {
                (self.hidden).insert(t.conversation_id.clone(), t.cleared_upto());
            }
        }
        self
    }

    /// Whether the batch's writes for this conversation take effect.
    pub fn writes(&self, conversation_id: &str) -> bool {
        !self.refused.contains_key(conversation_id)
    }

    /// Whether the batch's put of the message `seq` of a conversation takes effect.
    pub fn writes_message(&self, conversation_id: &str, seq: u64) -> bool {
        self.writes(conversation_id) && (self.hidden.get(conversation_id)).is_none_or(|u| seq > *u)
    }

    /// The cursor to store, when the batch moves it forward.
    pub fn cursor(&self) -> Option<u64> {
        self.cursor
    }

    /// For a reset batch: of the stored conversations (`ids`) and the stored versions
    /// (`versions`, of any conversations), the conversations it deletes, each with the version
    /// to store. The batch's own conversations are decided by `writes`.
    pub fn pruned(&self, ids: Vec<String>, versions: Vec<(String, u64)>) -> Vec<(String, u64)> {
        let Some(prune) = &self.batch.prune else {
            return Vec::new();
        };
        let mut decided: HashMap<String, u64> = HashMap::default();
        decided.extend(prune.listed.iter().map(|id| (id.clone(), 0)));
        decided.extend(self.batch.versions.iter().cloned());
        let mut stored: HashMap<String, u64> = HashMap::default();
        stored.extend(versions);
        let mut out = Vec::new();
        for id in ids {
            let cursor = prune.cursor_of(&id);
            let newer = stored.get(id.as_str()).is_some_and(|v| *v > cursor);
            if !newer && !decided.contains_key(id.as_str()) {
                out.push((id, cursor));
            }
        }
        out
    }
}

#[async_trait(?Send)]
pub trait Store {
    async fn load(&self) -> Result<Snapshot>;
    /// The stored cursor alone (`load`'s), read without the records: login requests the changes
    /// after it while the records load.
    async fn cursor(&self) -> Result<u64>;
    /// All of the batch that `WritePlan` admits against what is stored (read in the same
    /// transaction) or, on error, none of it.
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
    /// An empty store in memory, where state lives when `open` fails. The browser overrides it
    /// with its JS memory store, so the wasm carries one store implementation, not two.
    fn fallback(&self) -> Rc<dyn Store> {
        Rc::new(crate::memory_store::MemoryStore::default())
    }
}
