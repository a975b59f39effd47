//! Wire types of the SDK <-> chat-server protocol (see `docs/protocol.md`). Shared by the SDK
//! transport and the server so that both sides agree by construction. IDs on the wire are
//! canonical (native style) and relative to the authenticated user.

use crate::model::{Conversation, ConversationOperationResult, Message};
use serde::{Deserialize, Serialize};

/// Largest batch `deleteConversationList` and the server accept.
pub const MAX_DELETE_BATCH: usize = 100;
/// Largest page of conversations or messages.
pub const MAX_PAGE: usize = 100;
/// Text messages are 1–12000 bytes.
pub const MAX_TEXT_BYTES: usize = 12_000;
/// Changes per `GET /v1/changes` reply; clients loop while `hasMore`.
pub const MAX_CHANGES_PER_REPLY: usize = 1000;
/// Conversations per page of a reset reply; clients follow `nextAfter` while `hasMore`.
pub const MAX_RESET_PAGE: usize = 200;

/// Body of every non-2xx reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: u32,
    pub message: String,
}

/// `POST /v1/login`: checks that the bearer userSig belongs to this sdkAppID and userID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    #[serde(rename = "sdkAppID")]
    pub sdk_app_id: u64,
    #[serde(rename = "userID")]
    pub user_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginReply {
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Server clock, milliseconds since the epoch.
    pub server_time: u64,
    /// Whether deletions are pushed to the user's other connected clients.
    pub sync_conversation_deletion: bool,
}

/// `GET /v1/conversations?nextSeq=N&count=M`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationListReply {
    pub conversation_list: Vec<Conversation>,
    pub next_seq: u64,
    pub is_finished: bool,
}

/// `POST /v1/conversations/delete`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRequest {
    #[serde(rename = "conversationIDList")]
    pub conversation_id_list: Vec<String>,
    pub clear_message: bool,
}

/// One item of a delete reply: the public result plus what the client needs to apply it.
/// On the wire its fields are flat (`conversationID, resultCode, resultInfo, uptoSeq`); the
/// conversion avoids `#[serde(flatten)]`, whose buffering decoder costs the wasm ~10 KB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FlatDeleteItem", into = "FlatDeleteItem")]
pub struct DeleteResultItem {
    pub result: ConversationOperationResult,
    /// For a deleted item (resultCode 0): the conversation's last message seq at deletion.
    pub upto_seq: u64,
    /// For a deleted item: the seq of the `conversationDeleted` entry in the user's feed.
    pub feed_seq: u64,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlatDeleteItem {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    result_code: u32,
    result_info: String,
    #[serde(default)]
    upto_seq: u64,
    #[serde(default)]
    feed_seq: u64,
}

impl From<FlatDeleteItem> for DeleteResultItem {
    fn from(f: FlatDeleteItem) -> Self {
        DeleteResultItem {
            result: ConversationOperationResult {
                conversation_id: f.conversation_id,
                result_code: f.result_code,
                result_info: f.result_info,
            },
            upto_seq: f.upto_seq,
            feed_seq: f.feed_seq,
        }
    }
}

impl From<DeleteResultItem> for FlatDeleteItem {
    fn from(d: DeleteResultItem) -> Self {
        FlatDeleteItem {
            conversation_id: d.result.conversation_id,
            result_code: d.result.result_code,
            result_info: d.result.result_info,
            upto_seq: d.upto_seq,
            feed_seq: d.feed_seq,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReply {
    pub results: Vec<DeleteResultItem>,
}

/// `POST /v1/messages`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub text: String,
}

/// Reply to a send: the message and the sender's conversation after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReply {
    pub message: Message,
    pub conversation: Conversation,
    /// The seq of the sender's `conversationUpdated` feed entry for this message.
    #[serde(default)]
    pub feed_seq: u64,
}

/// `GET /v1/messages?conversationID=X&count=N[&beforeSeq=S]`: newest first, only what this user
/// may see (nothing at or below a cleared seq). `hasMore`: the page was cut by the server's byte
/// budget before `count` messages, and older ones follow: ask again with `beforeSeq` = the seq of
/// the last message returned (a page of `count` messages says nothing either way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryReply {
    pub message_list: Vec<Message>,
    #[serde(default)]
    pub has_more: bool,
}

/// `POST /v1/conversations/read` with `{ "conversationID": ... }`: the conversation after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkReadRequest {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
}

/// Reply to `POST /v1/conversations/read`: the conversation after the read mark and the seq
/// of the `conversationUpdated` feed entry the mark wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReply {
    pub conversation: Conversation,
    #[serde(default)]
    pub feed_seq: u64,
}

