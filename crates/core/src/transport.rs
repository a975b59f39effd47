//! What the SDK asks of the chat server. The browser implements it over HTTP (`fetch`); the core
//! tests use an in-process fake. Pushed changes (WebSocket) enter through `Engine::on_pushes`.

use crate::error::Result;
use crate::model::Conversation;
use crate::wire::{
    ChangesReply, DeleteReply, DeleteRequest, HistoryReply, LoginReply, LoginRequest, ReadReply,
    SendReply, SendRequest,
};
use async_trait::async_trait;

#[async_trait(?Send)]
pub trait Transport {
    /// Verifies the userSig for this app and user; later calls authenticate with it.
    async fn login(&self, request: &LoginRequest, user_sig: &str) -> Result<LoginReply>;
    /// Forgets the credentials (no request).
    fn logout(&self);
    async fn get_conversation(&self, conversation_id: &str) -> Result<Conversation>;
    async fn delete_conversations(&self, request: &DeleteRequest) -> Result<DeleteReply>;
    async fn send_text(&self, request: &SendRequest) -> Result<SendReply>;
    async fn history(
        &self,
        conversation_id: &str,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply>;
    async fn mark_read(&self, conversation_id: &str) -> Result<ReadReply>;
    /// `GET /v1/changes?since=N[&after=ID]`: `after` asks for the next page of a reset.
    async fn changes(&self, since: u64, after: Option<&str>) -> Result<ChangesReply>;
}
