//! The public data shapes of the contract (`Conversation`, `Message`,
//! `ConversationOperationResult`). Serialized as the JavaScript objects applications see; the
//! server uses the same shapes on the wire with canonical (native-style) IDs.

use crate::id::{restyle, IdStyle};
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "msgID")]
    pub msg_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub sender: String,
    pub text: String,
    /// Milliseconds since the Unix epoch, set by the server.
    pub timestamp: u64,
    /// Position in the conversation's history (per conversation, starting at 1).
    pub seq: u64,
}

#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    /// 1 = C2C, 2 = GROUP.
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(rename = "userID", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub show_name: String,
    pub unread_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// Unique per user and increasing with activity: the list is sorted by it, newest first.
    pub order_key: u64,
}

impl Conversation {
    /// Seq of the newest message this snapshot knows (0 when none).
    pub fn last_seq(&self) -> u64 {
        self.last_message.as_ref().map_or(0, |m| m.seq)
    }

    /// The same conversation with every ID written in `style`.
    pub fn styled(&self, style: IdStyle) -> Conversation {
        let mut c = self.clone();
        c.conversation_id = restyle(&c.conversation_id, style);
        if let Some(m) = c.last_message.as_mut() {
            *m = m.styled(style);
        }
        c
    }
}

impl Message {
    pub fn styled(&self, style: IdStyle) -> Message {
        let mut m = self.clone();
        m.conversation_id = restyle(&m.conversation_id, style);
        m
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationOperationResult {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub result_code: u32,
    pub result_info: String,
}

/// One page of `getConversationList`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    pub conversation_list: Vec<Conversation>,
    pub next_seq: u64,
    pub is_finished: bool,
}

/// Local record of a deletion: messages up to `upto_seq` cannot bring the conversation back, and
/// with `cleared` they are not shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub upto_seq: u64,
    pub cleared: bool,
}

impl Tombstone {
    /// The seq up to which the deletion hid the history (0: it kept it).
    pub fn cleared_upto(&self) -> u64 {
        if self.cleared {
            self.upto_seq
        } else {
            0
        }
    }
}
