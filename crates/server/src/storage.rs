//! The storage interface the handlers use. SQLite implements it (sqlite.rs); another database
//! only needs another implementation. The rules (membership, visibility, limits, thread keys)
//! are chat-core's `rules`; a backend only persists their decisions. Every write commits the
//! affected users' feed entries in the same transaction and hands them to the `ChangeSink` after
//! the commit, outside the database lock, in feed order per user (see publish_order.rs).

use async_trait::async_trait;
use chat_core::error::Result;
use chat_core::id::ConversationId;
use chat_core::model::Conversation;
use chat_core::wire::{
    ChangeEnvelope, ChangesReply, ConversationListReply, HistoryReply, ReadReply, SendReply,
};

/// Receives committed changes (the WebSocket push). Called outside the database lock, one
/// thread at a time per user, in that user's feed order; must not block. `changes` are
/// consecutive entries of one user, queued as one unit (a batch that does not fit a socket's
/// queue overflows it whatever the socket has read meanwhile).
pub trait ChangeSink: Send + Sync {
    fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]);

    /// Whether `user_id` has listeners here (a shared-database backend skips reading the entries
    /// of users held by other instances).
    fn wants(&self, _user_id: &str) -> bool {
        true
    }

    /// Entries may have been missed (e.g. a lost database notification stream): close every
    /// listener so that its client resyncs from the feed.
    fn resync_all(&self) {}
}

/// Rough JSON size at which a reply stops early (at least one item is always returned): `changes`
/// and history with `hasMore`, the conversation list with `isFinished` false.
pub const REPLY_BYTES: usize = 2 << 20;

/// A deleted conversation: its last visible seq then, and the seq of the feed entry written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deleted {
    pub upto_seq: u64,
    pub feed_seq: u64,
}

#[async_trait]
pub trait Storage: Send + Sync {
    /// Creates the account if it does not exist.
    async fn ensure_user(&self, user_id: &str) -> Result<()>;

    /// Live conversations with orderKey < `next_seq` (0 = from the top), newest first.
    async fn list_conversations(
        &self,
        user_id: &str,
        next_seq: u64,
        count: usize,
    ) -> Result<ConversationListReply>;

    /// A live conversation, or 2500.
    async fn get_conversation(&self, user_id: &str, id: &ConversationId) -> Result<Conversation>;

    /// Appends a text message (C2C: both sides; group: members only, else 10007). Sending to
    /// yourself is refused by the route (`rules::check_not_self`) before this is called.
    async fn send_text(
        &self,
        user_id: &str,
        id: &ConversationId,
        text: &str,
        now_ms: u64,
    ) -> Result<SendReply>;

    /// Messages newest first with seq < `before_seq` (None = newest), hiding cleared ones and,
    /// in a group, those posted while the user was not a member.
    async fn history(
        &self,
        user_id: &str,
        id: &ConversationId,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply>;

    /// Unread 0 for a live conversation, or 2500.
    async fn mark_read(&self, user_id: &str, id: &ConversationId) -> Result<ReadReply>;

    /// Deletes each (distinct, valid) conversation; per item `Ok(Deleted)` or its error.
    async fn delete_conversations(
        &self,
        user_id: &str,
        ids: &[ConversationId],
        clear_message: bool,
    ) -> Result<Vec<Result<Deleted>>>;

    /// The change feed after `since` (at most `limit` entries and about `REPLY_BYTES`), or a
    /// reset page of live conversations with IDs after `after` (see docs/protocol.md).
    async fn changes(
        &self,
        user_id: &str,
        since: u64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ChangesReply>;

    /// Creates or replaces a group and its member list.
    async fn upsert_group(&self, group_id: &str, name: &str, members: &[String]) -> Result<()>;

    /// Stores a WebSocket ticket (by its digest) for `user_id` until `expires_ms`, unless the user
    /// already holds `max_live` tickets unexpired at `now_ms` (then `false`, nothing stored). The
    /// rules (lifetime, cap, single use, errors) are `auth::Tickets`; a backend only persists them.
    async fn put_ticket(
        &self,
        digest: &str,
        user_id: &str,
        now_ms: u64,
        expires_ms: u64,
        max_live: u32,
    ) -> Result<bool>;

    /// Removes a ticket and returns (user, expires_ms), atomically: of several instances taking
    /// the same ticket at once, exactly one gets it.
    async fn take_ticket(&self, digest: &str) -> Result<Option<(String, u64)>>;

    /// Drops tickets that expired before `now_ms`.
    async fn purge_tickets(&self, now_ms: u64) -> Result<()>;

    /// Flushes and closes the database; later calls fail with 9530.
    async fn close(&self);
}
