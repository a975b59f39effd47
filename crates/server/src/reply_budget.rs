//! The bounds of a `changes`, history or conversation-list reply, shared by the storage
//! backends: at most a number of items and about `REPLY_BYTES` of JSON (at least one item is
//! always returned). Each backend builds items in its own (sync or async) loop and asks the
//! budget before and after each one.

use crate::error::server_error;
use crate::storage::REPLY_BYTES;
use chat_core::error::Result;
use chat_core::model::{Conversation, Message};
use chat_core::wire::{
    ChangeEnvelope, ChangesReply, ConversationListReply, HistoryReply, MAX_RESET_PAGE,
};
use serde::Serialize;

pub struct ReplyBudget<T> {
    items: Vec<T>,
    max: usize,
    bytes: usize,
    has_more: bool,
}

impl<T: Serialize> ReplyBudget<T> {
    fn new(max: usize) -> Self {
        ReplyBudget {
            items: Vec::new(),
            max,
            bytes: 0,
            has_more: false,
        }
    }

    /// How many rows to fetch: one more than fits, to learn whether there are more.
    pub fn rows_to_fetch(&self) -> u64 {
        self.max as u64 + 1
    }

    /// Whether another item may be built; false (the reply has more) once the count is reached.
    pub fn has_room(&mut self) -> bool {
        if self.items.len() == self.max {
            self.has_more = true;
        }
        !self.has_more
    }

    /// Takes `item` unless it would take the reply over `REPLY_BYTES` (the first always fits);
    /// false means the reply is full and has more.
    pub fn admit(&mut self, item: T) -> Result<bool> {
        self.bytes += json_len(&item)?;
        if self.bytes > REPLY_BYTES && !self.items.is_empty() {
            self.has_more = true;
            return Ok(false);
        }
        self.items.push(item);
        Ok(true)
    }
}

impl<T> ReplyBudget<T> {
    /// Items admitted so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the reply is full (by count or bytes).
    pub fn is_full(&self) -> bool {
        self.has_more || self.items.len() == self.max
    }
}

impl ReplyBudget<Conversation> {
    /// A page of the conversation list: at most `count` conversations.
    pub fn list_page(count: usize) -> Self {
        Self::new(count)
    }

    /// The list reply; a page cut by count or bytes is not finished and continues below the
    /// orderKey of its last conversation.
    pub fn into_list_reply(self) -> ConversationListReply {
        ConversationListReply {
            next_seq: self.items.last().map_or(0, |c| c.order_key),
            conversation_list: self.items,
            is_finished: !self.has_more,
        }
    }

    /// A reset page: at most `MAX_RESET_PAGE` conversations.
    pub fn reset_page() -> Self {
        Self::new(MAX_RESET_PAGE)
    }

    /// The reset reply at feed position `newest`, continuing after its last conversation.
    pub fn into_reset_reply(self, newest: u64) -> ChangesReply {
        let conversations = self.items;
        ChangesReply {
            cursor: newest,
            reset: true,
            next_after: self
                .has_more
                .then(|| conversations.last().map(|c| c.conversation_id.clone()))
                .flatten(),
            conversations,
            changes: Vec::new(),
            has_more: self.has_more,
        }
    }
}

impl ReplyBudget<ChangeEnvelope> {
    /// At most `limit` feed entries.
    pub fn feed(limit: usize) -> Self {
        Self::new(limit)
    }

    /// The incremental reply after `since`, its cursor at the last entry returned.
    pub fn into_feed_reply(self, since: u64) -> ChangesReply {
        let changes = self.items;
        ChangesReply {
            cursor: changes.last().map_or(since, |e| e.seq),
            reset: false,
            conversations: Vec::new(),
            changes,
            has_more: self.has_more,
            next_after: None,
        }
    }
}

impl ReplyBudget<Message> {
    /// A history page: at most `count` messages.
    pub fn history(count: usize) -> Self {
        Self::new(count)
    }

    /// Only a page cut by bytes says `hasMore` (see `HistoryReply`).
    pub fn into_history_reply(self) -> HistoryReply {
        let cut = self.has_more && self.items.len() < self.max;
        HistoryReply {
            message_list: self.items,
            has_more: cut,
        }
    }
}

fn json_len<T: Serialize>(value: &T) -> Result<usize> {
    serde_json::to_vec(value)
        .map(|v| v.len())
        .map_err(server_error)
}
