//! What both storage backends store about conversations, messages and feed entries, and how a
//! stored row becomes what the user sees. A backend only loads and saves these.

use crate::error::server_error;
use chat_core::error::Result;
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, Message};
use chat_core::rules;
use chat_core::wire::{Change, ChangeEnvelope};

/// A user's row of `user_conversations`, selected as `ROW_COLUMNS`.
pub struct ConversationRow {
    pub conversation_id: String,
    pub thread_id: String,
    pub live: bool,
    pub cleared_seq: u64,
    pub unread: u64,
    pub order_key: u64,
}

pub const ROW_COLUMNS: &str = "conversation_id, thread_id, live, cleared_seq, unread, order_key";

impl ConversationRow {
    /// The seq of the last message to show, given the newest one the user may see: none once
    /// the conversation was cleared up to it.
    pub fn shown_last(&self, newest_visible: u64) -> Option<u64> {
        (newest_visible > self.cleared_seq).then_some(newest_visible)
    }

    /// The conversation as the user sees it; `group_name` is the stored name of a group.
    pub fn conversation(
        &self,
        id: &ConversationId,
        last_message: Option<Message>,
        group_name: Option<String>,
    ) -> Conversation {
        let (user_id, group_id, show_name) = match id {
            ConversationId::C2c(peer) => (Some(peer.clone()), None, peer.clone()),
            ConversationId::Group(g) => (
                None,
                Some(g.clone()),
                group_name.unwrap_or_else(|| g.clone()),
            ),
        };
        Conversation {
            conversation_id: self.conversation_id.clone(),
            kind: id.kind() as u8,
            user_id,
            group_id,
            show_name,
            unread_count: u32::try_from(self.unread).unwrap_or(u32::MAX),
            last_message,
            order_key: self.order_key,
        }
    }
}

/// A `messages` row, selected as `MESSAGE_COLUMNS`.
pub const MESSAGE_COLUMNS: &str = "seq, order_key, sender, text, timestamp";

/// A message row as the viewer sees it (`conversation_id` is relative to the viewer).
pub fn message(
    seq: i64,
    order_key: i64,
    sender: String,
    text: String,
    timestamp: i64,
    conversation_id: &str,
) -> Message {
    Message {
        seq: seq as u64,
        msg_id: format!("msg-{order_key}"),
        sender,
        text,
        timestamp: timestamp as u64,
        conversation_id: conversation_id.to_owned(),
    }
}

/// A feed entry as stored: messages are stored once in their thread, so the entry keeps
/// (thread, seq) references instead of a copy per participant.
pub struct StoredEntry {
    pub body: String,
    pub thread_id: Option<String>,
    pub last_seq: Option<i64>,
    pub message_seq: Option<i64>,
}

impl StoredEntry {
    pub fn new(user: &str, env: &ChangeEnvelope) -> Result<Self> {
        let mut stored = env.clone();
        let (mut thread_id, mut last_seq, mut message_seq) = (None, None, None);
        if let Change::ConversationUpdated {
            conversation,
            message,
        } = &mut stored.change
        {
            let id = ConversationId::parse(&conversation.conversation_id)?;
            thread_id = Some(rules::thread_key(user, &id));
            last_seq = conversation.last_message.take().map(|m| m.seq as i64);
            message_seq = message.take().map(|m| m.seq as i64);
        }
        Ok(StoredEntry {
            body: serde_json::to_string(&stored).map_err(server_error)?,
            thread_id,
            last_seq,
            message_seq,
        })
    }
}

/// A feed entry read back, before the messages it references are loaded.
pub struct ReadEntry {
    env: ChangeEnvelope,
    /// (thread, seq of the last message, seq of the new message)
    refs: Option<(String, Option<u64>, Option<u64>)>,
}

impl StoredEntry {
    pub fn read(self) -> Result<ReadEntry> {
        let env: ChangeEnvelope = serde_json::from_str(&self.body).map_err(server_error)?;
        let refs = match (self.thread_id, &env.change) {
            (Some(thread), Change::ConversationUpdated { .. }) => Some((
                thread,
                self.last_seq.map(|s| s as u64),
                self.message_seq.map(|s| s as u64),
            )),
            _ => None,
        };
        Ok(ReadEntry { env, refs })
    }
}

impl ReadEntry {
    /// The (thread, seq, conversation ID) of the messages to load: the last one, the new one.
    pub fn wanted(&self) -> [Option<(&str, u64, &str)>; 2] {
        let (Some((thread, last, message)), Change::ConversationUpdated { conversation, .. }) =
            (&self.refs, &self.env.change)
        else {
            return [None, None];
        };
        let conv = conversation.conversation_id.as_str();
        [
            last.map(|seq| (thread.as_str(), seq, conv)),
            message.map(|seq| (thread.as_str(), seq, conv)),
        ]
    }

    /// The entry with the messages loaded for `wanted` (in its order).
    pub fn complete(mut self, [last, new]: [Option<Message>; 2]) -> ChangeEnvelope {
        if let (
            Some((_, last_seq, message_seq)),
            Change::ConversationUpdated {
                conversation,
                message,
            },
        ) = (&self.refs, &mut self.env.change)
        {
            if last_seq.is_some() {
                conversation.last_message = last;
            }
            if message_seq.is_some() {
                *message = new;
            }
        }
        self.env
    }
}

/// Client-supplied u64s may exceed a signed 64-bit column; clamp instead of failing.
pub fn to_sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