/// A change to one user's conversations. The same values travel in the change feed, over the
/// WebSocket push, and between tabs. On the wire: `{"kind": "conversationUpdated",
/// "conversation": {...}, "message": {...}?}` or `{"kind": "conversationDeleted",
/// "conversationID": "...", "clearMessage": bool, "uptoSeq": N}`, plus `seq` in an envelope.
///
/// Encoded through a flat struct rather than `#[serde(tag)]`/`flatten`, whose buffering decoder
/// costs the wasm package ~10 KB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FlatChange", into = "FlatChange")]
#[allow(clippy::large_enum_variant)] // short-lived values; boxing would only add allocations
pub enum Change {
    /// The conversation as it now is; `message` is the new message that caused it, if any.
    ConversationUpdated {
        conversation: Conversation,
        message: Option<Message>,
    },
    /// The user deleted the conversation when its newest message had seq `uptoSeq`.
    ConversationDeleted {
        conversation_id: String,
        clear_message: bool,
        upto_seq: u64,
    },
}

/// A change with its position in the user's feed (1, 2, 3, ... per user).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FlatChange", into = "FlatChange")]
pub struct ChangeEnvelope {
    pub seq: u64,
    pub change: Change,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlatChange {
    #[serde(default, skip_serializing_if = "is_zero")]
    seq: u64,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conversation: Option<Conversation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
    #[serde(
        rename = "conversationID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear_message: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upto_seq: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

const UPDATED: &str = "conversationUpdated";
const DELETED: &str = "conversationDeleted";

impl TryFrom<FlatChange> for Change {
    type Error = String;
    fn try_from(f: FlatChange) -> Result<Self, String> {
        match (f.kind.as_str(), f.conversation, f.conversation_id) {
            (UPDATED, Some(conversation), _) => Ok(Change::ConversationUpdated {
                conversation,
                message: f.message,
            }),
            (DELETED, _, Some(conversation_id)) => Ok(Change::ConversationDeleted {
                conversation_id,
                clear_message: f.clear_message.unwrap_or(false),
                upto_seq: f.upto_seq.unwrap_or(0),
            }),
            (kind, _, _) => Err(format!("unknown or incomplete change of kind {kind:?}")),
        }
    }
}

impl From<Change> for FlatChange {
    fn from(c: Change) -> Self {
        match c {
            Change::ConversationUpdated {
                conversation,
                message,
            } => FlatChange {
                kind: UPDATED.into(),
                conversation: Some(conversation),
                message,
                ..Default::default()
            },
            Change::ConversationDeleted {
                conversation_id,
                clear_message,
                upto_seq,
            } => FlatChange {
                kind: DELETED.into(),
                conversation_id: Some(conversation_id),
                clear_message: Some(clear_message),
                upto_seq: Some(upto_seq),
                ..Default::default()
            },
        }
    }
}

impl TryFrom<FlatChange> for ChangeEnvelope {
    type Error = String;
    fn try_from(f: FlatChange) -> Result<Self, String> {
        let seq = f.seq;
        Ok(ChangeEnvelope {
            seq,
            change: Change::try_from(f)?,
        })
    }
}

impl From<ChangeEnvelope> for FlatChange {
    fn from(e: ChangeEnvelope) -> Self {
        FlatChange {
            seq: e.seq,
            ..FlatChange::from(e.change)
        }
    }
}

/// `GET /v1/changes?since=N[&after=ID]`. With `since = 0`, or a cursor the server does not know,
/// the reply is a reset: `conversations` holds live conversations (ordered by conversationID, at
/// most `MAX_RESET_PAGE`) and `changes` is empty. A reset with `hasMore` names in `nextAfter` the
/// last conversationID of the page; the client asks `since=0&after=<nextAfter>` for the next page.
/// `cursor` is the user's newest feed seq when the page was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesReply {
    pub cursor: u64,
    #[serde(default)]
    pub reset: bool,
    #[serde(default)]
    pub conversations: Vec<Conversation>,
    #[serde(default)]
    pub changes: Vec<ChangeEnvelope>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /dev/usersig?userID=X` (only with `--dev`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSigReply {
    pub user_sig: String,
}

/// `POST /dev/groups` (only with `--dev`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupRequest {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// `GET /v1/info` (no auth): what a client or the demo needs to know about this server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    #[serde(rename = "sdkAppID")]
    pub sdk_app_id: u64,
    pub sync_conversation_deletion: bool,
    pub dev: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_envelope_json_shape() {
        let env = ChangeEnvelope {
            seq: 7,
            change: Change::ConversationDeleted {
                conversation_id: "c2c_bob".into(),
                clear_message: true,
                upto_seq: 3,
            },
        };
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq": 7, "kind": "conversationDeleted",
                "conversationID": "c2c_bob", "clearMessage": true, "uptoSeq": 3})
        );
        let back: ChangeEnvelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn delete_item_flattens_public_result() {
        let item = DeleteResultItem {
            result: ConversationOperationResult {
                conversation_id: "c2c_bob".into(),
                result_code: 0,
                result_info: String::new(),
            },
            upto_seq: 4,
            feed_seq: 9,
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"conversationID": "c2c_bob", "resultCode": 0, "resultInfo": "", "uptoSeq": 4, "feedSeq": 9})
        );
    }
}
