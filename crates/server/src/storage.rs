//! The storage interface the handlers use. SQLite implements it (sqlite.rs); another database
//! only needs another implementation. Every write commits the affected users' feed entries in
//! the same transaction and hands them to the `ChangeSink` after the commit, in feed order.

use async_trait::async_trait;
use chat_core::error::Result;
use chat_core::id::ConversationId;
use chat_core::model::Conversation;
use chat_core::wire::{
    ChangeEnvelope, ChangesReply, ConversationListReply, HistoryReply, SendReply,
};

/// Receives committed changes (the WebSocket push). Called with the writer still serialized so
/// that each user's changes arrive in feed order; must not block.
pub trait ChangeSink: Send + Sync {
    fn publish(&self, user_id: &str, change: &ChangeEnvelope);
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

    /// Appends a text message (C2C: both sides; group: members only, else 10007).
    async fn send_text(
        &self,
        user_id: &str,
        id: &ConversationId,
        text: &str,
        now_ms: u64,
    ) -> Result<SendReply>;

    /// Messages newest first with seq < `before_seq` (None = newest), hiding cleared ones.
    async fn history(
        &self,
        user_id: &str,
        id: &ConversationId,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply>;

    /// Unread 0 for a live conversation, or 2500.
    async fn mark_read(&self, user_id: &str, id: &ConversationId) -> Result<Conversation>;

    /// Deletes each (distinct, valid) conversation; per item `Ok(uptoSeq)` or its error.
    async fn delete_conversations(
        &self,
        user_id: &str,
        ids: &[ConversationId],
        clear_message: bool,
    ) -> Result<Vec<Result<u64>>>;

    /// The change feed after `since`, or a reset (see docs/protocol.md).
    async fn changes(&self, user_id: &str, since: u64, limit: usize) -> Result<ChangesReply>;

    /// Creates or replaces a group and its member list.
    async fn upsert_group(&self, group_id: &str, name: &str, members: &[String]) -> Result<()>;

    /// Flushes and closes the database; later calls fail with 9530.
    async fn close(&self);
}
